"""Video → silhouette sequences: background subtraction, person blobs, tracking, pretreatment.

A static-camera clip goes through five steps, each a small function or class below:

1. **decode** (`open_video`), downscaled to at most `max_height` rows;
2. **foreground** (`BackgroundModel`): OpenCV MOG2 or KNN background subtraction, primed with
   a clean plate (the per-pixel median of frames spread over the clip, so people in view at
   the start are not learnt as background) and then updated slowly; shadow pixels (marked 127)
   are dropped; morphology opens away speckle and closes small gaps;
3. **person blobs** (`find_person_blobs`): connected components; fragments of one person (head,
   torso, legs split where clothing matches the background, or halves split by a pole) are
   merged, two people walking side by side are split between their heads; blobs are kept when
   their height, area, aspect and fill look like a standing person;
4. **tracking** (`WalkerTracker`): constant-velocity prediction, Hungarian assignment
   (`scipy.optimize.linear_sum_assignment`) on IoU with a centre-distance fallback, track
   birth for unmatched blobs and death after `max_gap` missed frames. A blob that covers two
   tracks (people crossing) and a blob cut by the frame edge move the track but give it no
   silhouette frame: either would teach a recognizer a wrong shape;
5. **sequences** (`extract_walkers`): per track, the crops of its own components (small holes
   filled), frames inconsistent with their neighbours dropped (`consistent_frames`), then
   `pretreat_silhouettes` (OpenGait-compatible, `uint8 [T, 64, 64]`);
6. **walker check** (`studio.data.walker_check`): a track is kept only if it travels and looks
   like a walking person (person-shaped silhouettes, a gait rhythm at a human step or stride
   period); the others are returned as `RefusedTrack`s with one reason per failed check.

Metadata of an extracted sequence: subject `"<video stem>-tNN"` (kept tracks numbered 01, 02, …
in order of first appearance; refused tracks are labelled r01, r02, … apart), condition
`"nm-01"` (a video says nothing about clothing or bags; normal walking is the honest default),
view `"unk"` (the camera angle relative to the walking direction is unknown; pass `view=` when
you know it), source = the video path, fps = the video's. `extra` holds the track's frame
indices, boxes (original-video pixels), shape statistics and the walker check's verdict.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from scipy.ndimage import median_filter
from scipy.optimize import linear_sum_assignment

from studio.data.errors import GaitDataError
from studio.data.pretreat import pretreat_silhouettes
from studio.data.sequence import GaitSequence
from studio.data.walker_check import WalkerCheck, WalkerVerdict, check_walker

logger = logging.getLogger(__name__)

METHODS = ("mog2", "knn")
TRACK_CHOICES = ("all", "longest", "largest")
DEFAULT_FPS = 25.0
SHADOW_VALUE = 127  # what MOG2/KNN write for shadow pixels; foreground is 255

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), x1/y1 exclusive, pixels


# --------------------------------------------------------------------------------------------
# 1. decode
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (`frame_count` may be approximate, or -1)."""

    path: str
    width: int
    height: int
    fps: float
    frame_count: int


def open_video(path: str | os.PathLike) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Open a video file with OpenCV's FFmpeg backend and check that it yields a frame.

    Returns the capture positioned at frame 0 and its `VideoInfo`. The caller releases it.

    Raises:
        GaitDataError: missing path, a folder, or a file FFmpeg cannot decode (not a video,
            header truncated, unsupported codec).
    """
    path = Path(path)
    if not path.exists():
        raise GaitDataError(path, "video file does not exist")
    if not path.is_file():
        raise GaitDataError(path, "is a folder, expected a video file")
    # FFmpeg explicitly: the default backend list would open `img_%02d.png`-like names as image
    # sequences and report a confusing success.
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise GaitDataError(
            path, "cannot be decoded as a video (not a video file, truncated header, or unsupported codec)"
        )
    ok, frame = cap.read()
    cap.release()  # reopen rather than seek back: seeking is inexact in some containers
    if not ok or frame is None:
        raise GaitDataError(path, "opens as a video but no frame can be decoded (corrupt or truncated file)")
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        logger.warning("%s: container reports no usable frame rate (%r); assuming %g fps", path, fps, DEFAULT_FPS)
        fps = DEFAULT_FPS
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    count = int(count) if math.isfinite(count) and count > 0 else -1
    return cap, VideoInfo(str(path), int(frame.shape[1]), int(frame.shape[0]), fps, count)


def read_video_frame(video_path: str | os.PathLike, frame_index: int) -> np.ndarray:
    """Decode one frame `uint8 [H, W, 3]` (BGR) by reading forward (exact, unlike seeking)."""
    cap, _ = open_video(video_path)
    try:
        for i in range(frame_index + 1):
            ok, frame = cap.read()
            if not ok:
                raise GaitDataError(video_path, f"frame {frame_index} cannot be decoded (the video ends at {i})")
        return frame
    finally:
        cap.release()


def _resize_to(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)


# --------------------------------------------------------------------------------------------
# 2. foreground
# --------------------------------------------------------------------------------------------


def estimate_background(
    video_path: str | os.PathLike, size: tuple[int, int], window: int, samples: int = 25
) -> np.ndarray:
    """A clean plate: the per-pixel median of `samples` frames spread over the first `window`.

    Walkers cover any pixel in only a few of the samples, so the median is the empty scene.
    Returns `uint8 [H, W, 3]` BGR at `size` (width, height).
    """
    cap, _ = open_video(video_path)
    step = max(1, window // samples)
    picked = []
    try:
        for i in range(window):
            if not cap.grab():  # grab without decoding the frames not sampled
                break
            if i % step == 0:
                ok, frame = cap.retrieve()
                if ok:
                    picked.append(_resize_to(frame, size))
    finally:
        cap.release()
    if not picked:
        raise GaitDataError(video_path, "no frame could be decoded to estimate the background")
    return np.median(np.stack(picked), axis=0).astype(np.uint8)


def _odd(n: float) -> int:
    return max(3, int(round(n)) | 1)


@dataclass(frozen=True)
class Morphology:
    """Structuring elements sized to the working resolution (tuned at 576 rows)."""

    open_kernel: np.ndarray
    close_kernel: np.ndarray

    @classmethod
    def for_height(cls, height: int) -> Morphology:
        s = height / 576.0
        # Open with a small disc (speckle); close with a tall ellipse: bodies split horizontally
        # (a belt, a shirt the colour of the road) are far more common than split sideways.
        return cls(
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(3 * s), _odd(3 * s))),
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(3 * s), _odd(7 * s))),
        )


def foreground_mask(raw: np.ndarray, morphology: Morphology) -> np.ndarray:
    """A subtractor's output `uint8 [H, W]` (0 / 127 shadow / 255) → binary `uint8` mask (0 / 255)."""
    mask = np.where(raw > SHADOW_VALUE, np.uint8(255), np.uint8(0))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, morphology.open_kernel)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, morphology.close_kernel)


class BackgroundModel:
    """MOG2 / KNN background subtraction with shadow removal and morphology.

    Args:
        method: `"mog2"` or `"knn"`.
        frame_height: working frame height (sizes the morphology).
        clean_plate: `uint8 [H, W, 3]` empty-scene image to start from (None = learn from the
            first frames, which then hold ghosts of anyone in view at the start).
        learning_rate: per-frame update rate once primed (None = OpenCV's automatic 1/n,
            fast at first; a primed model should adapt slowly or it learns slow walkers).
    """

    def __init__(
        self,
        method: str = "mog2",
        frame_height: int = 576,
        clean_plate: np.ndarray | None = None,
        learning_rate: float | None = None,
    ):
        if method == "mog2":
            self.subtractor = cv2.createBackgroundSubtractorMOG2(history=500, varThreshold=16, detectShadows=True)
        elif method == "knn":
            self.subtractor = cv2.createBackgroundSubtractorKNN(history=500, dist2Threshold=400.0, detectShadows=True)
        else:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.morphology = Morphology.for_height(frame_height)
        self.learning_rate = -1.0 if learning_rate is None else float(learning_rate)
        if clean_plate is not None:
            # MOG2 re-initialises from one frame at rate 1; KNN must fill its sample buffer.
            for _ in range(1 if method == "mog2" else 10):
                self.subtractor.apply(clean_plate, learningRate=1.0 if method == "mog2" else 0.5)

    def raw(self, frame: np.ndarray) -> np.ndarray:
        """The subtractor's output `uint8 [H, W]`: 0 background, 127 shadow, 255 foreground."""
        return self.subtractor.apply(frame, learningRate=self.learning_rate)

    def mask(self, raw: np.ndarray) -> np.ndarray:
        """Binary foreground `uint8 [H, W]` (0 / 255) from `raw`'s output."""
        return foreground_mask(raw, self.morphology)


# --------------------------------------------------------------------------------------------
# 3. person blobs
# --------------------------------------------------------------------------------------------


@dataclass
class PersonBlob:
    """One detected person in one frame: a box and the component labels that make it up."""

    box: Box
    area: int
    labels: tuple[int, ...]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class BlobFilter:
    """What a person looks like, in working-resolution pixels.

    min_height: shortest person kept; `min_area` scales with it (a 30-px person fills ~200 px).
    fragment_area: smaller components are noise, never merged into a person.
    aspect: allowed box height / width (walkers with legs apart ~1.8, standing ~3-4; the
        floor is lower so that tracking survives a frame with an arm or a bag out).
    min_fill: foreground share of the box (excludes thin diagonal streaks).
    """

    min_height: int
    min_area: int
    fragment_area: int
    aspect: tuple[float, float] = (1.1, 6.0)
    min_fill: float = 0.2

    @classmethod
    def for_height(cls, frame_height: int, min_height_frac: float = 0.05) -> BlobFilter:
        h = max(16, int(round(frame_height * min_height_frac)))
        return cls(min_height=h, min_area=int(0.12 * h * h), fragment_area=max(6, int(0.015 * h * h)))

    def is_person(self, box: Box, area: int) -> bool:
        w, h = box[2] - box[0], box[3] - box[1]
        if h < self.min_height or area < self.min_area or w <= 0:
            return False
        return self.aspect[0] <= h / w <= self.aspect[1] and area / (w * h) >= self.min_fill


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _should_merge(a: Box, b: Box, rules: BlobFilter) -> bool:
    """Are two fragments likely one person? Stacked (head/torso/legs) or side by side (a pole)."""
    m = _union(a, b)
    mh, mw = m[3] - m[1], m[2] - m[0]
    if mh / max(mw, 1) > rules.aspect[1]:
        return False
    ov_x = min(a[2], b[2]) - max(a[0], b[0])  # negative = gap
    ov_y = min(a[3], b[3]) - max(a[1], b[1])
    wa, wb, ha, hb = a[2] - a[0], b[2] - b[0], a[3] - a[1], b[3] - b[1]
    if ov_x >= 0.3 * min(wa, wb) and -ov_y <= 0.15 * mh:
        # Stacked pieces. Flat streaks are not body parts (a fluttering tape, a shadow edge);
        # a merged box over 4.5 times as tall as wide is two people one above the other (near
        # and far), not one (99 % of vtest.avi's walkers are under 4.3).
        if ha < 0.4 * wa or hb < 0.4 * wb:
            return False
        return mh / max(mw, 1) <= 4.5
    if ov_y >= 0.6 * min(ha, hb) and -ov_x <= 0.1 * mh:
        # Side by side: halves of one person split by a pole keep a person's aspect when merged;
        # two people walking together do not.
        return mh / max(mw, 1) >= 1.5
    return False


def split_side_by_side(
    labels: np.ndarray, box: Box, area: int, labs: list[int], max_aspect: float = 2.2
) -> list[tuple[Box, int]]:
    """Split a blob of two people walking side by side at the valley between their heads.

    A wide blob (height / width < `max_aspect`) whose head-and-shoulders band (top 40 %) has
    two column-profile peaks at least a head apart, with a valley below half the lower peak,
    is cut at the valley. Returns [(box, area)]: the blob itself when it is not split. Each
    part's box is tightened to its own pixels.
    """
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    if h / max(w, 1) >= max_aspect or w < 0.4 * h:
        return [(box, area)]
    body = np.isin(labels[y0:y1, x0:x1], labs)
    top = body[: max(2, int(0.4 * h))].sum(axis=0).astype(np.float64)
    k = max(1, int(0.06 * h)) | 1
    profile = np.convolve(top, np.ones(k) / k, mode="same")
    p1 = int(np.argmax(profile))
    best = None
    for p2 in range(w):
        if abs(p2 - p1) < max(2, int(0.2 * h)) or profile[p2] < 0.3 * profile[p1]:
            continue
        a, b = sorted((p1, p2))
        valley = a + int(np.argmin(profile[a : b + 1]))
        # p2 must be the highest point on its side of the valley (a real second peak).
        side = profile[valley:] if p2 > p1 else profile[: valley + 1]
        if profile[p2] < side.max():
            continue
        depth = profile[valley] / max(min(profile[p1], profile[p2]), 1e-6)
        if depth < 0.5 and (best is None or depth < best[0]):
            best = (depth, valley)
    if best is None:
        return [(box, area)]
    parts = []
    for c0, c1 in ((0, best[1]), (best[1], w)):
        part = body[:, c0:c1]
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        if rows.size == 0 or cols.size < 0.15 * h:
            return [(box, area)]  # a sliver, not a person: keep the blob whole
        part_box = (x0 + c0 + int(cols[0]), y0 + int(rows[0]), x0 + c0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
        parts.append((part_box, int(part.sum())))
    return parts


def find_person_blobs(mask: np.ndarray, rules: BlobFilter) -> tuple[np.ndarray, list[PersonBlob], int]:
    """Binary mask `uint8 [H, W]` → (component labels `int32 [H, W]`, person blobs, merges done).

    Components below `rules.fragment_area` are noise; the rest are merged into people by
    `_should_merge` (repeated until stable), side-by-side pairs split, and kept if
    `rules.is_person`. A blob's pixels are its components' pixels inside its box.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    groups: list[list] = []  # [box, area, component labels]
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area >= rules.fragment_area:
            groups.append([(x, y, x + w, y + h), area, [i]])
    merges = 0
    changed = True
    while changed and len(groups) > 1:
        changed = False
        # Largest first, so big bodies absorb their own fragments before fragments pair up.
        groups.sort(key=lambda g: -g[1])
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a, b = groups[i], groups[j]
                if _should_merge(a[0], b[0], rules):
                    groups[i] = [_union(a[0], b[0]), a[1] + b[1], a[2] + b[2]]
                    del groups[j]
                    merges += 1
                    changed = True
                    break
            if changed:
                break
    blobs = []
    for box, area, labs in groups:
        if area < rules.min_area:
            continue
        for part_box, part_area in split_side_by_side(labels, box, area, labs):
            if rules.is_person(part_box, part_area):
                blobs.append(PersonBlob(part_box, part_area, tuple(labs)))
    return labels, blobs, merges


def fill_small_holes(mask: np.ndarray, max_fraction: float = 0.08) -> np.ndarray:
    """Fill enclosed background regions smaller than `max_fraction` of the foreground area.

    Small holes are clothing that matched the background; large enclosed regions (the gap
    between the legs when the feet close the loop) are real and stay. `uint8` 0/255 in and out.
    """
    holes = (mask == 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    if n <= 2:
        return mask
    h, w = mask.shape
    limit = max_fraction * float(np.count_nonzero(mask))
    out = mask.copy()
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        touches_edge = x == 0 or y == 0 or x + bw == w or y + bh == h
        if not touches_edge and area <= limit:
            out[labels == i] = 255
    return out


# --------------------------------------------------------------------------------------------
# 4. tracking
# --------------------------------------------------------------------------------------------


def box_iou(a: Box | np.ndarray, b: Box | np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    inter = _intersection(a, b)
    if inter <= 0:
        return 0.0
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def _intersection(a, b) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    return float(max(iw, 0) * max(ih, 0))


def _box_area(box) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))


def _centre(box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0])


@dataclass
class _LiveTrack:
    uid: int
    box: np.ndarray  # float [4], last observed box
    last_frame: int
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # centre px / frame
    missed: int = 0
    frames: list[int] = field(default_factory=list)  # frames with a silhouette
    boxes: list[Box] = field(default_factory=list)  # working-resolution boxes of those frames
    crops: list[np.ndarray] = field(default_factory=list)  # uint8 0/255 masks of those boxes
    shares: list[float] = field(default_factory=list)  # largest component's share of each crop
    seen: list[tuple[int, Box]] = field(default_factory=list)  # every observation, silhouette or not
    occluded: int = 0
    partial: int = 0

    def predict(self, frame_index: int) -> np.ndarray:
        shift = self.velocity * (frame_index - self.last_frame)
        return self.box + np.array([shift[0], shift[1], shift[0], shift[1]])

    def observe(self, frame_index: int, box: Box) -> None:
        new = np.asarray(box, dtype=np.float64)
        if self.seen:
            step = (_centre(new) - _centre(self.box)) / max(1, frame_index - self.last_frame)
            # Smoothed velocity: blob boxes jitter with arm and leg swing.
            self.velocity = 0.5 * self.velocity + 0.5 * step
        self.box = new
        self.last_frame = frame_index
        self.missed = 0
        self.seen.append((frame_index, box))


class WalkerTracker:
    """Multi-person tracker over per-frame `PersonBlob`s (Hungarian assignment, gap tolerance).

    Args:
        frame_size: (width, height) of the working frames, to spot blobs cut by the border.
        max_gap: frames a track may go unseen (occluded, missed) before it ends.
        min_iou: below this IoU the centre distance decides (fast walkers at low fps).
        max_centre_dist: centre-distance gate, in box heights.
    """

    _NO_MATCH = 1e6

    def __init__(
        self, frame_size: tuple[int, int], max_gap: int = 5, min_iou: float = 0.1, max_centre_dist: float = 0.6
    ):
        self.width, self.height = frame_size
        self.max_gap = max_gap
        self.min_iou = min_iou
        self.max_centre_dist = max_centre_dist
        self.live: list[_LiveTrack] = []
        self.ended: list[_LiveTrack] = []
        self._next_uid = 0

    def _cost(self, track: _LiveTrack, pred: np.ndarray, box: Box) -> float:
        ph, bh = pred[3] - pred[1], box[3] - box[1]
        # A person does not change size that fast. After missed or occluded frames the gate is
        # tighter: that is when a track would jump to a passer-by or someone standing nearby.
        low, high = (0.6, 1.7) if track.missed == 0 else (0.8, 1.25)
        if not low <= bh / max(ph, 1e-6) <= high:
            return self._NO_MATCH
        iou = box_iou(pred, box)
        if iou >= self.min_iou:
            return 1.0 - iou
        dist = float(np.linalg.norm(_centre(pred) - _centre(box))) / max(ph, bh)
        return 1.0 + dist if dist <= self.max_centre_dist else self._NO_MATCH

    def _touches_border(self, box: Box) -> bool:
        m = 2
        return box[0] <= m or box[1] <= m or box[2] >= self.width - m or box[3] >= self.height - m

    def _observe(self, track: _LiveTrack, frame_index: int, labels: np.ndarray, blob: PersonBlob) -> bool:
        """Move `track` to `blob`; keep its silhouette unless the frame edge cuts it."""
        track.observe(frame_index, blob.box)
        if self._touches_border(blob.box):
            track.partial += 1
            return False
        x0, y0, x1, y1 = blob.box
        crop = fill_small_holes(np.isin(labels[y0:y1, x0:x1], blob.labels).astype(np.uint8) * 255)
        track.crops.append(crop)
        track.shares.append(largest_component_share(crop))
        track.frames.append(frame_index)
        track.boxes.append(blob.box)
        return True

    def update(self, frame_index: int, labels: np.ndarray, blobs: list[PersonBlob]) -> int:
        """Associate one frame's blobs with tracks; returns how many tracks got a silhouette.

        `labels` is `find_person_blobs`' component image, from which silhouettes are cut.
        """
        preds = [t.predict(frame_index) for t in self.live]
        match: dict[int, int] = {}  # blob index -> track index
        if preds and blobs:
            cost = np.array([[self._cost(t, p, b.box) for b in blobs] for t, p in zip(self.live, preds, strict=True)])
            rows, cols = linear_sum_assignment(cost)
            match = {int(c): int(r) for r, c in zip(rows, cols, strict=True) if cost[r, c] < self._NO_MATCH}
        matched_tracks = set(match.values())

        added = 0
        for j, track_index in match.items():
            blob, track = blobs[j], self.live[track_index]
            # A blob that also swallows another live track's predicted box is two people merged:
            # neither gets this frame, both coast on their prediction.
            swallowed = [
                k
                for k, p in enumerate(preds)
                if k not in matched_tracks and _intersection(p, blob.box) >= 0.5 * _box_area(p)
            ]
            if swallowed:
                for k in [track_index, *swallowed]:
                    self.live[k].occluded += 1
                track.missed += 1
                continue
            added += self._observe(track, frame_index, labels, blob)
        for k, track in enumerate(self.live):
            if k not in matched_tracks:
                track.missed += 1

        # Unmatched blobs start tracks, unless they lie on a tracked person (a stray fragment).
        for j, blob in enumerate(blobs):
            if j in match or any(_intersection(p, blob.box) >= 0.5 * _box_area(blob.box) for p in preds):
                continue
            self._next_uid += 1
            track = _LiveTrack(self._next_uid, np.asarray(blob.box, dtype=np.float64), frame_index)
            self.live.append(track)
            added += self._observe(track, frame_index, labels, blob)

        self.ended.extend(t for t in self.live if t.missed > self.max_gap)
        self.live = [t for t in self.live if t.missed <= self.max_gap]
        return added

    def active_count(self, min_frames: int) -> int:
        """Live tracks seen this frame that already hold `min_frames` silhouettes."""
        return sum(1 for t in self.live if t.missed == 0 and len(t.frames) >= min_frames)

    def finish(self) -> list[_LiveTrack]:
        """End every track; returns all of them in order of first appearance."""
        self.ended.extend(self.live)
        self.live = []
        return sorted(self.ended, key=lambda t: t.seen[0][0])


# --------------------------------------------------------------------------------------------
# 5. sequences
# --------------------------------------------------------------------------------------------


@dataclass
class Track:
    """One walker's path through the video (the track behind one extracted sequence).

    Attributes:
        track_id: 1, 2, … in order of first appearance among the kept tracks.
        frame_indices: `int64 [N]` video frame of each silhouette frame (gaps: occlusions,
            frames cut by the edge, inconsistent frames dropped).
        boxes: `int64 [N, 4]` person box (x0, y0, x1, y1) in original-video pixels per frame.
        occluded_frames: frames left out because the blob merged with another person.
        partial_frames: frames left out because the blob touched the frame edge.
        verdict: what `check_walker` measured (kept with `WalkerCheck(enabled=False)` even when
            it would have refused the track: `verdict.reasons` then says why).
    """

    track_id: int
    frame_indices: np.ndarray
    boxes: np.ndarray
    occluded_frames: int = 0
    partial_frames: int = 0
    verdict: WalkerVerdict | None = None  # the walker check's findings (None: not checked)

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))

    @property
    def heights(self) -> np.ndarray:
        return self.boxes[:, 3] - self.boxes[:, 1]

    @property
    def widths(self) -> np.ndarray:
        return self.boxes[:, 2] - self.boxes[:, 0]

    def box_at(self, frame_index: int) -> np.ndarray | None:
        """The box at a video frame, or None when the track has no silhouette there."""
        hit = np.flatnonzero(self.frame_indices == frame_index)
        return self.boxes[hit[0]] if hit.size else None


@dataclass
class RefusedTrack:
    """A track long enough to be a walker that the walker check refused.

    Attributes:
        label: "r01", "r02", … in order of first appearance among the refused tracks.
        frame_indices: `int64 [N]` video frame of each silhouette frame.
        boxes: `int64 [N, 4]` boxes (x0, y0, x1, y1) in original-video pixels.
        verdict: `verdict.reasons` says why, one line per failed check; `verdict.measures` the numbers.
    """

    label: str
    frame_indices: np.ndarray
    boxes: np.ndarray
    verdict: WalkerVerdict

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))

    @property
    def reason(self) -> str:
        return "; ".join(self.verdict.reasons)

    def box_at(self, frame_index: int) -> np.ndarray | None:
        hit = np.flatnonzero(self.frame_indices == frame_index)
        return self.boxes[hit[0]] if hit.size else None


@dataclass
class VideoExtraction:
    """Everything `extract_walkers` found in a video.

    Attributes:
        sequences: one `GaitSequence` per kept track, `uint8 [T, 64, 64]`.
        tracks: the matching `Track`s (same order).
        num_frames_read: frames decoded.
        fps: the video's frame rate.
        frame_size: (width, height) of the original video.
        method: "mog2" or "knn".
        timings: seconds per stage (background, decode, subtract, blobs, track, pretreat).
        stats: counts that explain the result (blobs seen, tracks rejected and why, ...).
        snapshot: `uint8 [H, W, 3]` BGR frame (original size) with the most long tracks in
            view, for contact sheets; `snapshot_index` is its frame number (-1: none).
        refused: tracks of at least `min_frames` silhouettes that the walker check refused,
            each with its reasons.
        walker_check: the thresholds used.
    """

    sequences: list[GaitSequence]
    tracks: list[Track]
    num_frames_read: int
    fps: float
    frame_size: tuple[int, int]
    method: str
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    snapshot: np.ndarray | None = None
    snapshot_index: int = -1
    refused: list[RefusedTrack] = field(default_factory=list)
    walker_check: WalkerCheck = field(default_factory=WalkerCheck)

    @property
    def frames_per_second(self) -> float:
        """Processing speed: frames read per second of extraction time."""
        total = sum(self.timings.values())
        return self.num_frames_read / total if total > 0 else float("nan")


def largest_component_share(mask: np.ndarray) -> float:
    """Share of a mask's foreground in its largest 8-connected component (1.0 = one piece)."""
    n, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return float(areas.max() / areas.sum()) if n > 1 else 0.0


def consistent_frames(
    boxes: np.ndarray,
    areas: np.ndarray,
    shares: np.ndarray | None = None,
    window: int = 9,
    min_aspect: float = 1.6,
    min_share: float = 0.8,
) -> np.ndarray:
    """Which frames of a track hold one whole person: `bool [N]`.

    `boxes` `[N, 4]` (x0, y0, x1, y1), foreground `areas` `[N]` and (optionally) `shares` `[N]`
    (`largest_component_share`) per frame. Rejected: a silhouette in pieces (largest piece
    under `min_share`: torn by occluders or by clothing the colour of the ground; 1.5 % of
    vtest.avi's frames, all visibly broken); a box less than `min_aspect` times as tall as wide
    (one walker at full stride is ~1.8; 99 % of vtest.avi's walker boxes are taller than 1.58;
    wider is two people side by side or something merged in); a frame whose box height, width
    or area strays from the running median over `window` frames (so a walker nearing the
    camera may grow): a passer-by merged in, a sliver of someone leaving the view.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    heights = boxes[:, 3] - boxes[:, 1]
    widths = boxes[:, 2] - boxes[:, 0]
    aspect_ok = heights >= min_aspect * widths
    if shares is not None:
        aspect_ok &= np.asarray(shares, dtype=np.float64) >= min_share
    if len(heights) < 3:
        return aspect_ok
    areas = np.asarray(areas, dtype=np.float64)
    size = min(window, len(heights) | 1)

    def relative(x):
        # "mirror": the edge frame counts once, so a bad last frame cannot outvote its neighbours.
        return x / np.maximum(median_filter(x, size=size, mode="mirror"), 1)

    rel_h, rel_w, rel_a = relative(heights), relative(widths), relative(areas)
    # Width swings with the stride (legs together / apart), so its band is the widest.
    return (
        aspect_ok
        & (np.abs(np.log(rel_h)) < np.log(1.25))
        & (np.abs(np.log(rel_w)) < np.log(1.8))
        & (np.abs(np.log(np.maximum(rel_a, 1e-6))) < np.log(1.65))
    )


def _pad_to_canvas(crops: list[np.ndarray]) -> np.ndarray:
    """Crops of varying size → `uint8 [T, H, W]`, each top-aligned and horizontally centred.

    Zero padding does not change pretreatment (rows are cropped, mass-centred, window-cut).
    """
    h = max(c.shape[0] for c in crops)
    w = max(c.shape[1] for c in crops)
    out = np.zeros((len(crops), h, w), np.uint8)
    for i, c in enumerate(crops):
        left = (w - c.shape[1]) // 2
        out[i, : c.shape[0], left : left + c.shape[1]] = c
    return out


def _shape_stats(boxes: np.ndarray, crops: list[np.ndarray]) -> dict:
    h = boxes[:, 3] - boxes[:, 1]
    w = boxes[:, 2] - boxes[:, 0]
    area = np.array([np.count_nonzero(c) for c in crops], dtype=np.float64)
    rel = np.abs(np.diff(area)) / np.maximum(area[:-1], 1.0) if len(area) > 1 else np.zeros(1)
    return {
        "box_hw_ratio_median": round(float(np.median(h / np.maximum(w, 1))), 3),
        "box_height_px_median": round(float(np.median(h)), 1),
        "area_rel_change_median": round(float(np.median(rel)), 3),
    }


@dataclass
class _Scan:
    """What one pass over the frames produced (internal to `extract_walkers`)."""

    tracks: list[_LiveTrack]
    num_frames: int
    work_size: tuple[int, int]
    timings: dict[str, float]
    stats: dict[str, int]
    snapshot: np.ndarray | None
    snapshot_index: int


def _scan_video(
    video_path: str | os.PathLike,
    info: VideoInfo,
    method: str,
    max_frames: int | None,
    max_height: int,
    warmup_frames: int | None,
    prime_background: bool,
    min_height_frac: float,
    max_gap: int | None,
    min_frames: int,
    progress: Callable[[int, int], None] | None,
) -> _Scan:
    """Steps 1-4 over every frame: decode, foreground, blobs, tracking."""
    scale = min(1.0, max_height / info.height)
    work_size = (max(1, round(info.width * scale)), max(1, round(info.height * scale)))
    timings = dict.fromkeys(("background", "decode", "subtract", "blobs", "track"), 0.0)
    expected = info.frame_count if max_frames is None else max_frames
    if info.frame_count > 0 and max_frames is not None:
        expected = min(max_frames, info.frame_count)

    t0 = time.perf_counter()
    plate, learning_rate = None, None
    if prime_background:
        # The plate's median spans up to 30 s; after priming, the model forgets over ~20 s.
        window = round(30 * info.fps) if expected < 0 else min(expected, round(30 * info.fps))
        plate = estimate_background(video_path, work_size, max(1, window))
        learning_rate = 1.0 / (20.0 * info.fps)
    model = BackgroundModel(method, work_size[1], plate, learning_rate)
    warmup = warmup_frames if warmup_frames is not None else (3 if prime_background else 10)
    rules = BlobFilter.for_height(work_size[1], min_height_frac)
    gap = max_gap if max_gap is not None else max(2, round(0.6 * info.fps))
    tracker = WalkerTracker(work_size, max_gap=gap)
    timings["background"] = time.perf_counter() - t0

    stats = {"person_blobs": 0, "fragment_merges": 0}
    snapshot, snapshot_index, best_active = None, -1, 0
    cap, _ = open_video(video_path)
    n = 0
    try:
        while max_frames is None or n < max_frames:
            t0 = time.perf_counter()
            ok, frame = cap.read()
            if not ok or frame is None:
                break
            work = _resize_to(frame, work_size)
            t1 = time.perf_counter()
            raw = model.raw(work)
            t2 = time.perf_counter()
            timings["decode"] += t1 - t0
            timings["subtract"] += t2 - t1
            if n >= warmup:
                labels, blobs, merges = find_person_blobs(model.mask(raw), rules)
                t3 = time.perf_counter()
                tracker.update(n, labels, blobs)
                timings["blobs"] += t3 - t2
                timings["track"] += time.perf_counter() - t3
                stats["person_blobs"] += len(blobs)
                stats["fragment_merges"] += merges
                active = tracker.active_count(min_frames)
                if active > best_active:  # rare: only a new maximum copies the frame
                    snapshot, snapshot_index, best_active = frame.copy(), n, active
            n += 1
            if progress is not None:
                progress(n, expected)
    finally:
        cap.release()
    stats["warmup_frames"] = warmup
    return _Scan(tracker.finish(), n, work_size, timings, stats, snapshot, snapshot_index)


def extract_walkers(
    video_path: str | os.PathLike,
    method: str = "mog2",
    min_frames: int = 20,
    max_frames: int | None = None,
    track: str = "all",
    max_height: int = 576,
    prime_background: bool = True,
    warmup_frames: int | None = None,
    min_height_frac: float = 0.05,
    min_travel: float | None = None,
    max_gap: int | None = None,
    condition: str = "nm-01",
    view: str = "unk",
    allow_truncated: bool = False,
    walker_check: WalkerCheck | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> VideoExtraction:
    """Extract one silhouette sequence per walking person from a static-camera video.

    Args:
        video_path: any video FFmpeg decodes (avi, mp4, webm, mkv, ...).
        method: background subtractor, `"mog2"` (default) or `"knn"`.
        min_frames: shortest track kept, in silhouette frames.
        max_frames: stop after decoding this many frames (None = the whole clip).
        track: `"all"` tracks as separate sequences, or one: `"longest"` (most frames) or
            `"largest"` (tallest median box, i.e. nearest the camera).
        max_height: taller frames are downscaled to this many rows first (speed; walkers in
            surveillance footage stay ≥ 30 px tall at 576 rows). Boxes are reported in
            original-video pixels either way.
        prime_background: start the background model from a clean plate (median of frames
            over the first 30 s; reads those frames once more) and then adapt slowly. Off:
            OpenCV's own start-up, which learns anyone in view early on as background.
        warmup_frames: first frames that only teach the background model (None = 3 when
            primed, 10 otherwise).
        min_height_frac: shortest person blob, as a fraction of the frame height.
        min_travel: a track's feet must move at least this many body heights from start to
            end, unless its box grows or shrinks (walking towards / away from the camera);
            removes ghosts, swaying bushes, and people standing still (no gait to see). None =
            `walker_check.min_travel` (0.5). Applied even when the walker check is off.
        max_gap: frames a track may go unseen before it ends (None = about 0.6 s of video).
        condition, view: metadata written into every sequence.
        allow_truncated: accept a file whose decoding stops well before its declared length
            (otherwise an error: it is usually a broken download).
        walker_check: thresholds of the walker check (`studio.data.walker_check.WalkerCheck`;
            None = the defaults). Tracks that fail it are returned in `.refused` with their
            reasons, not as sequences; `WalkerCheck(enabled=False)` keeps every travelling track.
        progress: called as `progress(frames_read, frames_expected)` after each frame
            (`frames_expected` is -1 when the container does not say).

    Returns:
        `VideoExtraction`; `.sequences` holds `GaitSequence`s of `uint8 [T, 64, 64]`.

    Raises:
        GaitDataError: the file cannot be decoded, is truncated, or holds no walking person
            (the message names each refused track's reasons).
        ValueError: an argument out of range.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if track not in TRACK_CHOICES:
        raise ValueError(f"track must be one of {TRACK_CHOICES}, got {track!r}")
    if min_frames < 1:
        raise ValueError(f"min_frames must be at least 1, got {min_frames}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be at least 1, got {max_frames}")
    if max_height < 32:
        raise ValueError(f"max_height must be at least 32, got {max_height}")
    rules = walker_check or WalkerCheck()
    if min_travel is not None:
        rules = replace(rules, min_travel=float(min_travel))

    cap, info = open_video(video_path)
    cap.release()
    scan = _scan_video(
        video_path,
        info,
        method,
        max_frames,
        max_height,
        warmup_frames,
        prime_background,
        min_height_frac,
        max_gap,
        min_frames,
        progress,
    )
    n, stats = scan.num_frames, scan.stats
    if n == 0:
        raise GaitDataError(video_path, "no frame could be decoded")
    short_by = info.frame_count - n
    if max_frames is None and not allow_truncated and info.frame_count > 0 and short_by > max(10, 0.05 * n):
        raise GaitDataError(
            video_path,
            f"decoding stopped after {n} of {info.frame_count} frames: the file is truncated or corrupt "
            "(allow_truncated=True / --allow-truncated uses the frames that decode)",
        )

    # Steps 5-6: tracks → sequences, each checked for a walker.
    t0 = time.perf_counter()
    stats.update(
        tracks_started=len(scan.tracks),
        rejected_short=0,
        rejected_static=0,
        refused_not_walker=0,
        dropped_inconsistent_frames=0,
    )
    kept: list[tuple[_LiveTrack, np.ndarray, np.ndarray, WalkerVerdict]] = []  # (track, frames, indices, verdict)
    refused: list[tuple[_LiveTrack, np.ndarray, WalkerVerdict]] = []
    longest = 0
    for t in scan.tracks:
        longest = max(longest, len(t.frames))
        if len(t.frames) < min_frames:
            stats["rejected_short"] += 1
            continue
        areas = [np.count_nonzero(c) for c in t.crops]
        good = np.flatnonzero(consistent_frames(np.asarray(t.boxes), areas, t.shares))
        stats["dropped_inconsistent_frames"] += len(t.frames) - len(good)
        if len(good) < min_frames:
            stats["rejected_short"] += 1
            continue
        frames, kept_idx = pretreat_silhouettes(_pad_to_canvas([t.crops[i] for i in good]))
        if len(kept_idx) < min_frames:
            stats["rejected_short"] += 1
            continue
        idx = good[kept_idx]
        verdict = check_walker(
            frames, np.asarray([t.boxes[i] for i in idx]), np.asarray([t.frames[i] for i in idx]), info.fps, rules
        )
        if not verdict.travels:
            stats["rejected_static"] += 1
            refused.append((t, idx, verdict))
        elif not verdict.is_walker:
            stats["refused_not_walker"] += 1
            refused.append((t, idx, verdict))
        else:
            kept.append((t, frames, idx, verdict))
    timings = dict(scan.timings, pretreat=time.perf_counter() - t0)

    work_w, work_h = scan.work_size
    to_original = info.height / work_h

    def original_boxes(t: _LiveTrack, idx: np.ndarray) -> np.ndarray:
        return np.rint(np.asarray([t.boxes[i] for i in idx], dtype=np.float64) * to_original).astype(np.int64)

    refused_tracks = [
        RefusedTrack(f"r{k:02d}", np.asarray([t.frames[i] for i in idx], dtype=np.int64), original_boxes(t, idx), v)
        for k, (t, idx, v) in enumerate(refused, start=1)
    ]
    if not kept:
        why = ""
        if refused_tracks:
            listed = "; ".join(f"{r.label} ({r.num_frames} frames): {r.reason}" for r in refused_tracks[:5])
            more = f"; and {len(refused_tracks) - 5} more" if len(refused_tracks) > 5 else ""
            why = f" {len(refused_tracks)} tracks refused as not walking people: {listed}{more}."
        raise GaitDataError(
            video_path,
            f"no walking person found: read {n} frames with {method.upper()} background subtraction at "
            f"{work_w}x{work_h}; {stats['person_blobs']} person-sized blobs, {len(scan.tracks)} tracks, longest "
            f"{longest} silhouette frames (min_frames={min_frames}), {stats['rejected_static']} rejected as not "
            f"moving.{why} It needs a static camera and people walking through the view; try method='knn' or a "
            "lower min_frames"
            + (
                ", or keep every moving track (walker_check=WalkerCheck(enabled=False), CLI --keep-all-tracks)"
                if stats["refused_not_walker"]
                else ""
            ),
        )
    # Number before picking, so that a track has the same name whichever `track` mode is used.
    numbered = list(enumerate(kept, start=1))
    if track == "longest":
        numbered = [max(numbered, key=lambda k: len(k[1][2]))]
    elif track == "largest":
        numbered = [max(numbered, key=lambda k: np.median([b[3] - b[1] for b in k[1][0].boxes]))]
    stats["tracks_kept"] = len(numbered)

    sequences, tracks = [], []
    for number, (t, frames, idx, verdict) in numbered:
        boxes = original_boxes(t, idx)
        frame_indices = np.asarray([t.frames[i] for i in idx], dtype=np.int64)
        tracks.append(Track(number, frame_indices, boxes, t.occluded, t.partial, verdict))
        extra = {
            "track_id": number,
            "frame_indices": frame_indices.tolist(),
            "boxes_xyxy": boxes.tolist(),
            "video_size": [info.width, info.height],
            "method": method,
            "occluded_frames": t.occluded,
            "partial_frames": t.partial,
            "gaps": int(np.count_nonzero(np.diff(frame_indices) > 1)),
            **_shape_stats(boxes, [t.crops[i] for i in idx]),
            "walker_check": verdict.to_dict(),
        }
        subject = f"{Path(video_path).stem}-t{number:02d}"
        sequences.append(GaitSequence(frames, subject, condition, view, str(video_path), info.fps, extra))
    logger.info(
        "%s: %d frames, %d walker tracks kept of %d, %d refused",
        video_path,
        n,
        len(sequences),
        len(scan.tracks),
        len(refused_tracks),
    )
    return VideoExtraction(
        sequences=sequences,
        tracks=tracks,
        num_frames_read=n,
        fps=info.fps,
        frame_size=(info.width, info.height),
        method=method,
        timings={k: round(v, 4) for k, v in timings.items()},
        stats=stats,
        snapshot=scan.snapshot,
        snapshot_index=scan.snapshot_index,
        refused=refused_tracks,
        walker_check=rules,
    )


# --------------------------------------------------------------------------------------------
# drawing (contact sheets)
# --------------------------------------------------------------------------------------------


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A distinct, bright BGR colour per track (golden-angle hues)."""
    hue = int((track_id * 137.508 / 2) % 180)
    bgr = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(bgr[0]), int(bgr[1]), int(bgr[2])


REFUSED_COLOUR = (60, 60, 230)  # BGR red: refused tracks on contact sheets


def draw_tracks(
    frame: np.ndarray,
    tracks: list[Track],
    frame_index: int | None = None,
    refused: list[RefusedTrack] | tuple = (),
) -> np.ndarray:
    """Draw tracks on a copy of a BGR frame `uint8 [H, W, 3]` (original-video size).

    Every track's path (its feet) is a thin line; tracks with a silhouette at `frame_index`
    also get their box, labelled `tNN (frames)`; the others a label at the path's middle.
    Refused tracks are drawn in red, their box crossed out, labelled `rNN refused: <check>`,
    and listed with their reasons in a band added under the frame (so the sheet is taller than
    the frame only when something was refused).
    """
    unit = max(1, round(frame.shape[0] / 400))
    font = 0.4 * unit
    paths = frame.copy()
    drawn = [(tr.boxes, track_colour(tr.track_id)) for tr in tracks] + [(r.boxes, REFUSED_COLOUR) for r in refused]
    for boxes, colour in drawn:
        feet = np.stack([(boxes[:, 0] + boxes[:, 2]) // 2, boxes[:, 3]], axis=1).astype(np.int32)
        cv2.polylines(paths, [feet.reshape(-1, 1, 2)], False, colour, unit, cv2.LINE_AA)
    # Paths half-transparent: with dozens of walkers they would hide the scene.
    out = cv2.addWeighted(paths, 0.55, frame, 0.45, 0.0)
    labelled = [(tr, track_colour(tr.track_id), f"t{tr.track_id:02d} ({tr.num_frames})", False) for tr in tracks]
    labelled += [(r, REFUSED_COLOUR, f"{r.label} refused: {r.verdict.short_reason}", True) for r in refused]
    for tr, colour, label, crossed in labelled:
        feet = np.stack([(tr.boxes[:, 0] + tr.boxes[:, 2]) // 2, tr.boxes[:, 3]], axis=1).astype(np.int32)
        box = tr.box_at(frame_index) if frame_index is not None else None
        if box is None:
            x, y = (int(v) for v in feet[len(feet) // 2])
            cv2.putText(out, label, (x, y), cv2.FONT_HERSHEY_SIMPLEX, font, colour, unit, cv2.LINE_AA)
            continue
        x0, y0, x1, y1 = (int(v) for v in box)
        cv2.rectangle(out, (x0, y0), (x1, y1), colour, 2 * unit)
        if crossed:
            cv2.line(out, (x0, y0), (x1, y1), colour, unit, cv2.LINE_AA)
            cv2.line(out, (x0, y1), (x1, y0), colour, unit, cv2.LINE_AA)
        cv2.putText(out, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, font, colour, unit, cv2.LINE_AA)
    if refused:
        out = np.concatenate([out, _refusal_band(refused, out.shape[1], unit)], axis=0)
    return out


def _refusal_band(refused: list[RefusedTrack], width: int, unit: int) -> np.ndarray:
    """A dark band listing each refused track and its reasons, one line per failed check."""
    font, line_h = 0.35 * unit, 14 * unit
    lines = [f"{len(refused)} track(s) refused as not walking people:"]
    for r in refused:
        first, last = int(r.frame_indices[0]), int(r.frame_indices[-1])
        for k, reason in enumerate(r.verdict.reasons):
            head = f"{r.label} (video frames {first}-{last}): " if k == 0 else "      "
            lines.append(head + reason.split(" (")[0])
    # Cut lines to the sheet's width (about 0.55 * 20 px per character at font 0.35).
    chars = max(20, int(width / (6.2 * unit)))
    lines = [ln if len(ln) <= chars else ln[: chars - 3] + "..." for ln in lines]
    band = np.full((line_h * len(lines) + 6 * unit, width, 3), 30, np.uint8)
    for i, ln in enumerate(lines):
        colour = (230, 230, 230) if i == 0 else REFUSED_COLOUR
        y = line_h * (i + 1)
        cv2.putText(band, ln, (4 * unit, y), cv2.FONT_HERSHEY_SIMPLEX, font, colour, unit, cv2.LINE_AA)
    return band
