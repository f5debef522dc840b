"""Steps 1-4 chained: one pass over a video's frames, from decoding to finished tracks."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gaitdata.video.blobs import BlobFilter, find_person_blobs
from gaitdata.video.decode import VideoInfo, _resize_to, open_video
from gaitdata.video.foreground import BackgroundModel, estimate_background
from gaitdata.video.tracking import WalkerTracker, _LiveTrack


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
