"""Video → silhouettes: real pedestrians (vtest.avi), synthetic walkers, bad files, the batch job."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from gaitdata import GaitDataError, load_opengait
from gaitdata.video import (
    BlobFilter,
    WalkerTracker,
    consistent_frames,
    extract_walkers,
    fill_small_holes,
    find_person_blobs,
    open_video,
)
from studio.cli import main
from studio.jobs.extract import extract_video_to_dataset, video_entries

VTEST_FRAMES = 300  # enough for 10+ walker tracks; the whole clip is 795 frames


# ---------------------------------------------------------------------------------------------
# synthetic clips: a stick-figure walker on a textured background, written with OpenCV
# ---------------------------------------------------------------------------------------------


def write_walker_clip(
    path: Path, num_frames=80, size=(320, 240), fps=25.0, walkers=1, static=False, scales=None, starts=None
) -> Path:
    """An MJPG .avi of dark stick figures swinging their legs while crossing (or standing).

    Walker 0 goes left to right from frame `starts[0]`; walker 1 right to left from
    `starts[1]`, drawn `scales[1]` times as large (nearer the camera), crossing walker 0.
    """
    w, h = size
    scales = scales or [1.0] * walkers
    starts = starts or [0] * walkers
    rng = np.random.default_rng(0)
    xx = np.arange(w)[None, :]
    background = (150 + 40 * xx / w + rng.normal(0, 6, (h, w))).clip(0, 255)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for t in range(num_frames):
        img = background + rng.normal(0, 2, (h, w))  # sensor noise
        for k in range(walkers):
            if t < starts[k]:
                continue
            s, step = scales[k], t - starts[k]
            x = w // 2 if static else 40 + 3 * step
            x = x if k == 0 else w - x
            # One stride a second (two steps), a walker's cadence: the walker check wants one.
            swing = 0 if static else 14 * s * np.sin(2 * np.pi * step / fps)
            feet = 170 + int(20 * (s - 1))
            body = np.zeros((h, w), np.uint8)
            cv2.circle(body, (x, feet - int(94 * s)), int(8 * s), 255, -1)
            cv2.rectangle(body, (x - int(12 * s), feet - int(84 * s)), (x + int(12 * s), feet - int(40 * s)), 255, -1)
            for side in (-1, 1):
                cv2.line(body, (x, feet - int(42 * s)), (int(x + side * swing), feet), 255, max(2, int(7 * s)))
            img[body > 0] = 45
        writer.write(cv2.cvtColor(img.clip(0, 255).astype(np.uint8), cv2.COLOR_GRAY2BGR))
    writer.release()
    return path


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="module")
def walker_clip(clip_dir) -> Path:
    return write_walker_clip(clip_dir / "walk.avi")


@pytest.fixture(scope="module")
def vtest(shared_data) -> Path:
    path = shared_data / "video" / "vtest.avi"
    if not path.is_file():
        pytest.skip(f"{path} is absent from the real data folder")
    return path


@pytest.fixture(scope="module")
def vtest_extraction(vtest):
    """One extraction of vtest.avi's first frames, shared by the tests of this module."""
    return extract_walkers(vtest, max_frames=VTEST_FRAMES)


def mass_centre_column(frames: np.ndarray) -> float:
    """Median over frames of the foreground's mean column."""
    f = frames.astype(np.float64)
    cols = np.arange(f.shape[2])
    return float(np.median((f.sum(axis=1) * cols).sum(axis=1) / np.maximum(f.sum(axis=(1, 2)), 1)))


# ---------------------------------------------------------------------------------------------
# real pedestrians
# ---------------------------------------------------------------------------------------------


def test_vtest_yields_several_person_tracks(vtest_extraction, vtest):
    ex = vtest_extraction
    long_tracks = [s for s in ex.sequences if s.num_frames >= 20]
    assert len(long_tracks) >= 3, ex.stats
    assert ex.num_frames_read == VTEST_FRAMES
    assert ex.fps == pytest.approx(10.0)
    assert ex.frame_size == (768, 576)
    for seq, track in zip(ex.sequences, ex.tracks, strict=True):
        assert seq.frames.dtype == np.uint8 and seq.frames.shape[1:] == (64, 64)
        assert seq.subject == f"vtest-t{track.track_id:02d}"
        assert (seq.condition, seq.view, seq.source, seq.fps) == ("nm-01", "unk", str(vtest), 10.0)
        assert seq.num_frames == track.num_frames == len(seq.extra["frame_indices"])
        assert np.all(np.diff(track.frame_indices) > 0)
        assert np.all(track.boxes[:, :2] >= 0) and np.all(track.boxes[:, 2] <= 768) and np.all(track.boxes[:, 3] <= 576)
        json.dumps(seq.extra)  # metadata must be JSON-ready


def test_vtest_silhouettes_are_person_shaped(vtest_extraction):
    for seq, track in zip(vtest_extraction.sequences, vtest_extraction.tracks, strict=True):
        ratio = float(np.median(track.heights / track.widths))
        assert 1.5 <= ratio <= 5.0, (seq.subject, ratio)
        # A walker's area changes smoothly from frame to frame.
        assert seq.extra["area_rel_change_median"] < 0.3, seq.subject
        # Pretreatment centres the body's mass on the middle column.
        assert abs(mass_centre_column(seq.frames) - 31.5) <= 2.0, seq.subject
        # CASIA-B's 64x44 silhouettes hold 0.24-0.30 foreground; walkers seen from above a bit more.
        foreground = float(np.median((seq.model_input() > 0.5).mean(axis=(1, 2))))
        assert 0.15 <= foreground <= 0.45, (seq.subject, foreground)
        # Pretreatment scales the body to the full height: every row holds foreground.
        rows = (seq.frames > 127).any(axis=2).mean(axis=0)
        assert rows[2:62].min() > 0.8, seq.subject


def test_vtest_pedestrians_pass_the_walker_check(vtest_extraction):
    ex = vtest_extraction
    assert len(ex.sequences) >= 10 and ex.stats["tracks_kept"] == len(ex.sequences)
    for track in ex.tracks:
        assert track.verdict.is_walker and track.verdict.reasons == []
    # Refused tracks say why, and are labelled apart from the kept ones.
    assert [r.label for r in ex.refused] == [f"r{k:02d}" for k in range(1, len(ex.refused) + 1)]
    for r in ex.refused:
        assert r.verdict.reasons and not r.verdict.is_walker and r.num_frames >= 20
    # Tracks cut by the 300-frame limit are short and have less rhythm to show than whole ones.
    assert ex.stats["refused_not_walker"] <= 0.3 * (len(ex.sequences) + ex.stats["refused_not_walker"])


@pytest.mark.slow
def test_vtest_whole_clip_keeps_most_walkers(vtest):
    # Measured: 41 travelling tracks of 20+ frames; 39 pass, 2 (blobby, partly torn silhouettes)
    # are refused for no gait rhythm; 3 tracks standing still are refused as not travelling.
    ex = extract_walkers(vtest)
    travelling = len(ex.sequences) + ex.stats["refused_not_walker"]
    assert travelling >= 35 and len(ex.sequences) >= 0.9 * travelling, ex.stats
    assert all(r.verdict.reasons[0].split(":")[0] in ("no gait rhythm", "does not travel") for r in ex.refused)


# ---------------------------------------------------------------------------------------------
# synthetic walkers (no shared data needed)
# ---------------------------------------------------------------------------------------------


def test_synthetic_walker_is_found_and_centred(walker_clip):
    ex = extract_walkers(walker_clip)
    assert len(ex.sequences) == 1
    seq, track = ex.sequences[0], ex.tracks[0]
    assert seq.num_frames >= 70 and seq.fps == 25.0
    assert abs(mass_centre_column(seq.frames) - 31.5) <= 1.5
    assert 3.0 <= np.median(track.heights / track.widths) <= 5.0
    # It walks left to right: box centres move forward every frame.
    centres = (track.boxes[:, 0] + track.boxes[:, 2]) / 2
    assert np.all(np.diff(centres) > 0)
    assert set(ex.timings) >= {"decode", "subtract", "blobs", "track", "pretreat"}


def test_knn_method_also_works(walker_clip):
    ex = extract_walkers(walker_clip, method="knn")
    assert len(ex.sequences) == 1 and ex.sequences[0].num_frames >= 60


def test_two_walkers_crossing_keep_their_identities(clip_dir):
    clip = write_walker_clip(clip_dir / "two.avi", walkers=2)
    ex = extract_walkers(clip)
    assert len(ex.sequences) == 2
    directions = []
    for track in ex.tracks:
        centres = (track.boxes[:, 0] + track.boxes[:, 2]) / 2
        steps = np.sign(np.diff(centres))
        assert np.all(steps == steps[0]), "a track switched walkers at the crossing"
        directions.append(steps[0])
        # The merged blob where they overlap gives neither a silhouette.
        assert track.occluded_frames > 0
    assert sorted(directions) == [-1, 1]


def test_track_choice_longest_and_largest(clip_dir):
    # Walker 2 enters later (shorter track) and nearer the camera (larger).
    clip = write_walker_clip(clip_dir / "near.avi", walkers=2, scales=[1.0, 1.3], starts=[0, 25])
    every = extract_walkers(clip)
    assert len(every.sequences) == 2
    heights = [float(np.median(t.heights)) for t in every.tracks]
    lengths = [s.num_frames for s in every.sequences]
    longest = extract_walkers(clip, track="longest")
    largest = extract_walkers(clip, track="largest")
    assert len(longest.sequences) == len(largest.sequences) == 1
    assert longest.sequences[0].num_frames == max(lengths)
    assert float(np.median(largest.tracks[0].heights)) == max(heights)
    # The picked track keeps the name it has among all tracks.
    assert longest.sequences[0].subject == every.sequences[int(np.argmax(lengths))].subject
    assert largest.sequences[0].subject == every.sequences[int(np.argmax(heights))].subject
    assert max(heights) > 1.2 * min(heights)


def test_progress_callback_counts_frames(walker_clip):
    calls = []
    extract_walkers(walker_clip, max_frames=40, min_frames=10, progress=lambda done, total: calls.append((done, total)))
    assert calls[0] == (1, 40) and calls[-1] == (40, 40)


# ---------------------------------------------------------------------------------------------
# blobs and tracking, piece by piece
# ---------------------------------------------------------------------------------------------


def test_split_head_and_legs_are_merged_into_one_person():
    mask = np.zeros((200, 200), np.uint8)
    cv2.rectangle(mask, (85, 40), (115, 100), 255, -1)  # head + torso
    cv2.rectangle(mask, (88, 106), (112, 160), 255, -1)  # legs, split off by a belt-coloured gap
    _, blobs, merges = find_person_blobs(mask, BlobFilter.for_height(200))
    assert merges == 1 and len(blobs) == 1
    assert blobs[0].box == (85, 40, 116, 161)


def test_two_people_side_by_side_are_split():
    mask = np.zeros((200, 200), np.uint8)
    for x in (70, 100):  # two bodies touching at the shoulders, heads apart
        cv2.circle(mask, (x + 10, 48), 9, 255, -1)
        cv2.rectangle(mask, (x, 58), (x + 22, 150), 255, -1)
    _, blobs, _ = find_person_blobs(mask, BlobFilter.for_height(200))
    assert len(blobs) == 2
    assert all(2.5 < b.height / b.width < 6 for b in blobs)


def test_flat_streaks_and_specks_are_not_people():
    mask = np.zeros((200, 200), np.uint8)
    mask[50:53, 20:180] = 255  # a fluttering tape
    mask[150:152, 150:152] = 255  # a speck
    _, blobs, _ = find_person_blobs(mask, BlobFilter.for_height(200))
    assert blobs == []


def test_small_holes_filled_large_kept():
    mask = np.zeros((100, 60), np.uint8)
    mask[10:90, 10:50] = 255
    mask[20:23, 20:23] = 0  # a speck of shirt matching the background
    mask[50:85, 22:38] = 0  # a large enclosed gap stays
    filled = fill_small_holes(mask)
    assert filled[21, 21] == 255 and filled[60, 30] == 0


def test_consistent_frames_drops_outliers():
    boxes = np.array([[0, 0, 30, 80]] * 9, dtype=float)
    areas = np.full(9, 1500.0)
    boxes[4] = [0, 0, 70, 80]  # two people merged: too wide
    areas[6] = 400  # a torn silhouette
    keep = consistent_frames(boxes, areas)
    assert keep.tolist() == [True] * 4 + [False, True, False, True, True]


def test_tracker_bridges_a_short_gap_and_ends_after_a_long_one():
    tracker = WalkerTracker((400, 300), max_gap=2)
    labels = np.zeros((300, 400), np.int32)
    from gaitdata.video import PersonBlob

    def blob(x):
        labels[100:180, x : x + 30] = 1
        return [PersonBlob((x, 100, x + 30, 180), 2400, (1,))]

    for t in range(5):
        tracker.update(t, labels, blob(50 + 5 * t))
    tracker.update(5, labels, [])  # missed once
    tracker.update(6, labels, blob(80))
    for t in range(7, 11):
        tracker.update(t, labels, [])
    tracks = tracker.finish()
    assert len(tracks) == 1 and tracks[0].frames == [0, 1, 2, 3, 4, 6]


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(GaitDataError, match="does not exist") as info:
        extract_walkers(tmp_path / "nope.avi")
    assert info.value.path.endswith("nope.avi")


def test_text_file_renamed_avi(tmp_path):
    bad = tmp_path / "notes.avi"
    bad.write_text("this is not a video\n" * 20)
    with pytest.raises(GaitDataError, match="cannot be decoded") as info:
        extract_walkers(bad)
    assert info.value.path == str(bad)


def test_folder_is_refused(tmp_path):
    with pytest.raises(GaitDataError, match="folder"):
        open_video(tmp_path)


def test_header_only_file(tmp_path, walker_clip):
    bad = tmp_path / "header.avi"
    bad.write_bytes(walker_clip.read_bytes()[:2000])
    with pytest.raises(GaitDataError, match="decoded") as info:
        extract_walkers(bad)
    assert info.value.path == str(bad)


def test_truncated_file_is_an_error_unless_allowed(tmp_path, walker_clip):
    data = walker_clip.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(GaitDataError, match="truncated"):
        extract_walkers(cut)
    ex = extract_walkers(cut, allow_truncated=True, min_frames=10)
    assert 30 <= ex.num_frames_read < 80 and len(ex.sequences) == 1


def test_static_clip_has_no_walker(clip_dir):
    clip = write_walker_clip(clip_dir / "static.avi", num_frames=40, static=True)
    with pytest.raises(GaitDataError, match="no walking person found") as info:
        extract_walkers(clip)
    message = str(info.value)
    assert "40 frames" in message and "MOG2" in message and "min_frames" in message


def test_bad_arguments(walker_clip):
    with pytest.raises(ValueError, match="method"):
        extract_walkers(walker_clip, method="median")
    with pytest.raises(ValueError, match="track"):
        extract_walkers(walker_clip, track="biggest")


# ---------------------------------------------------------------------------------------------
# the batch job and the CLI
# ---------------------------------------------------------------------------------------------


def test_extract_to_dataset_writes_layout_manifest_previews(tmp_path, walker_clip):
    out = tmp_path / "dataset"
    summary = extract_video_to_dataset(walker_clip, out)
    assert not summary.reused
    sequences, report = load_opengait(out)
    assert report.loaded == 1 and not report.skipped
    assert sequences[0].key == ("walk-t01", "nm-01", "unk")
    # Sequence folders hold the pkl and nothing else (OpenGait refuses other files there).
    assert [p.name for p in (out / "walk-t01" / "nm-01" / "unk").iterdir()] == ["unk.pkl"]
    entry = video_entries(out)["walk"]
    assert entry["complete"] and entry["frames_read"] == 80
    track = entry["tracks"][0]
    assert track["subject"] == "walk-t01" and track["frames"] >= 70
    assert track["boxes"]["height_px"]["median"] > 80
    for key in ("preview_gif", "preview_png"):
        assert (out / track[key]).is_file() and track[key].startswith("previews/")
    sheet = cv2.imread(str(out / entry["contact_sheet"]))
    assert sheet.shape == (240, 320, 3)
    assert not list(out.rglob("*.tmp"))

    again = extract_video_to_dataset(walker_clip, out)
    assert again.reused and again.entry == entry


def test_extract_refuses_the_video_folder(tmp_path, walker_clip):
    with pytest.raises(ValueError, match="overlaps"):
        extract_video_to_dataset(walker_clip, walker_clip.parent / "out")


def test_cli_extract(tmp_path, walker_clip, capsys):
    out = tmp_path / "cli"
    assert main(["extract", str(walker_clip), "--out", str(out), "--no-progress", "--track", "longest"]) == 0
    printed = capsys.readouterr().out
    assert "1 walker sequences" in printed and "walk-t01/nm-01/unk/unk.pkl" in printed
    assert (out / "walk-t01" / "nm-01" / "unk" / "unk.pkl").is_file()


def test_cli_extract_bad_video_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.avi"
    bad.write_text("nope")
    assert main(["extract", str(bad), "--out", str(tmp_path.parent / "out-bad"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "bad.avi" in err and "cannot be decoded" in err and "Traceback" not in err
