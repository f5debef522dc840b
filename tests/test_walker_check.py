"""Is a video track a walking person? Synthetic non-walkers are refused with a reason, walkers kept.

Every clip here is drawn with OpenCV: a procedural walker (`gaitdata.walkers`) pasted on a
textured background and moved at walking speed, and things that move but do not walk: a dancer
twirling across in a flared skirt, a blob swirling across, a rigid person-shaped cut-out and a
tall crate gliding past, a ball bouncing across, a car sliding through.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from gaitdata import GaitDataError
from gaitdata.video import extract_walkers
from gaitdata.walker_check import WalkerCheck, check_walker, gait_rhythm, travel
from gaitdata.walkers import camera_for, identity_for, render_walker_masks, walk_for
from studio.cli import main
from studio.jobs.extract import extract_video_to_dataset, video_entries

SIZE = (360, 240)  # video width, height
FPS = 25.0
FEET_Y = 205


def _background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    xx = np.arange(w)[None, :]
    return (150 + 40 * xx / w + rng.normal(0, 6, (h, w))).clip(0, 255)


def write_clip(path: Path, draw, num_frames: int = 80, seed: int = 0, size: tuple[int, int] = SIZE) -> Path:
    """An MJPG .avi: `draw(t)` returns a `uint8 [H, W]` mask of what moves in frame t, painted dark."""
    w, h = size
    rng = np.random.default_rng(seed)
    background = _background(rng, size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (w, h))
    assert writer.isOpened()
    for t in range(num_frames):
        img = background + rng.normal(0, 2, (h, w))  # sensor noise
        img[draw(t) > 0] = 45
        writer.write(cv2.cvtColor(img.clip(0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


def _canvas(width: int = SIZE[0]) -> np.ndarray:
    return np.zeros((SIZE[1], width), np.uint8)


def procedural_walker(num_frames: int = 80):
    """A rendered walker (side view, 25 fps) crossing left to right at its own stride's speed."""
    person = identity_for(0, "001")
    walk = walk_for(0, person, "nm-01")
    camera = replace(camera_for(0, "001", "nm-01", "090"), num_frames=num_frames)
    masks = render_walker_masks(person, walk, camera)  # [T, h, w], walking on the spot
    rows = np.flatnonzero(masks.any(axis=(0, 2)))
    masks = masks[:, : rows[-1] + 1]
    height = rows[-1] - rows[0] + 1
    # A step is ~0.4 body heights; two steps per cycle of `cadence` steps a minute.
    px_per_frame = 0.4 * height * walk.cadence / 60.0 / FPS

    def draw(t):
        canvas = _canvas()
        m = masks[t]
        x0, y0 = int(10 + px_per_frame * t), FEET_Y - m.shape[0]
        canvas[y0 : y0 + m.shape[0], x0 : x0 + m.shape[1]] = m
        return canvas

    return draw


def twirling_dancer(t: int, x0: float = 60, vx: float = 2.0, width: int = SIZE[0]) -> np.ndarray:
    """Head, bodice and a flared skirt whose hem ripples as she spins, drifting across."""
    canvas = _canvas(width)
    x = int(x0 + vx * t)
    top = FEET_Y - 130
    cv2.circle(canvas, (x, top + 9), 9, 255, -1)
    cv2.rectangle(canvas, (x - 10, top + 18), (x + 10, top + 55), 255, -1)
    spin = 2 * np.pi * 1.5 * t / FPS
    hem = [
        (x + 30 * np.cos(a) + 6 * np.sin(3 * a + spin), FEET_Y - 4 + 4 * np.sin(5 * a - spin))
        for a in np.linspace(0, np.pi, 13)
    ]
    skirt = np.array([(x - 12, top + 52), (x + 12, top + 52)] + hem, np.int32)
    cv2.fillPoly(canvas, [cv2.convexHull(skirt)], 255)
    return canvas


def swirling_blob(t: int) -> np.ndarray:
    """A tall blob whose outline swirls (three lobes turning fast), drifting across."""
    canvas = _canvas()
    cx, cy = 60 + 2 * t, FEET_Y - 60
    phi = np.linspace(0, 2 * np.pi, 48, endpoint=False)
    r = 1 + 0.3 * np.sin(3 * phi - 2 * np.pi * 1.5 * t / FPS)
    pts = np.stack([cx + 24 * r * np.cos(phi), cy + 58 * r * np.sin(phi)], axis=1).astype(np.int32)
    cv2.fillPoly(canvas, [pts], 255)
    return canvas


def person_cutout(t: int) -> np.ndarray:
    """A rigid, person-shaped cut-out (head, body, legs apart) gliding past: a walker's shape, no gait."""
    canvas = _canvas()
    x, top = 40 + 3 * t, FEET_Y - 104
    cv2.circle(canvas, (x, top + 9), 9, 255, -1)
    cv2.rectangle(canvas, (x - 12, top + 20), (x + 12, top + 62), 255, -1)
    for side in (-1, 1):
        cv2.line(canvas, (x, top + 60), (x + side * 10, FEET_Y), 255, 7)
    return canvas


def gliding_crate(t: int) -> np.ndarray:
    """A tall rigid box (a wardrobe on a trolley) pushed past by someone out of view."""
    canvas = _canvas()
    x = 40 + 3 * t
    cv2.rectangle(canvas, (x - 20, FEET_Y - 100), (x + 20, FEET_Y), 255, -1)
    return canvas


def bouncing_ball(t: int) -> np.ndarray:
    canvas = _canvas()
    cv2.circle(canvas, (30 + 4 * t, int(FEET_Y - 22 - 90 * abs(np.sin(np.pi * t / 20)))), 22, 255, -1)
    return canvas


def sliding_car(t: int) -> np.ndarray:
    canvas = _canvas()
    x = -100 + 6 * t
    cv2.rectangle(canvas, (x, FEET_Y - 55), (x + 130, FEET_Y - 12), 255, -1)
    cv2.rectangle(canvas, (x + 30, FEET_Y - 85), (x + 100, FEET_Y - 55), 255, -1)
    for wx in (x + 25, x + 105):
        cv2.circle(canvas, (wx, FEET_Y - 12), 12, 255, -1)
    return canvas


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("walker-check")
    drawings = {
        "walker": procedural_walker(),
        "dancer": twirling_dancer,
        "blob": swirling_blob,
        "cutout": person_cutout,
        "crate": gliding_crate,
        "ball": bouncing_ball,
        "car": sliding_car,
    }
    return {name: write_clip(folder / f"{name}.avi", draw) for name, draw in drawings.items()}


@pytest.fixture(scope="module")
def walker_and_dancer(tmp_path_factory) -> Path:
    """A wider clip: the procedural walker crosses the left part; the dancer enters from the right
    and twirls leftwards (entering, not standing in view at the start: no ghost in the clean plate)."""
    walker = procedural_walker()
    width = 560

    def draw(t):
        canvas = twirling_dancer(t, x0=590, vx=-2.0, width=width)
        canvas[:, : SIZE[0]] |= walker(t)
        return canvas

    return write_clip(tmp_path_factory.mktemp("mixed") / "mixed.avi", draw, size=(width, SIZE[1]))


# ---------------------------------------------------------------------------------------------
# walkers are kept
# ---------------------------------------------------------------------------------------------


def test_a_procedural_walker_is_kept(clips):
    ex = extract_walkers(clips["walker"])
    assert len(ex.sequences) == 1 and ex.refused == []
    verdict = ex.tracks[0].verdict
    assert verdict.is_walker and verdict.reasons == []
    m = verdict.measures
    # Its legs part twice per stride: the dominant period is a step (0.4-0.8 s) or a stride.
    assert 0.4 <= m["gait_period_s"] <= 1.6 and m["gait_strength"] > 0.5
    assert m["leg_split"] > 0.3 and m["travel"] > 1.0
    assert ex.sequences[0].extra["walker_check"]["is_walker"] is True


def test_a_frontal_walker_whose_legs_overlap_is_kept():
    # Straight towards the camera the legs overlap in the image (no split) and the box grows:
    # the gait shows in the lower body's area, the approach in the growth.
    person = identity_for(0, "002")
    seq = render_walker_sequence_for_test(person, view_deg=0)
    t = np.arange(seq.num_frames)
    heights = 60 + 1.5 * t  # nearing the camera
    boxes = np.stack([100 - heights / 6, 200 - heights, 100 + heights / 6, np.full_like(heights, 200.0)], axis=1)
    verdict = check_walker(seq.frames, boxes, t, 25.0)
    assert verdict.is_walker, verdict.reasons
    assert verdict.measures["growth"] > 1.3 and verdict.measures["travel"] < 0.5
    # The same person on the spot (box unchanged): no travel, refused.
    still = check_walker(seq.frames, np.repeat(boxes[:1], len(t), axis=0), t, 25.0)
    assert not still.is_walker and not still.travels and still.reasons[0].startswith("does not travel")


def render_walker_sequence_for_test(person, view_deg):
    from gaitdata.walkers import render_walker_sequence

    return render_walker_sequence(person, walk_for(0, person, "nm-01"), view_deg, num_frames=50)


# ---------------------------------------------------------------------------------------------
# things that move but do not walk are refused, each for its own reason
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("dancer", "not person-shaped: lower body"),  # a skirt's cone, not legs
        ("blob", "not person-shaped: no legs"),  # swirls, never splits in two
        ("cutout", "no gait rhythm: the legs hardly move"),  # a walker's shape, rigid
        ("crate", "not person-shaped: no legs"),
    ],
)
def test_non_walkers_are_refused_with_their_reason(clips, name, reason):
    with pytest.raises(GaitDataError, match="no walking person found") as info:
        extract_walkers(clips[name])
    message = str(info.value)
    assert "1 tracks refused as not walking people: r01" in message and reason in message
    assert "--keep-all-tracks" in message
    # Switched off, the check still measures and says what it would have refused.
    kept = extract_walkers(clips[name], walker_check=WalkerCheck(enabled=False))
    assert len(kept.sequences) == 1 and kept.refused == []
    assert any(r.startswith(reason) for r in kept.tracks[0].verdict.reasons)
    assert kept.sequences[0].extra["walker_check"]["is_walker"] is True


@pytest.mark.parametrize("name", ["ball", "car"])
def test_balls_and_cars_never_become_tracks(clips, name):
    # Round or wider than tall: refused already as person blobs, before any track forms.
    with pytest.raises(GaitDataError, match="no walking person found") as info:
        extract_walkers(clips[name])
    assert "longest 0 silhouette frames" in str(info.value)


def test_a_dancer_twirling_to_and_fro_does_not_travel(tmp_path):
    clip = write_clip(
        tmp_path / "sway.avi", lambda t: twirling_dancer(int(t), x0=180 + 60 * np.sin(2 * np.pi * t / 80), vx=0)
    )
    for rules in (WalkerCheck(), WalkerCheck(enabled=False)):  # staying put is refused either way
        with pytest.raises(GaitDataError, match="does not travel: feet moved 0"):
            extract_walkers(clip, walker_check=rules)


# ---------------------------------------------------------------------------------------------
# the batch job: refused tracks in the manifest and on the contact sheet; the CLI switch
# ---------------------------------------------------------------------------------------------


def test_refused_tracks_are_listed_in_the_manifest_and_on_the_contact_sheet(tmp_path, walker_and_dancer):
    out = tmp_path / "dataset"
    summary = extract_video_to_dataset(walker_and_dancer, out)
    entry = video_entries(out)["mixed"]
    assert [t["subject"] for t in entry["tracks"]] == ["mixed-t01"]
    assert entry["tracks"][0]["walker_check"]["is_walker"] is True
    (refused,) = entry["refused_tracks"]
    assert refused["label"] == "r01" and refused["frames"] >= 20
    assert refused["reasons"][0].startswith("not person-shaped: lower body")
    assert refused["measures"]["lower_ratio"] > WalkerCheck().max_lower_ratio
    assert entry["stats"]["refused_not_walker"] == 1 and entry["stats"]["tracks_kept"] == 1
    assert entry["settings"]["walker_check"] == WalkerCheck().to_dict()
    # The contact sheet: the frame plus a band listing the refusal, the dancer's path in red.
    sheet = cv2.imread(str(out / entry["contact_sheet"]))
    assert sheet.shape[0] > 240 and sheet.shape[1] == 560
    band = sheet[240:]
    red = (band[:, :, 2] > 150) & (band[:, :, 1] < 120) & (band[:, :, 0] < 120)
    assert red.sum() > 50, "the refusal is written in red under the frame"
    assert summary.sequence_paths == [out / "mixed-t01" / "nm-01" / "unk" / "unk.pkl"]
    assert not (out / "r01").exists()


def test_cli_keep_all_tracks(tmp_path, walker_and_dancer, capsys):
    out = tmp_path / "cli"
    assert main(["extract", str(walker_and_dancer), "--out", str(out), "--no-progress", "--no-previews"]) == 0
    printed = capsys.readouterr().out
    assert "1 walker sequences" in printed
    assert "1 tracks refused as not walking people" in printed and "r01 (video frames" in printed
    assert "not person-shaped: lower body" in printed
    # --keep-all-tracks changes the settings: the run is redone and keeps the dancer too.
    assert (
        main(
            [
                "extract",
                str(walker_and_dancer),
                "--out",
                str(out),
                "--no-progress",
                "--no-previews",
                "--keep-all-tracks",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "2 walker sequences" in printed and "tracks refused" not in printed
    assert "kept although the walker check would refuse it: not person-shaped" in printed
    entry = video_entries(out)["mixed"]
    assert entry["settings"]["walker_check"]["enabled"] is False
    dancer = [t for t in entry["tracks"] if t["walker_check"]["reasons"]]
    assert len(dancer) == 1 and dancer[0]["walker_check"]["reasons"][0].startswith("not person-shaped")


# ---------------------------------------------------------------------------------------------
# the measures, piece by piece
# ---------------------------------------------------------------------------------------------


def test_gait_rhythm_finds_a_step_period_and_refuses_a_flicker():
    fps = 10.0
    t = np.arange(60)
    step = 0.3 + 0.05 * np.sin(2 * np.pi * t / (0.55 * fps))  # legs apart every 0.55 s
    r = gait_rhythm(step, t, fps, (0.8, 1.6))
    assert r["period_s"] == pytest.approx(0.5, abs=0.11) and r["strength"] > 0.8 and r["band_share"] > 0.8
    # A fan's flicker at 6 Hz repeats at every lag multiple of its period, none of them a step.
    flicker = 0.3 + 0.05 * np.sin(2 * np.pi * 6.0 * np.arange(100) / 25.0)
    r = gait_rhythm(flicker, np.arange(100), 25.0, (0.8, 1.6))
    assert r["strength"] == 0.0 and r["band_share"] < 0.1 and r["period_s"] < 0.4
    # Gaps in the track are bridged on the frame grid.
    kept = np.flatnonzero(t % 7 != 3)
    assert gait_rhythm(step[kept], kept, fps, (0.8, 1.6))["strength"] > 0.7
    rigid = gait_rhythm(np.full(60, 0.3), t, fps, (0.8, 1.6))
    assert rigid["swing"] < 1e-9 and rigid["strength"] == 0.0


def test_travel_counts_walking_towards_the_camera():
    across = np.array([[x, 50, x + 20, 110] for x in range(0, 100, 5)], dtype=float)
    towards = np.array([[100 - h / 6, 200 - h, 100 + h / 6, 200] for h in np.linspace(40, 80, 20)])
    assert travel(across)["travel"] > 1.0 and travel(across)["growth"] == pytest.approx(1.0)
    assert travel(towards)["travel"] < 0.5 and travel(towards)["growth"] > 1.6
    assert travel(towards[::-1])["growth"] > 1.6  # walking away shrinks the box: the same


def test_walker_check_settings():
    rules = WalkerCheck(max_speed=2.0)
    assert rules.to_dict()["max_speed"] == 2.0 and rules.to_dict()["stride_s"] == [0.8, 1.6]
    with pytest.raises(ValueError, match="stride_s"):
        WalkerCheck(stride_s=(1.6, 0.8))
    with pytest.raises(ValueError, match="aspect"):
        WalkerCheck(aspect=(0.0, 3.0))
    with pytest.raises(ValueError, match="same length"):
        check_walker(np.zeros((3, 64, 64), np.uint8), np.zeros((2, 4)), np.arange(3), 25.0)


def test_too_fast_and_torn_tracks_are_refused(clips):
    walker = extract_walkers(clips["walker"]).sequences[0]
    t = np.arange(walker.num_frames)
    # The same silhouettes, but the box flies across 10 body heights a second: a cyclist, a car.
    fast = np.stack([40.0 * t, np.zeros(t.size), 40.0 * t + 40, np.full(t.size, 100.0)], axis=1)
    verdict = check_walker(walker.frames, fast, t, 25.0)
    assert not verdict.is_walker and any(r.startswith("too fast for a walker") for r in verdict.reasons)
    # Every frame a different random scatter: fragments, not one body.
    rng = np.random.default_rng(0)
    torn = np.where(rng.random(walker.frames.shape) < 0.3, 255, 0).astype(np.uint8)
    verdict = check_walker(torn, fast, t, 25.0)
    assert any(r.startswith("not one body") for r in verdict.reasons)
