"""Batch job: many static-camera videos (files and folders of them) → one OpenGait-layout dataset.

`extract_videos_to_dataset` runs `studio.jobs.extract`'s extraction of one video over every
video of the job with the same settings: a video that cannot be used is skipped and its reason
kept in its row (and under the manifest's "failed"); under `torchrun` / `accelerate launch` each
process takes a share of the videos and records them in its own `manifest.shard-K-of-N.jsonl`,
which the main process merges into `manifest.jsonl` at the end (and a rerun after a kill at its
start): the job folder every batch job shares (`gaitdata.job_folder`, `studio.jobs.sharding`).
"""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2

from gaitdata.atomic import ensure_outside
from gaitdata.errors import GaitDataError
from gaitdata.job_folder import MANIFEST
from studio.jobs.extract import (
    check_source,
    done_row,
    entry_of,
    extract_entry,
    extract_video_to_dataset,
    extraction_folder,
    extraction_settings,
    finish_extraction,
    is_complete,
    skipped_row,
    video_signature,
)
from studio.jobs.sharding import current_shard

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = (".avi", ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg", ".webm", ".wmv")
VIDEO_OPTIONS = ("method", "min_frames", "track", "max_frames", "condition", "view", "previews", "allow_truncated",
                 "resume", "walker_check")  # fmt: skip


def video_files(inputs: Sequence[str | os.PathLike]) -> list[Path]:
    """The videos of a job: each file as given, each folder's videos (`VIDEO_SUFFIXES`, any case,
    not hidden, not in sub-folders) sorted by name; a file named twice is taken once.

    Raises:
        GaitDataError: a path that does not exist, or a folder holding no video.
        ValueError: no input, or two videos with the same name (stem) in different folders, whose
            subjects `<stem>-tNN` would collide.
    """
    if not inputs:
        raise ValueError("no video given: name video files and/or folders of videos")
    files: dict[Path, Path] = {}  # resolved → as given
    for given in map(Path, inputs):
        if given.is_dir():
            found = sorted(p for p in given.iterdir() if _is_video_name(p) and p.is_file())
            if not found:
                raise GaitDataError(given, f"folder holds no video file ({', '.join(VIDEO_SUFFIXES)})")
        elif given.exists():
            found = [given]  # named explicitly: taken whatever its suffix
        else:
            raise GaitDataError(given, "video file does not exist")
        for path in found:
            files.setdefault(path.resolve(), path)
    by_stem: dict[str, Path] = {}
    for path in files.values():
        other = by_stem.setdefault(path.stem, path)
        if other is not path:
            raise ValueError(
                f"{other} and {path} would both become subjects '{path.stem}-tNN': rename one of them, "
                "or extract them into separate output folders"
            )
    return list(files.values())


def _is_video_name(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")  # not macOS '._x.mp4'


def _failure_reason(err: Exception) -> str:
    if isinstance(err, GaitDataError):
        return err.problem
    return f"OpenCV failed on it: {str(err).strip().splitlines()[-1]}"


def _options(given: dict) -> dict:
    """`extract_video_to_dataset`'s settings (`VIDEO_OPTIONS`): `given`, and its defaults for the rest."""
    unknown = sorted(set(given) - set(VIDEO_OPTIONS))
    if unknown:
        raise TypeError(f"unknown extraction options {unknown}: the options are {', '.join(VIDEO_OPTIONS)}")
    parameters = inspect.signature(extract_video_to_dataset).parameters
    return {name: given.get(name, parameters[name].default) for name in VIDEO_OPTIONS}


def extract_videos_to_dataset(
    videos: Sequence[str | os.PathLike],
    out_root: str | os.PathLike,
    shard=None,
    progress: Callable[[int, int], None] | None = None,
    frame_progress: Callable[[int, int], None] | None = None,
    **options,
) -> dict:
    """Extract the walkers of several videos, with the same settings, into one dataset `out_root`.

    Each video is extracted as `extract_video_to_dataset` does (its subjects `<stem>-tNN`, its
    manifest entry, a complete identical earlier run skipped). A video that cannot be used
    (corrupt, empty, truncated, no walking person in it) is skipped, its reason recorded under
    the manifest's "failed" and the summary's; the job goes on, and a rerun tries it again.

    Each process (one, or several under `torchrun` / `accelerate launch`, see
    `studio.jobs.sharding`) takes a contiguous share of the videos still to do (one video is
    one unit) and appends each video's row, as soon as its files are written, to its own rows
    file `manifest.shard-K-of-N.jsonl` (`manifest.jsonl` when alone), so no two processes write
    one file. Once all are done the main process writes every row into `manifest.jsonl`, this
    job's videos last and in the job's order, and deletes the shard files: every file is byte for
    byte that of one process (the rows' timings apart). A run killed anywhere (any process,
    `kill -9`) leaves its rows; the next run, with any number of processes, merges them first
    and redoes only the rest.

    Args:
        videos: video files and/or folders (their `VIDEO_SUFFIXES` files, sorted; `video_files`).
            Two videos with the same stem in different folders are refused before any work.
        out_root: the dataset folder, as for `extract_video_to_dataset`.
        shard: this process's share (default `current_shard()`).
        progress: `progress(videos_done, videos)` for this process's share, after each video.
        frame_progress: `progress(frames_read, frames_expected)` within each video.
        options: `extract_video_to_dataset`'s keywords, with its defaults, the same for every video:
            method, min_frames, track, max_frames, condition, view, previews, allow_truncated,
            resume, walker_check.

    Returns:
        The summary: "counts" (videos, extracted, reused, failed, tracks_kept, tracks_refused,
        sequences_written), "videos" (one record per video in the job's order: video, stem,
        status "extracted" / "reused" / "failed", sequences, refused, frames_read, removed, and
        the manifest "entry", or the "reason" it failed), "processes", "seconds" and "shard" (what
        this process made). The main process's covers the whole job; another's only its share.

    Raises:
        GaitDataError: a named path does not exist, or a folder holds no video.
        ValueError: same-stem videos, `out_root` overlapping a video's folder or holding another
            job, another video of the same name already in `out_root`, an unreadable manifest, or
            a bad argument.
        TypeError: an option `extract_video_to_dataset` does not take.
    """
    started = time.time()
    options = _options(options)
    resume, walker_check = options.pop("resume"), options["walker_check"]
    settings = extraction_settings(**options)
    files = video_files(videos)
    out_root = Path(out_root)
    for video in files:
        ensure_outside(out_root, video.parent)
    shard = shard or current_shard()
    folder = extraction_folder(out_root, shard)  # every process checks it; the main one merges earlier rows

    # 1. what is left to do, the same in every process
    signatures = {video.stem: video_signature(video) for video in files}
    entries = {stem: entry_of(folder.rows.get(stem)) for stem in signatures}
    for stem, signature in signatures.items():
        check_source(out_root, stem, entries[stem], signature)
    reused = {v.stem for v in files if resume and is_complete(out_root, entries[v.stem], signatures[v.stem], settings)}
    mine = shard.take([v for v in files if v.stem not in reused])

    # 2. this process's share, each video's row on disk before the next video starts
    made: dict[str, dict] = {}  # stem → row
    if progress:
        progress(0, len(mine))
    for done, video in enumerate(mine, start=1):
        stem = video.stem
        try:
            entry, removed = extract_entry(
                video, out_root, settings, signatures[stem], entries[stem], walker_check, frame_progress
            )
            made[stem] = done_row(stem, entry, removed)
        except (GaitDataError, cv2.error) as err:
            logger.warning("%s: skipped, %s", video, _failure_reason(err))
            made[stem] = skipped_row(stem, str(video), _failure_reason(err), entries[stem])
        folder.append(made[stem])
        if progress:
            progress(done, len(mine))
    # in `report_share`'s words: the units (videos) this process took, the clips (sequences) it wrote
    share = {"shard": str(shard), "index": shard.index + 1, "count": shard.count, "main": shard.is_main,
             "people": len(mine), "clips": sum(len(r["entry"]["tracks"]) for r in made.values()
                                               if r["status"] == "done")}  # fmt: skip

    # 3. the main process writes every process's rows, the job's videos in the job's order
    this_run = folder.gather()
    if shard.is_main:
        made = {row["stem"]: row for row in this_run}
    finish_extraction(folder, [v.stem for v in files], reused, this_run)  # complete when any process returns

    listed = files if shard.is_main else mine
    records = [_video_record(v, made.get(v.stem), entry_of(folder.rows.get(v.stem)), v.stem in reused)
               for v in listed]  # fmt: skip
    counts = {status: sum(r["status"] == status for r in records) for status in ("extracted", "reused", "failed")}
    return {
        "out_root": str(out_root),
        "manifest": str(out_root / MANIFEST),
        "counts": {
            "videos": len(records),
            **counts,
            "tracks_kept": sum(len(r["sequences"]) for r in records),
            "tracks_refused": sum(r["refused"] for r in records),
            "sequences_written": sum(len(r["sequences"]) for r in records if r["status"] == "extracted"),
        },
        "videos": records,
        "processes": shard.count,
        "seconds": round(time.time() - started, 2),
        "shard": share,
    }


def _video_record(video: Path, row: dict | None, entry: dict | None, reused: bool) -> dict:
    """One video's line in the summary of `extract_videos_to_dataset`: `row` is this run's (None:
    reused, or made by another process), `entry` its latest extraction's."""
    stem = video.stem
    record = {"video": str(video), "stem": stem}
    if (row is not None and row["status"] != "done") or entry is None:
        reason = row["reason"] if row is not None else "no result recorded"
        return {**record, "status": "failed", "reason": reason, "sequences": [], "refused": 0, "frames_read": 0}
    if row is not None:
        entry = row["entry"]
    return {
        **record,
        "status": "reused" if reused else "extracted",
        "sequences": [t["pkl"] for t in entry["tracks"]],
        "refused": len(entry.get("refused_tracks", [])),
        "frames_read": entry["frames_read"],
        "removed": row["removed"] if row is not None else [],
        "entry": entry,
    }
