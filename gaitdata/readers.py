"""`read_sequence`: open whatever a user points at (pkl, sequence folder, PNG folder, npz)."""

from __future__ import annotations

import os
from pathlib import Path

from gaitdata.errors import GaitDataError
from gaitdata.npz_file import read_npz
from gaitdata.opengait import SequenceEntry, read_pkl_sequence
from gaitdata.png_folder import IMAGE_SUFFIXES, read_png_folder
from gaitdata.sequence import GaitSequence


def _layout_meta(folder: Path) -> tuple[str, str, str]:
    parts = folder.resolve().parts
    padded = ("unknown",) * 3 + parts
    return padded[-3], padded[-2], padded[-1]


def read_sequence(path: str | os.PathLike, modality: str | None = None) -> GaitSequence:
    """Read one silhouette sequence from a path of any supported kind.

    - an OpenGait `.pkl` file, or a sequence folder holding pkls (subject/condition/view are
      taken from the folder's place in the layout);
    - a folder of mask images (pretreated the OpenGait way);
    - a `.npz` with a `frames` array.

    Videos hold several people: use `gaitdata.video.extract_walkers` for them.

    Raises:
        GaitDataError: naming the path and the problem.
    """
    path = Path(path)
    if not path.exists():
        raise GaitDataError(path, "does not exist")
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".pkl":
            subject, condition, view = _layout_meta(path.parent)
            return read_pkl_sequence(SequenceEntry(subject, condition, view, path.parent, (path,)))
        if suffix == ".npz":
            return read_npz(path)
        raise GaitDataError(path, f"unsupported file type '{suffix}' (expected .pkl, .npz or a folder)")
    pkls = tuple(sorted(p for p in path.iterdir() if p.suffix.lower() == ".pkl"))
    if pkls:
        subject, condition, view = _layout_meta(path)
        return read_pkl_sequence(SequenceEntry(subject, condition, view, path, pkls), modality)
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()):
        return read_png_folder(path)
    raise GaitDataError(path, "folder holds no .pkl or image frames")
