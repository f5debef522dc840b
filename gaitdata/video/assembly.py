"""Steps 5-6: finished tracks → consistent frames → pretreated, walker-checked `GaitSequence`s (`extract_walkers`)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.ndimage import median_filter

from gaitdata.errors import GaitDataError
from gaitdata.pretreat import pretreat_silhouettes
from gaitdata.sequence import GaitSequence
from gaitdata.video.decode import open_video
from gaitdata.video.foreground import METHODS
from gaitdata.video.results import RefusedTrack, Track, VideoExtraction
from gaitdata.video.scan import _scan_video
from gaitdata.video.tracking import _LiveTrack
from gaitdata.walker_check import WalkerCheck, WalkerVerdict, check_walker

logger = logging.getLogger(__name__)

TRACK_CHOICES = ("all", "longest", "largest")


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
        walker_check: thresholds of the walker check (`gaitdata.walker_check.WalkerCheck`;
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
