"""Batch job: a static-camera video → an OpenGait-layout dataset of its walkers, with previews.

What lands in `out_root` for a video `clip.avi`:

- `clip-tNN/<condition>/<view>/<view>.pkl`: one sequence per walker track, `uint8 [T, 64, 64]`
  (`write_pkl_sequence`; nothing else goes in a sequence folder, OpenGait refuses other files);
- `previews/clip/clip-tNN.gif` and `.png` (animation and frame strip per track),
  `previews/clip/tracks.png` (the video frame with the most walkers in view, their boxes and
  paths drawn; tracks refused as not walking people in red, with their reasons listed in a
  band under the frame) and `previews/clip/all_tracks.png` (one strip row per track);
- `extract_manifest.json`: per video, its signature, the settings (the walker check's
  thresholds among them), what was found per track (subject, frames, first/last video frame,
  box statistics, gaps, the walker check's measures, files), `refused_tracks` (label, frames,
  reasons and measures of each track the walker check refused) and timings; under "failed",
  the videos of a many-video job that could not be used (source, reason), until a rerun extracts them.

Several videos may share one `out_root` (each has its own manifest entry and subjects). A
rerun with the same video and settings whose files are all present is skipped; otherwise the
video is extracted again and the sequences its previous run wrote but this one did not are
removed. Every file is written atomically; nothing is written into the video's folder.

`extract_videos_to_dataset` does this for many videos (files and folders of them) in one job:
a video that cannot be used is skipped and its reason kept under the manifest's "failed"; under
`torchrun` / `accelerate launch` each process takes a share of the videos and records them in
its own `extract_manifest.shard-K-of-N.jsonl`, which the main process folds into
`extract_manifest.json` at the end (and a rerun after a kill at its start).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from gaitdata.atomic import atomic_write_text, ensure_outside
from gaitdata.errors import GaitDataError
from gaitdata.opengait import write_pkl_sequence
from gaitdata.preview import png_strip, write_gif, write_png, write_png_strip
from gaitdata.video import VideoExtraction, draw_tracks, extract_walkers, read_video_frame
from gaitdata.walker_check import WalkerCheck
from studio.jobs.sharding import _whole_rows, current_shard

logger = logging.getLogger(__name__)

MANIFEST_NAME = "extract_manifest.json"
MANIFEST_KIND = "gait-studio video extraction"
MANIFEST_VERSION = 1
PREVIEW_DIR = "previews"
SHARD_ROWS = "extract_manifest.shard-{index}-of-{count}.jsonl"  # one process's videos, a row each; index from 1
SHARD_ROWS_GLOB = "extract_manifest.shard-*-of-*.jsonl"
# what a folder's videos are recognised by (any case); a file named explicitly is taken whatever its suffix
VIDEO_SUFFIXES = (".avi", ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg", ".webm", ".wmv")
# the keywords of `extract_video_to_dataset` that `extract_videos_to_dataset` applies to every video
VIDEO_OPTIONS = ("method", "min_frames", "track", "max_frames", "condition", "view", "previews", "allow_truncated",
                 "resume", "walker_check")  # fmt: skip


@dataclass
class ExtractionSummary:
    """What `extract_video_to_dataset` did.

    Attributes:
        out_root: the dataset folder.
        manifest_path: `extract_manifest.json` in it.
        entry: this video's manifest entry (JSON-ready dict; `entry["tracks"]` per walker).
        reused: True when an identical earlier run was found complete and nothing was redone.
        removed: pkl files of an earlier run of this video that this run no longer produces.
    """

    out_root: Path
    manifest_path: Path
    entry: dict
    reused: bool = False
    removed: list[str] = field(default_factory=list)

    @property
    def sequence_paths(self) -> list[Path]:
        return [self.out_root / t["pkl"] for t in self.entry["tracks"]]

    def to_dict(self) -> dict:
        return {
            "out_root": str(self.out_root),
            "manifest": str(self.manifest_path),
            "reused": self.reused,
            "removed": list(self.removed),
            **self.entry,
        }


def _video_signature(video: Path) -> dict:
    st = video.stat()
    return {"source": str(video.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_manifest(path: Path) -> dict:
    if not path.is_file():
        return {"kind": MANIFEST_KIND, "version": MANIFEST_VERSION, "videos": {}}
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: unreadable manifest ({err}); choose another output folder") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        raise ValueError(f"{path}: not a video-extraction manifest; choose another output folder")
    manifest.setdefault("videos", {})
    return manifest


def _box_stats(boxes: np.ndarray) -> dict:
    heights = boxes[:, 3] - boxes[:, 1]
    widths = boxes[:, 2] - boxes[:, 0]
    return {
        "height_px": {"min": int(heights.min()), "median": float(np.median(heights)), "max": int(heights.max())},
        "width_px": {"min": int(widths.min()), "median": float(np.median(widths)), "max": int(widths.max())},
        "hw_ratio_median": round(float(np.median(heights / np.maximum(widths, 1))), 3),
    }


def _write_previews(out_root: Path, video: Path, result: VideoExtraction, stem: str) -> tuple[dict, dict]:
    """Per-track GIF + PNG strip, the contact sheet, the all-tracks strip; returns relative paths."""
    folder = out_root / PREVIEW_DIR / stem
    per_track = {}
    for seq in result.sequences:
        gif = write_gif(folder / f"{seq.subject}.gif", seq, fps=result.fps, scale=3)
        png = write_png_strip(folder / f"{seq.subject}.png", seq, num_frames=10, scale=2)
        per_track[seq.subject] = {
            "preview_gif": gif.relative_to(out_root).as_posix(),
            "preview_png": png.relative_to(out_root).as_posix(),
        }
    if result.snapshot is not None:
        frame, index = result.snapshot, result.snapshot_index
    else:  # every kept track was shorter than min_frames when last seen: use a middle frame
        index = int(result.tracks[0].frame_indices[len(result.tracks[0].frame_indices) // 2])
        frame = read_video_frame(video, index)
    sheet = write_png(folder / "tracks.png", draw_tracks(frame, result.tracks, index, refused=result.refused))
    labels = [seq.subject.rsplit("-", 1)[-1] for seq in result.sequences]
    strip = write_png(folder / "all_tracks.png", png_strip(result.sequences, num_frames=12, scale=1.5, labels=labels))
    shared = {
        "contact_sheet": sheet.relative_to(out_root).as_posix(),
        "contact_sheet_frame": index,
        "all_tracks_strip": strip.relative_to(out_root).as_posix(),
    }
    return per_track, shared


def _remove_stale(out_root: Path, previous: dict | None, keep: set[str]) -> list[str]:
    """Delete the pkls (and then-empty folders) an earlier run of this video wrote and this one did not."""
    removed = []
    for t in (previous or {}).get("tracks", []):
        rel = t.get("pkl")
        if not rel or rel in keep:
            continue
        path = (out_root / rel).resolve()
        if out_root.resolve() not in path.parents or path.suffix != ".pkl" or not path.is_file():
            continue  # only ever our own pkls inside the dataset
        path.unlink()
        removed.append(rel)
        for folder in list(path.parents)[:3]:  # <view>, <condition>, <subject>
            if folder == out_root.resolve() or any(folder.iterdir()):
                break
            folder.rmdir()
        for key in ("preview_gif", "preview_png"):
            if t.get(key) and (out_root / t[key]).is_file():
                (out_root / t[key]).unlink()
    return removed


def _settings(method, min_frames, track, max_frames, condition, view, previews, allow_truncated, walker_check) -> dict:
    """Everything that decides what a video's extraction writes (a rerun must match it to be skipped)."""
    return {
        "method": method,
        "min_frames": min_frames,
        "track": track,
        "max_frames": max_frames,
        "condition": condition,
        "view": view,
        "previews": previews,
        "allow_truncated": allow_truncated,
        "walker_check": (walker_check or WalkerCheck()).to_dict(),
    }


def _check_source(out_root: Path, stem: str, previous: dict | None, signature: dict) -> None:
    """Refuse a video whose subjects `<stem>-tNN` another video already holds in `out_root`."""
    if previous and previous.get("source") != signature["source"]:
        raise ValueError(
            f"{out_root}: already holds sequences of another video named '{stem}' ({previous.get('source')}); "
            "rename the video or choose another output folder"
        )


def _is_complete(out_root: Path, previous: dict | None, signature: dict, settings: dict) -> bool:
    """True when `previous` is a complete run of this very video (size, mtime) with `settings`, files present."""
    return bool(
        previous
        and previous.get("complete")
        and {k: previous.get(k) for k in signature} == signature
        and previous.get("settings") == settings
        and all((out_root / t["pkl"]).is_file() for t in previous.get("tracks", []))
    )


def _extract_entry(
    video: Path,
    out_root: Path,
    settings: dict,
    signature: dict,
    previous: dict | None,
    walker_check: WalkerCheck | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[dict, list[str]]:
    """Extract `video`, write its sequences (and previews), remove its stale ones: (manifest entry, removed)."""
    result = extract_walkers(
        video,
        method=settings["method"],
        min_frames=settings["min_frames"],
        max_frames=settings["max_frames"],
        track=settings["track"],
        condition=settings["condition"],
        view=settings["view"],
        allow_truncated=settings["allow_truncated"],
        walker_check=walker_check,
        progress=progress,
    )
    out_root.mkdir(parents=True, exist_ok=True)
    tracks = []
    for seq, tr in zip(result.sequences, result.tracks, strict=True):
        pkl = write_pkl_sequence(out_root, seq)
        tracks.append(
            {
                "subject": seq.subject,
                "condition": seq.condition,
                "view": seq.view,
                "pkl": pkl.relative_to(out_root).as_posix(),
                "frames": seq.num_frames,
                "first_frame": int(tr.frame_indices[0]),
                "last_frame": int(tr.frame_indices[-1]),
                "gaps": seq.extra["gaps"],
                "occluded_frames": tr.occluded_frames,
                "partial_frames": tr.partial_frames,
                "area_rel_change_median": seq.extra["area_rel_change_median"],
                "foreground_fraction": round(float((seq.frames > 127).mean()), 4),
                "boxes": _box_stats(tr.boxes),
                "walker_check": tr.verdict.to_dict() if tr.verdict is not None else None,
                "source": str(video),
            }
        )
    refused = [
        {
            "label": r.label,
            "frames": r.num_frames,
            "first_frame": int(r.frame_indices[0]),
            "last_frame": int(r.frame_indices[-1]),
            "reasons": list(r.verdict.reasons),
            "measures": dict(r.verdict.measures),
            "boxes": _box_stats(r.boxes),
        }
        for r in result.refused
    ]
    shared = {}
    if settings["previews"]:
        per_track, shared = _write_previews(out_root, video, result, video.stem)
        for t in tracks:
            t.update(per_track[t["subject"]])
    removed = _remove_stale(out_root, previous, {t["pkl"] for t in tracks})
    entry = {
        **signature,
        "complete": True,
        "settings": settings,
        "fps": result.fps,
        "frame_size": list(result.frame_size),
        "frames_read": result.num_frames_read,
        "frames_per_s": round(result.frames_per_second, 1),
        "timings_s": result.timings,
        "stats": result.stats,
        **shared,
        "tracks": tracks,
        "refused_tracks": refused,
    }
    logger.info("%s: %d walker sequences written to %s", video, len(tracks), out_root)
    return entry, removed


def _write_results(manifest_path: Path, videos: dict, failed: dict) -> None:
    """Put these videos' entries and failures into the manifest, re-read just before writing
    (another video may have been added to this root meanwhile); an entry clears a failure."""
    manifest = _read_manifest(manifest_path)
    for stem, entry in videos.items():
        manifest["videos"][stem] = entry
        manifest.get("failed", {}).pop(stem, None)
    if failed:
        manifest.setdefault("failed", {}).update(failed)
    if not manifest.get("failed"):
        manifest.pop("failed", None)
    atomic_write_text(manifest_path, json.dumps(manifest, indent=1) + "\n")


def extract_video_to_dataset(
    video: str | os.PathLike,
    out_root: str | os.PathLike,
    method: str = "mog2",
    min_frames: int = 20,
    track: str = "all",
    max_frames: int | None = None,
    condition: str = "nm-01",
    view: str = "unk",
    previews: bool = True,
    allow_truncated: bool = False,
    resume: bool = True,
    walker_check: WalkerCheck | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExtractionSummary:
    """Extract every walker of `video` (see `gaitdata.video.extract_walkers`) into `out_root`.

    One process only: for several videos, or several processes, see `extract_videos_to_dataset`.

    Args:
        video: a static-camera video file.
        out_root: dataset folder (created; may already hold other videos' or datasets' sequences).
            It must lie outside the folder holding the video.
        method, min_frames, track, max_frames, condition, view, allow_truncated: passed on to
            `extract_walkers`.
        previews: write the GIF / PNG previews and the contact sheet under `previews/`.
        walker_check: thresholds deciding which tracks are walking people (None = the
            defaults of `gaitdata.walker_check.WalkerCheck`; `WalkerCheck(enabled=False)`
            keeps every travelling track). Part of the settings a rerun must match to be skipped.
        resume: skip the work when the manifest shows this video (same size and mtime) was
            already extracted completely with the same settings.
        progress: `progress(frames_read, frames_expected)` after each frame.

    Returns:
        `ExtractionSummary`.

    Raises:
        GaitDataError: the video cannot be decoded or holds no walking person.
        ValueError: `out_root` overlaps the video's folder, or a bad argument.
    """
    video = Path(video)
    out_root = Path(out_root)
    if not video.is_file():
        raise GaitDataError(video, "video file does not exist" if not video.exists() else "is not a file")
    ensure_outside(out_root, video.parent)
    stem = video.stem
    settings = _settings(
        method, min_frames, track, max_frames, condition, view, previews, allow_truncated, walker_check
    )
    manifest_path = out_root / MANIFEST_NAME
    manifest = _read_manifest(manifest_path)
    signature = _video_signature(video)
    previous = manifest["videos"].get(stem)
    _check_source(out_root, stem, previous, signature)
    if resume and _is_complete(out_root, previous, signature, settings):
        logger.info("%s: already extracted to %s with the same settings; nothing to do", video, out_root)
        return ExtractionSummary(out_root, manifest_path, previous, reused=True)
    entry, removed = _extract_entry(video, out_root, settings, signature, previous, walker_check, progress)
    _write_results(manifest_path, {stem: entry}, {})
    return ExtractionSummary(out_root, manifest_path, entry, removed=removed)


# ---- several videos, several processes ------------------------------------------------------
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
        _write_results(out_root / MANIFEST_NAME, held["videos"], held["failed"])
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
    settings = _settings(**options)
    files = video_files(videos)
    out_root = Path(out_root)
    for video in files:
        ensure_outside(out_root, video.parent)
    manifest_path = out_root / MANIFEST_NAME
    _read_manifest(manifest_path)  # every process refuses a bad folder before any of them waits
    shard = shard or current_shard()
    shard.wait()
    if shard.is_main:  # the parts of a killed run: its finished videos are kept
        _merge_parts(out_root, sorted(out_root.glob(SHARD_ROWS_GLOB)))
    shard.wait()

    # 1. what is left to do, the same in every process
    manifest = _read_manifest(manifest_path)
    signatures = {video.stem: _video_signature(video) for video in files}
    for stem, signature in signatures.items():
        _check_source(out_root, stem, manifest["videos"].get(stem), signature)
    reused = {
        v.stem
        for v in files
        if resume and _is_complete(out_root, manifest["videos"].get(v.stem), signatures[v.stem], settings)
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
            entry, removed = _extract_entry(
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
        manifest = _read_manifest(manifest_path)
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

    entries = _read_manifest(manifest_path)["videos"]
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
