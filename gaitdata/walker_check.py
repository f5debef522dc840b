"""Does a video track look like a walking person? Shape, travel and gait rhythm, with reasons.

Background subtraction and tracking find anything that moves and is roughly person-sized: a
dancer's swirling skirt, a sign carried past, a flag, a rigid cut-out on a trolley. A track is a
*walker* only if all three of these hold (`check_walker`):

1. **person-shaped**: the median box is taller than wide (`aspect`); in the track's mean
   pretreated silhouette the top is no wider than the torso (`max_head_ratio`) and the lower
   body is not much wider than the torso (`max_lower_ratio`: legs, not a skirt's cone or a
   tumbling blob); two legs show, apart, in some frames (`min_leg_split`: a blob, a crate, a
   skirt never split; not asked of a track walking towards / away from the camera, whose legs
   overlap in the image); consecutive silhouettes overlap as one body's do (`min_shape_overlap`:
   fragments change shape from frame to frame);
2. **travelling**: the feet move across the view (`min_travel` body heights from start to end),
   or the box grows / shrinks (`min_growth`: walking towards or away from the camera), no
   faster than a walk or a jog (`max_speed` body heights per second);
3. **gait rhythm**: the span of the legs (apart / together; side views) or the lower body's
   area (frontal views, where the legs move in depth) swings widely enough (`min_gait_swing`:
   a rigid shape has none), with its dominant period in the range of a human step or stride
   (`stride_s`, 0.8-1.6 s per stride; the legs part twice per stride) at the video's frame
   rate: most of its power in that band (`min_gait_share`) or a clear repeat at such a lag
   (`min_gait_strength`, autocorrelation). The more walker-like of the two signals counts.

Every threshold is a field of `WalkerCheck` with its default documented there; the defaults
keep the real pedestrians of PETS 2009's vtest.avi and procedural walkers, and refuse the
synthetic non-walkers of `tests/test_walker_check.py`. `WalkerCheck(enabled=False)` (CLI
`--keep-all-tracks`) keeps every travelling track, as the extractor did before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

# Bands of the pretreated 64-row silhouette (OpenGait frames: the body spans every row).
HEAD_ROWS = slice(1, 8)  # 2-12 % of the height: the head
TORSO_ROWS = slice(14, 30)  # 22-47 %: shoulders to waist
LOWER_ROWS = slice(38, 58)  # 60-90 %: thighs to shins (feet and shadows below are left out)
LEG_ROWS = slice(44, 62)  # 69-97 %: knees to feet, where the legs part and close


@dataclass(frozen=True)
class WalkerCheck:
    """Thresholds of `check_walker`; the defaults in brackets after each.

    enabled: False keeps every travelling track (the check is measured, never applied). [True]
    aspect: allowed median box height / width (a walker at full stride ~1.8, standing 3-4;
        vtest.avi's walkers 2.2-3.3). [(1.5, 5.0)]
    max_head_ratio: the head band's mean width over the torso's (vtest.avi's people 0.34-0.77;
        a side view, whose torso is only as deep as the head is long, up to 0.95; wider on top
        is a T-shape: a flag, a tree). [1.2]
    max_lower_ratio: the lower body's mean width over the torso's (vtest.avi's people
        0.52-1.19; procedural walkers 0.44-1.5, the highest with a hand bag; a skirt's cone
        about 2). [1.6]
    min_leg_split: share of frames whose leg rows show two separate legs (foreground, gap,
        foreground in at least 30 % of the rows from knee to foot; vtest.avi's people 0.24-0.78,
        procedural walkers ~0.7; a blob, a box, a skirt: 0). People in long skirts or coats to
        the ankle are refused too: their gait is hidden. Not applied to tracks whose box grows
        or shrinks by `min_growth` (straight-on frontal walks: the legs overlap). [0.1]
    min_shape_overlap: median IoU of consecutive pretreated silhouettes (vtest.avi's walkers
        0.64-0.84 at 10 fps; procedural walkers 0.73-0.98 at 25 fps; torn pieces of something
        lower). [0.55]
    min_travel: net move of the feet from start to end, in body heights. [0.5]
    min_growth: box height ratio between the track's last and first fifth (either way) that
        counts as walking towards / away from the camera instead of across. [1.3]
    max_speed: net speed in body heights per second (a brisk walk ~1, a jog ~2; a car or a
        thrown ball is faster). [3.0]
    stride_s: seconds per gait cycle (two steps); a lower-body swing with a period of one step
        (half a stride) or one stride counts. [(0.8, 1.6)]
    min_gait_share: the signal's power inside that band, as a share of all its power (the
        band is the dominant period); one of this and `min_gait_strength` suffices. At 10 fps
        the band holds 3/8 of the spectrum, so white noise scores ~0.4; vtest.avi's walkers a
        median 0.64. [0.5]
    min_gait_strength: the signal's autocorrelation at a step or stride lag (a clear repeat).
        With `min_gait_share`, on vtest.avi's tracks: 95 % of the walkers pass, and 45 % of the
        same signals shuffled in time (white noise): the rhythm alone is a weak test at 10 fps,
        which is why it is one of several. [0.3]
    min_gait_swing: standard deviation of the signal, as a share of its mean (a rigid shape
        ~0.012 in a clean clip; straight-on frontal walkers 0.03-0.06 on the lower body's area;
        vtest.avi's walkers 0.10 and up on either signal). [0.02]
    """

    enabled: bool = True
    aspect: tuple[float, float] = (1.5, 5.0)
    max_head_ratio: float = 1.2
    max_lower_ratio: float = 1.6
    min_leg_split: float = 0.1
    min_shape_overlap: float = 0.55
    min_travel: float = 0.5
    min_growth: float = 1.3
    max_speed: float = 3.0
    stride_s: tuple[float, float] = (0.8, 1.6)
    min_gait_share: float = 0.5
    min_gait_strength: float = 0.3
    min_gait_swing: float = 0.02

    def __post_init__(self):
        if not 0 < self.aspect[0] < self.aspect[1]:
            raise ValueError(f"aspect must be (low, high) with 0 < low < high, got {self.aspect}")
        if not 0 < self.stride_s[0] < self.stride_s[1]:
            raise ValueError(f"stride_s must be (low, high) with 0 < low < high, got {self.stride_s}")

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass
class WalkerVerdict:
    """What `check_walker` found for one track.

    Attributes:
        is_walker: keep the track: every check passed (or the check is off and it travels).
        travels: the track moves across the view or towards / away from the camera (checked
            even when the walker check is off: a track standing still has no gait to see).
        reasons: one line per failed check, e.g. "no gait rhythm: ...", empty when all passed;
            filled also when the check is off, saying what it would have refused.
        measures: the numbers behind each check (JSON-ready floats), passed or not.
    """

    is_walker: bool
    travels: bool = True
    reasons: list[str] = field(default_factory=list)
    measures: dict = field(default_factory=dict)

    @property
    def short_reason(self) -> str:
        """The first failed check's name ("not person-shaped", "no gait rhythm", ...), or ""."""
        return self.reasons[0].split(":", 1)[0] if self.reasons else ""

    def to_dict(self) -> dict:
        return {
            "is_walker": self.is_walker,
            "travels": self.travels,
            "reasons": list(self.reasons),
            "measures": dict(self.measures),
        }


# --------------------------------------------------------------------------------------------
# measures
# --------------------------------------------------------------------------------------------


def row_widths(frames: np.ndarray) -> np.ndarray:
    """Foreground pixels per row, as a share of the frame width: `float [T, H]` from `uint8 [T, H, W]`."""
    return (np.asarray(frames) > 127).mean(axis=2)


def body_proportions(frames: np.ndarray) -> dict[str, float]:
    """Head and lower-body width over torso width in the mean silhouette of pretreated frames.

    `frames`: `uint8 [T, 64, 64]` (pretreated: the body spans the rows, mass-centred).
    """
    profile = row_widths(frames).mean(axis=0)
    torso = max(float(profile[TORSO_ROWS].mean()), 1e-6)
    return {
        "head_ratio": float(profile[HEAD_ROWS].mean()) / torso,
        "lower_ratio": float(profile[LOWER_ROWS].mean()) / torso,
    }


def leg_split(frames: np.ndarray, min_rows: float = 0.3) -> float:
    """Share of frames in which the legs show apart: `min_rows` of the leg rows hold two or more
    separate runs of foreground. `frames`: pretreated `uint8 [T, 64, 64]`."""
    fg = np.asarray(frames)[:, LEG_ROWS, :] > 127
    starts = (np.diff(fg.astype(np.int8), axis=2) == 1).sum(axis=2) + fg[:, :, 0]  # runs per row
    return float(((starts >= 2).mean(axis=1) >= min_rows).mean())


def shape_overlap(frames: np.ndarray, frame_indices: np.ndarray) -> float:
    """Median IoU of silhouettes one video frame apart (pairs across a gap are left out; 1.0 if none)."""
    fg = np.asarray(frames) > 127
    adjacent = np.flatnonzero(np.diff(np.asarray(frame_indices)) == 1)
    if adjacent.size == 0:
        return 1.0
    a, b = fg[adjacent], fg[adjacent + 1]
    inter = (a & b).sum(axis=(1, 2))
    union = np.maximum((a | b).sum(axis=(1, 2)), 1)
    return float(np.median(inter / union))


def lower_area(frames: np.ndarray) -> np.ndarray:
    """Per frame, the foreground share of the lower half (legs forward / back change it in
    frontal views): `float [T]` from pretreated `uint8 [T, 64, 64]`."""
    f = np.asarray(frames)
    return (f[:, f.shape[1] // 2 :] > 127).mean(axis=(1, 2)).astype(np.float64)


def leg_span(frames: np.ndarray) -> np.ndarray:
    """Per frame, the span of foreground columns over the leg rows (legs apart = wide), as a share
    of the frame width: `float [T]` from pretreated `uint8 [T, 64, 64]`."""
    fg = np.asarray(frames)[:, LEG_ROWS, :] > 127
    cols = fg.any(axis=1)  # [T, W]
    w = cols.shape[1]
    first = np.argmax(cols, axis=1)
    last = w - 1 - np.argmax(cols[:, ::-1], axis=1)
    return np.where(cols.any(axis=1), (last - first + 1) / w, 0.0).astype(np.float64)


def travel(boxes: np.ndarray) -> dict[str, float]:
    """Feet (box bottom centre) displacement from start to end in body heights, and box growth.

    `boxes`: `[N, 4]` (x0, y0, x1, y1) in frame order. Start and end are medians over a fifth
    of the track (at least 1, at most 10 boxes), so one odd box cannot decide.
    """
    boxes = np.asarray(boxes, dtype=np.float64)
    feet = np.stack([(boxes[:, 0] + boxes[:, 2]) / 2, boxes[:, 3]], axis=1)
    heights = boxes[:, 3] - boxes[:, 1]
    k = max(1, min(10, len(boxes) // 5))
    moved = np.linalg.norm(np.median(feet[-k:], axis=0) - np.median(feet[:k], axis=0))
    growth = np.median(heights[-k:]) / max(np.median(heights[:k]), 1.0)
    return {
        "travel": float(moved / max(np.median(heights), 1.0)),
        "growth": float(max(growth, 1.0 / max(growth, 1e-6))),
    }


def gait_rhythm(signal: np.ndarray, frame_indices: np.ndarray, fps: float, stride_s: tuple[float, float]) -> dict:
    """How much a per-frame signal swings with the period of a human step or stride.

    The signal (one value per silhouette frame, at `frame_indices`, gaps allowed) is put on the
    video's frame grid (gaps linearly bridged) and detrended (a quadratic: a walker nearing the
    camera changes size). The gait band runs from one stride (`stride_s[1]` s, the slowest) to
    one step (`stride_s[0] / 2` s, the fastest): legs part twice per stride, and either period
    may dominate depending on the view.

    Returns: {"band_share": share of the detrended signal's power (Hann-windowed spectrum)
    inside the gait band, "period_s": the dominant period (the first autocorrelation peak at
    least 0.7 times the highest; 0 when there is none), "strength": the autocorrelation there
    when that period lies in the band (else 0), "swing": the detrended signal's standard
    deviation over its mean}.
    """
    idx = np.asarray(frame_indices, dtype=np.float64)
    grid = np.arange(idx[0], idx[-1] + 1)
    x = np.interp(grid, idx, np.asarray(signal, dtype=np.float64))
    mean = max(float(np.mean(x)), 1e-6)
    t = (grid - grid[0]) / max(len(grid) - 1, 1)
    x = x - np.polyval(np.polyfit(t, x, 2), t) if len(x) > 3 else x - x.mean()
    out = {"band_share": 0.0, "strength": 0.0, "period_s": 0.0, "swing": float(np.std(x)) / mean}
    if np.std(x) < 1e-9:
        return out
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freq = np.fft.rfftfreq(len(x), 1.0 / fps)
    in_band = (freq >= 1.0 / stride_s[1]) & (freq <= 2.0 / stride_s[0])
    out["band_share"] = float(power[in_band].sum() / max(power[1:].sum(), 1e-12))
    lo = max(2, int(np.floor(stride_s[0] / 2 * fps)))
    hi = min(len(x) // 2, int(np.ceil(stride_s[1] * fps)))
    if hi < lo + 1:
        return out
    n = len(x)
    x = x / np.linalg.norm(x)
    ac = np.array([np.dot(x[: n - k], x[k:]) * n / (n - k) for k in range(hi + 2)])  # unbiased
    peaks = [k for k in range(2, hi + 1) if ac[k] >= ac[k - 1] and ac[k] >= ac[k + 1] and ac[k] > 0]
    if peaks:
        # The period is the first peak nearly as high as the highest: a faster swing (a fan, a
        # flicker) repeats at every multiple of its period and must not pass for a stride.
        top = max(ac[k] for k in peaks)
        first = next(k for k in peaks if ac[k] >= 0.7 * top)
        out["period_s"] = first / fps
        if first >= lo:
            out["strength"] = float(ac[first])
    return out


# --------------------------------------------------------------------------------------------
# the check
# --------------------------------------------------------------------------------------------


def check_walker(
    frames: np.ndarray,
    boxes: np.ndarray,
    frame_indices: np.ndarray,
    fps: float,
    rules: WalkerCheck | None = None,
) -> WalkerVerdict:
    """Decide whether one track is a walking person; say why not.

    Args:
        frames: the track's pretreated silhouettes, `uint8 [T, 64, 64]` (0 = background).
        boxes: `[T, 4]` person boxes (x0, y0, x1, y1) of those frames, any pixel unit.
        frame_indices: `int [T]` increasing video frame of each silhouette (gaps allowed).
        fps: the video's frame rate.
        rules: thresholds (None = `WalkerCheck()`). `enabled=False` still measures, and passes
            every track that travels (the reasons it would have failed are kept in `reasons`).

    Returns:
        `WalkerVerdict`.
    """
    rules = rules or WalkerCheck()
    frames = np.asarray(frames)
    boxes = np.asarray(boxes, dtype=np.float64)
    frame_indices = np.asarray(frame_indices)
    if not (len(frames) == len(boxes) == len(frame_indices)) or len(frames) < 2:
        raise ValueError(
            f"frames, boxes and frame_indices must have the same length >= 2, got "
            f"{len(frames)}, {len(boxes)}, {len(frame_indices)}"
        )
    heights = boxes[:, 3] - boxes[:, 1]
    aspect = float(np.median(heights / np.maximum(boxes[:, 2] - boxes[:, 0], 1e-6)))
    shape = body_proportions(frames)
    overlap = shape_overlap(frames, frame_indices)
    legs = leg_split(frames)
    moved = travel(boxes)
    seconds = max((frame_indices[-1] - frame_indices[0]) / fps, 1.0 / fps)
    speed = moved["travel"] / seconds
    signals = {
        "leg_span": gait_rhythm(leg_span(frames), frame_indices, fps, rules.stride_s),
        "lower_area": gait_rhythm(lower_area(frames), frame_indices, fps, rules.stride_s),
    }

    def gait_like(r: dict) -> tuple:
        periodic = r["band_share"] >= rules.min_gait_share or r["strength"] >= rules.min_gait_strength
        return (r["swing"] >= rules.min_gait_swing and periodic, periodic, r["swing"] >= rules.min_gait_swing)

    signal = max(signals, key=lambda k: gait_like(signals[k]))  # leg_span first among equals
    rhythm = signals[signal]
    measures = {
        "box_aspect": aspect,
        **shape,
        "leg_split": legs,
        "shape_overlap": overlap,
        **moved,
        "speed_heights_per_s": speed,
        "gait_signal": signal,
        "gait_band_share": rhythm["band_share"],
        "gait_strength": rhythm["strength"],
        "gait_period_s": rhythm["period_s"],
        "gait_swing": rhythm["swing"],
    }
    measures = {k: v if isinstance(v, str) else round(float(v), 3) for k, v in measures.items()}

    reasons = []
    lo, hi = rules.aspect
    if not lo <= aspect <= hi:
        reasons.append(f"not person-shaped: box {aspect:.2f} times as tall as wide (a person: {lo:g}-{hi:g})")
    if shape["head_ratio"] > rules.max_head_ratio:
        reasons.append(
            f"not person-shaped: no head, the top is {shape['head_ratio']:.2f} of the torso's width "
            f"(a person: at most {rules.max_head_ratio:g})"
        )
    if shape["lower_ratio"] > rules.max_lower_ratio:
        reasons.append(
            f"not person-shaped: lower body {shape['lower_ratio']:.2f} times the torso's width, a cone "
            f"or blob rather than legs (a person: at most {rules.max_lower_ratio:g})"
        )
    if legs < rules.min_leg_split and moved["growth"] < rules.min_growth:
        reasons.append(
            f"not person-shaped: no legs, the lower body splits in two in {legs:.0%} of the frames "
            f"(a walker: at least {rules.min_leg_split:.0%})"
        )
    if overlap < rules.min_shape_overlap:
        reasons.append(
            f"not one body: consecutive silhouettes overlap {overlap:.2f} (IoU; a walker: at least "
            f"{rules.min_shape_overlap:g}), fragments that change shape"
        )
    travels = moved["travel"] >= rules.min_travel or moved["growth"] >= rules.min_growth
    if not travels:
        reasons.append(
            f"does not travel: feet moved {moved['travel']:.2f} body heights and the box changed size "
            f"x{moved['growth']:.2f} (a walker: {rules.min_travel:g} heights or x{rules.min_growth:g})"
        )
    if speed > rules.max_speed:
        reasons.append(f"too fast for a walker: {speed:.1f} body heights per second (at most {rules.max_speed:g})")
    s0, s1 = rules.stride_s
    if rhythm["swing"] < rules.min_gait_swing:
        reasons.append(
            f"no gait rhythm: the legs hardly move (swing of the lower body {rhythm['swing']:.3f}; a "
            f"walker: at least {rules.min_gait_swing:g}), a rigid shape"
        )
    elif rhythm["band_share"] < rules.min_gait_share and rhythm["strength"] < rules.min_gait_strength:
        reasons.append(
            f"no gait rhythm: the lower body's swing has no dominant step or stride period ({s0:g}-{s1:g} s "
            f"per stride at {fps:g} fps: {rhythm['band_share']:.2f} of its power there, autocorrelation "
            f"{rhythm['strength']:.2f}; a walker: {rules.min_gait_share:g} or {rules.min_gait_strength:g})"
        )
    is_walker = travels and (not reasons or not rules.enabled)
    return WalkerVerdict(is_walker=is_walker, travels=travels, reasons=reasons, measures=measures)
