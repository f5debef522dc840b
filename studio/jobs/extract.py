"""Batch job: a static-camera video → an OpenGait-layout dataset of its walkers, with previews.

What lands in `out_root` for a video `clip.avi`:

- `clip-tNN/<condition>/<view>/<view>.pkl`: one sequence per walker track, `uint8 [T, 64, 64]`
  (`write_pkl_sequence`; nothing else goes in a sequence folder, OpenGait refuses other files);
- `previews/clip/clip-tNN.gif` and `.png` (animation and frame strip per track),
  `previews/clip/tracks.png` (the video frame with the most walkers in view, their boxes and
  paths drawn; tracks refused as not walking people in red, with their reasons listed in a
  band under the frame) and `previews/clip/all_tracks.png` (one strip row per track);
- `manifest.json` and `manifest.jsonl`, the one job-folder format of every batch job
  (`gaitdata.job_folder`): `manifest.jsonl` holds one row per video (`"stem"`), "done" with its
  "entry" (its signature, the settings, the walker check's thresholds among them, what was
  found per track: subject, frames, first/last video frame, box statistics, gaps, the walker
  check's measures, files; `refused_tracks`: label, frames, reasons and measures of each track
  the walker check refused; timings) and the pkls it "removed", or "skipped" with its "source"
  and "reason" (and the "entry" of an earlier extraction of it, if any), until a rerun extracts
  it; `manifest.json` counts them and lists the skipped videos under "failed". A folder written
  before that format (`extract_manifest.json`) is read and converted on the next run.

Several videos may share one `out_root` (each has its own row and subjects), and the folder may
hold other files (not another job's manifest). A rerun with the same video and settings whose
files are all present is skipped; otherwise the video is extracted again and the sequences its
previous run wrote but this one did not are removed. Every file is written atomically (rows:
appended and flushed); nothing is written into the video's folder.

`studio.jobs.extract_many.extract_videos_to_dataset` does this for many videos in one job,
sharded over processes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gaitdata.atomic import ensure_outside
from gaitdata.errors import GaitDataError
from gaitdata.job_folder import MANIFEST, MANIFEST_ROWS, OPENGAIT_LAYOUT, read_rows
from gaitdata.opengait import write_pkl_sequence
from gaitdata.preview import png_strip, write_gif, write_png, write_png_strip
from gaitdata.video import VideoExtraction, draw_tracks, extract_walkers, read_video_frame
from gaitdata.walker_check import WalkerCheck
from studio.jobs.sharding import JobFolder, Shard

logger = logging.getLogger(__name__)

MANIFEST_KIND = "gait-studio video extraction"
# before the one job-folder format: its manifest and rows files, converted on the next run
EARLIER_MANIFEST = "extract_manifest.json"
EARLIER_SHARD_ROWS_GLOB = "extract_manifest.shard-*-of-*.jsonl"
PREVIEW_DIR = "previews"
# what a folder's videos are recognised by (any case); a file named explicitly is taken whatever its suffix
# the keywords of `extract_video_to_dataset` that `extract_videos_to_dataset` applies to every video


@dataclass
class ExtractionSummary:
    """What `extract_video_to_dataset` did.

    Attributes:
        out_root: the dataset folder.
        manifest_path: `manifest.json` in it (this video's row: `manifest.jsonl`).
        entry: this video's manifest entry (its row's "entry", JSON-ready; `entry["tracks"]` per walker).
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


def video_signature(video: Path) -> dict:
    st = video.stat()
    return {"source": str(video.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


# ---- the job folder: one row per video -------------------------------------------------------
def extraction_folder(out_root: Path, shard: Shard) -> JobFolder:
    """The extraction job folder `out_root`, as this process sees it: `rows` holds every video's
    latest row by stem, whatever the settings it was extracted with (each entry keeps its own)."""
    return JobFolder(out_root, MANIFEST_KIND, {}, shard, key="stem", layout=OPENGAIT_LAYOUT, keep=lambda row: True,
                     foreign_files=True, earlier=_earlier_extraction)  # fmt: skip


def done_row(stem: str, entry: dict, removed: list[str]) -> dict:
    return {"stem": stem, "status": "done", "entry": entry, "removed": removed}


def skipped_row(stem: str, source: str, reason: str, entry: dict | None) -> dict:
    """A video that could not be used; the entry of an earlier extraction of it stays (its pkls do)."""
    row = {"stem": stem, "status": "skipped", "source": source, "reason": reason}
    return {**row, "entry": entry} if entry else row


def entry_of(row: dict | None) -> dict | None:
    """The entry of a video's latest extraction (None: none yet)."""
    return (row or {}).get("entry")


def video_entries(out_root: str | os.PathLike) -> dict[str, dict]:
    """The latest extraction's entry of every video in the dataset `out_root`, by stem."""
    rows = read_rows(Path(out_root) / MANIFEST_ROWS)
    return {row["stem"]: row["entry"] for row in rows if isinstance(row.get("entry"), dict)}


def _earlier_extraction(root: Path) -> dict | None:
    """A folder written before the one job-folder format (`extract_manifest.json` and the rows
    files of a killed many-video job), as rows of this one; None when there is none."""
    path, parts = root / EARLIER_MANIFEST, sorted(root.glob(EARLIER_SHARD_ROWS_GLOB))
    if not path.is_file() and not parts:
        return None
    old = {"videos": {}}
    if path.is_file():
        try:
            old = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path}: unreadable manifest ({err}); choose another output folder") from None
        if not isinstance(old, dict) or old.get("kind") != MANIFEST_KIND:
            raise ValueError(f"{path}: not a video-extraction manifest; choose another output folder")
    rows = {stem: done_row(stem, entry, []) for stem, entry in old.get("videos", {}).items()}
    for stem, failed in old.get("failed", {}).items():  # not cleared by an extraction since: the latest
        rows[stem] = skipped_row(stem, failed.get("source", ""), failed.get("reason", ""), entry_of(rows.get(stem)))
    for row in (row for part in parts for row in read_rows(part)):
        stem = row.get("stem")
        if "entry" in row:
            rows[stem] = done_row(stem, row["entry"], row.get("removed", []))
        elif "failed" in row:
            failed = row["failed"]
            rows[stem] = skipped_row(stem, failed.get("source", ""), failed.get("reason", ""), entry_of(rows.get(stem)))
    return {"kind": MANIFEST_KIND, "settings": {}, "rows": list(rows.values()), "files": [path, *parts]}


def finish_extraction(folder: JobFolder, stems: list[str], reused: set[str], this_run: list[dict] | None) -> dict:
    """After `folder.gather()` (`this_run`): the main process writes every video's row, the job's
    `stems` last and in the job's order (the same whichever process made what), and the manifest;
    every process returns the manifest."""
    rows = None
    if folder.shard.is_main:
        # the rows as they are now (another job may have added a video meanwhile), this run's over them
        now = {row["stem"]: row for row in read_rows(folder.root / MANIFEST_ROWS) if isinstance(row.get("stem"), str)}
        folder.rows = {**folder.rows, **now, **{row["stem"]: row for row in this_run}}
        for stem in reused:  # skipped in some run, its earlier extraction taken again since
            if folder.rows[stem]["status"] != "done":
                folder.rows[stem] = done_row(stem, folder.rows[stem]["entry"], [])
        others = [row for stem, row in folder.rows.items() if stem not in set(stems)]
        rows = others + [folder.rows[stem] for stem in stems if stem in folder.rows]
        entries = [r["entry"] for r in rows if r["status"] == "done"]
        failed = {r["stem"]: {"source": r["source"], "reason": r["reason"]} for r in rows if r["status"] != "done"}
        summary = {"counts": {"videos": len(entries), "sequences": sum(len(e["tracks"]) for e in entries),
                              "failed": len(failed)}, "failed": failed}  # fmt: skip
    return folder.finish(summary if rows is not None else None, rows)


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


def extraction_settings(
    method, min_frames, track, max_frames, condition, view, previews, allow_truncated, walker_check
) -> dict:
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


def check_source(out_root: Path, stem: str, previous: dict | None, signature: dict) -> None:
    """Refuse a video whose subjects `<stem>-tNN` another video already holds in `out_root`."""
    if previous and previous.get("source") != signature["source"]:
        raise ValueError(
            f"{out_root}: already holds sequences of another video named '{stem}' ({previous.get('source')}); "
            "rename the video or choose another output folder"
        )


def is_complete(out_root: Path, previous: dict | None, signature: dict, settings: dict) -> bool:
    """True when `previous` is a complete run of this very video (size, mtime) with `settings`, files present."""
    return bool(
        previous
        and previous.get("complete")
        and {k: previous.get(k) for k in signature} == signature
        and previous.get("settings") == settings
        and all((out_root / t["pkl"]).is_file() for t in previous.get("tracks", []))
    )


def extract_entry(
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
    settings = extraction_settings(
        method, min_frames, track, max_frames, condition, view, previews, allow_truncated, walker_check
    )
    signature = video_signature(video)
    folder = extraction_folder(out_root, Shard())
    previous = entry_of(folder.rows.get(stem))
    check_source(out_root, stem, previous, signature)
    if resume and is_complete(out_root, previous, signature, settings):
        logger.info("%s: already extracted to %s with the same settings; nothing to do", video, out_root)
        finish_extraction(folder, [stem], {stem}, [])
        return ExtractionSummary(out_root, out_root / MANIFEST, previous, reused=True)
    try:
        entry, removed = extract_entry(video, out_root, settings, signature, previous, walker_check, progress)
    except GaitDataError as err:  # recorded, as a many-video job records it, then raised
        folder.append(skipped_row(stem, str(video), err.problem, previous))
        finish_extraction(folder, [stem], set(), folder.gather())
        raise
    folder.append(done_row(stem, entry, removed))
    finish_extraction(folder, [stem], set(), folder.gather())
    return ExtractionSummary(out_root, out_root / MANIFEST, entry, removed=removed)
