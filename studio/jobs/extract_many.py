"""Batch job: many static-camera videos (files and folders of them) → one OpenGait-layout dataset.

`extract_videos_to_dataset` runs `studio.jobs.extract`'s extraction of one video over every
video of the job with the same settings: a video that cannot be used is skipped and its reason
kept under the manifest's "failed"; under `torchrun` / `accelerate launch` each process takes a
share of the videos and records them in its own `extract_manifest.shard-K-of-N.jsonl`, which the
main process folds into `extract_manifest.json` at the end (and a rerun after a kill at its start).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2

from gaitdata.atomic import atomic_write_text, ensure_outside
from gaitdata.errors import GaitDataError
from studio.jobs.extract import (
    MANIFEST_NAME,
    check_source,
    extract_entry,
    extract_video_to_dataset,
    extraction_settings,
    is_complete,
    read_manifest,
    video_signature,
    write_results,
)
from studio.jobs.sharding import _whole_rows, current_shard

logger = logging.getLogger(__name__)

SHARD_ROWS = "extract_manifest.shard-{index}-of-{count}.jsonl"  # one process's videos, a row each; index from 1
SHARD_ROWS_GLOB = "extract_manifest.shard-*-of-*.jsonl"
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


def _append_row(path: Path, row: dict) -> None:
    """One video's result, on disk before the next video starts (a kill leaves at most half a last line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _merge_parts(out_root: Path, parts: Sequence[Path]) -> dict:
    """Fold the rows of processes into `extract_manifest.json` and delete their files; returns what
    they held (`videos`: entries, `failed`, `removed`, by stem). A kill in between only repeats this."""
    held: dict[str, dict] = {"videos": {}, "failed": {}, "removed": {}}
    for row in (row for part in parts for row in _whole_rows(part)):
        if "entry" in row:
            held["videos"][row["stem"]], held["removed"][row["stem"]] = row["entry"], row["removed"]
            held["failed"].pop(row["stem"], None)
        else:
            held["failed"][row["stem"]] = row["failed"]
    if parts:
        write_results(out_root / MANIFEST_NAME, held["videos"], held["failed"])
        for part in parts:
            part.unlink(missing_ok=True)
    return held


def _in_job_order(existing: dict, stems: Sequence[str]) -> dict:
    """`existing` with the job's stems last, in the job's order: the same whichever process made what."""
    mine = set(stems)
    return {**{k: v for k, v in existing.items() if k not in mine}, **{s: existing[s] for s in stems if s in existing}}


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
    one unit) and appends each video's result, as soon as it is written, to its own rows file
    `extract_manifest.shard-K-of-N.jsonl`, so no two processes write one file. Once all are done
    the main process folds the rows into `extract_manifest.json`, this job's videos last and in
    the job's order, and deletes the rows files: every file is byte for byte that of one process
    (the timings apart). A run killed anywhere (any process, `kill -9`) leaves its rows files; the
    next run, with any number of processes, folds them in first and redoes only the rest.

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
        ValueError: same-stem videos, `out_root` overlapping a video's folder, another video of
            the same name already in `out_root`, an unreadable manifest, or a bad argument.
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
    manifest_path = out_root / MANIFEST_NAME
    read_manifest(manifest_path)  # every process refuses a bad folder before any of them waits
    shard = shard or current_shard()
    shard.wait()
    if shard.is_main:  # the parts of a killed run: its finished videos are kept
        _merge_parts(out_root, sorted(out_root.glob(SHARD_ROWS_GLOB)))
    shard.wait()

    # 1. what is left to do, the same in every process
    manifest = read_manifest(manifest_path)
    signatures = {video.stem: video_signature(video) for video in files}
    for stem, signature in signatures.items():
        check_source(out_root, stem, manifest["videos"].get(stem), signature)
    reused = {
        v.stem
        for v in files
        if resume and is_complete(out_root, manifest["videos"].get(v.stem), signatures[v.stem], settings)
    }
    mine = shard.take([v for v in files if v.stem not in reused])

    # 2. this process's share, each result on disk before the next video starts
    rows = out_root / SHARD_ROWS.format(index=shard.index + 1, count=shard.count)
    made: dict[str, dict] = {"videos": {}, "failed": {}, "removed": {}}
    if progress:
        progress(0, len(mine))
    for done, video in enumerate(mine, start=1):
        stem = video.stem
        try:
            entry, removed = extract_entry(
                video, out_root, settings, signatures[stem], manifest["videos"].get(stem), walker_check, frame_progress
            )
            made["videos"][stem], made["removed"][stem] = entry, removed
            _append_row(rows, {"stem": stem, "entry": entry, "removed": removed})
        except (GaitDataError, cv2.error) as err:
            logger.warning("%s: skipped, %s", video, _failure_reason(err))
            made["failed"][stem] = {"source": str(video), "reason": _failure_reason(err)}
            _append_row(rows, {"stem": stem, "failed": made["failed"][stem]})
        if progress:
            progress(done, len(mine))
    # in `report_share`'s words: the units (videos) this process took, the clips (sequences) it wrote
    share = {"shard": str(shard), "index": shard.index + 1, "count": shard.count, "main": shard.is_main,
             "people": len(mine), "clips": sum(len(e["tracks"]) for e in made["videos"].values())}  # fmt: skip

    # 3. the main process folds every process's rows in, the job's videos in the job's order
    shard.wait()
    if shard.is_main:
        parts = [out_root / SHARD_ROWS.format(index=k + 1, count=shard.count) for k in range(shard.count)]
        made = _merge_parts(out_root, [p for p in parts if p.is_file()])
        manifest = read_manifest(manifest_path)
        stems = [v.stem for v in files]
        manifest["videos"] = _in_job_order(manifest["videos"], stems)
        for stem in reused:  # failed in some run, done in another since
            manifest.get("failed", {}).pop(stem, None)
        if manifest.get("failed"):
            manifest["failed"] = _in_job_order(manifest["failed"], stems)
        else:
            manifest.pop("failed", None)
        out_root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")
    shard.wait()  # the manifest is complete when any process returns

    entries = read_manifest(manifest_path)["videos"]
    listed = files if shard.is_main else mine
    records = [_video_record(v, made, entries.get(v.stem), v.stem in reused) for v in listed]
    counts = {status: sum(r["status"] == status for r in records) for status in ("extracted", "reused", "failed")}
    return {
        "out_root": str(out_root),
        "manifest": str(manifest_path),
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


def _video_record(video: Path, made: dict, entry: dict | None, reused: bool) -> dict:
    """One video's line in the summary of `extract_videos_to_dataset`."""
    stem = video.stem
    record = {"video": str(video), "stem": stem}
    if stem in made["failed"] or entry is None:
        reason = made["failed"].get(stem, {}).get("reason", "no result recorded")
        return {**record, "status": "failed", "reason": reason, "sequences": [], "refused": 0, "frames_read": 0}
    return {
        **record,
        "status": "reused" if reused else "extracted",
        "sequences": [t["pkl"] for t in entry["tracks"]],
        "refused": len(entry.get("refused_tracks", [])),
        "frames_read": entry["frames_read"],
        "removed": made["removed"].get(stem, []),
        "entry": entry,
    }
