"""What the edit, anonymize and augment jobs read: the clips of a dataset root, or one clip.

`input_sources` resolves the job's input (an OpenGait-layout root read by `scan_opengait`, or a
single `.pkl`, `.npz`, sequence folder or folder of mask images read by `read_sequence`) into
`ClipSource`s, not read yet; `source_settings` is how a manifest names that input.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

from gaitdata import GaitDataError, GaitSequence
from gaitdata.opengait import SequenceEntry, read_pkl_sequence, scan_opengait
from gaitdata.png_folder import IMAGE_SUFFIXES
from gaitdata.readers import read_sequence


@dataclass(frozen=True)
class ClipSource:
    """One input clip, not yet read: its key in the layout, its path for the manifest, a reader."""

    key: tuple[str, str, str]  # (subject, condition, view)
    path: str  # relative to the input root (the file name for a single clip)
    entry: SequenceEntry | None = None  # dataset clips
    file: Path | None = None  # a single clip

    def read(self) -> GaitSequence:
        if self.entry is not None:
            return read_pkl_sequence(self.entry)
        seq = read_sequence(self.file)
        return dataclasses.replace(seq, subject=self.key[0], condition=self.key[1], view=self.key[2])


def _folder_name(text: str, fallback: str) -> str:
    """A metadata value usable as one folder name of the layout."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text)).strip("._")
    return name or fallback


def _is_single_clip(path: Path) -> bool:
    if path.is_file():
        return True
    return path.is_dir() and any(
        p.is_file() and (p.suffix.lower() == ".pkl" or p.suffix.lower() in IMAGE_SUFFIXES) for p in path.iterdir()
    )


def _single_clip_key(seq: GaitSequence, path: Path) -> tuple[str, str, str]:
    """Metadata of a clip read on its own; names taken from folders are trusted only when they look
    like a layout's (a view angle, a nm/bg/cl condition), else the file's stem names the subject."""
    from generators.conditions import covariates_from_condition, parse_view

    view = condition = "unknown"
    try:
        parse_view(seq.view)
        view = seq.view
    except ValueError:
        pass
    try:
        covariates_from_condition(seq.condition)
        condition = seq.condition
    except ValueError:
        pass
    subject = seq.subject if "unknown" not in (view, condition) else path.stem
    return _folder_name(subject, "clip"), _folder_name(condition, "unknown"), _folder_name(view, "unknown")


def input_sources(
    data_root: str | os.PathLike, subjects=None, conditions=None, views=None
) -> tuple[list[ClipSource], Path, str]:
    """The clips of `data_root` (a dataset root or one clip) → (sources, the input path, its kind).

    Raises:
        GaitDataError: the input does not exist, or a single clip cannot be read at all.
    """
    path = Path(data_root)
    if not path.exists():
        raise GaitDataError(path, "does not exist")
    if _is_single_clip(path):
        seq = read_sequence(path)  # a lone clip that cannot be read is an error, not a skip
        key = _single_clip_key(seq, path)
        return [ClipSource(key, path.name, file=path)], path, "clip"
    entries = scan_opengait(path, subjects=subjects, conditions=conditions, views=views)
    if not entries:
        wanted = {"subjects": subjects, "conditions": conditions, "views": views}
        wanted = ", ".join(f"{k} {list(v)}" for k, v in wanted.items() if v is not None)
        raise GaitDataError(
            path, "no sequence folders (<subject>/<condition>/<view>/) " + (f"of {wanted}" if wanted else "here")
        )
    return [dataset_source(path, e) for e in entries], path, "dataset"


def dataset_source(root: Path, entry: SequenceEntry) -> ClipSource:
    """The source of one clip of the dataset at `root`, named by its folder relative to the root."""
    return ClipSource(entry.key, entry.folder.relative_to(root).as_posix(), entry=entry)


def source_settings(data_root, kind, subjects, conditions, views) -> dict:
    """The manifest's settings naming the input: its path, kind ('dataset' or 'clip') and filters."""
    return {
        "input": str(Path(data_root).resolve()),
        "input_kind": kind,
        "subjects": None if subjects is None else sorted(map(str, subjects)),
        "conditions": None if conditions is None else list(map(str, conditions)),
        "views": None if views is None else list(map(str, views)),
    }


__all__ = ["ClipSource", "dataset_source", "input_sources", "source_settings"]
