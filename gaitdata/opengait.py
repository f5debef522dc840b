"""The OpenGait dataset layout: `<root>/<subject>/<condition>/<view>/<anything>.pkl`.

Each pkl holds one pickled numpy array `[T, 64, 64]` (read here through the numpy-only
unpickler). Some datasets keep several pkls per folder, one per modality; `modality` picks one
by file-name substring, otherwise the first in sorted order is used. What this module writes,
OpenGait's own loader reads: one `{view}.pkl` per sequence folder and nothing else in it
(OpenGait refuses any other file there), partition JSON with `TRAIN_SET` / `TEST_SET`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gaitdata.atomic import atomic_open, atomic_write_text
from gaitdata.errors import GaitDataError
from gaitdata.safe_pickle import dump_array_pickle, load_array_pickle
from gaitdata.sequence import GaitSequence

logger = logging.getLogger(__name__)

DEFAULT_FPS = 25.0


@dataclass(frozen=True)
class SequenceEntry:
    """One sequence folder of an OpenGait-layout dataset, not yet read."""

    subject: str
    condition: str
    view: str
    folder: Path
    files: tuple[Path, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.subject, self.condition, self.view)


@dataclass
class ReadReport:
    """What happened while reading a dataset: how much loaded, what was skipped and why."""

    loaded: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, problem)
    single_frame: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.loaded} sequences read, {len(self.skipped)} skipped"
        if self.single_frame:
            text += f", {len(self.single_frame)} with a single frame"
        return text

    def to_dict(self) -> dict:
        return {
            "loaded": self.loaded,
            "skipped": [{"path": p, "problem": m} for p, m in self.skipped],
            "single_frame": list(self.single_frame),
        }


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def scan_opengait(
    root: str | os.PathLike,
    subjects: Iterable[str] | None = None,
    conditions: Iterable[str] | None = None,
    views: Iterable[str] | None = None,
    suffix: str = ".pkl",
) -> list[SequenceEntry]:
    """Index the sequence folders of an OpenGait-layout dataset (nothing is read yet).

    Args:
        root: dataset root holding one folder per subject.
        subjects, conditions, views: keep only these (None = all). Conditions match exactly
            (`"nm-01"`) or by type prefix (`"nm"` keeps nm-01…nm-06).
        suffix: frame-file suffix that marks a sequence folder (`.pkl`, or `.png` for raw CASIA-B).

    Raises:
        GaitDataError: `root` is missing or not a folder.
    """
    root = Path(root)
    if not root.exists():
        raise GaitDataError(root, "dataset folder does not exist")
    if not root.is_dir():
        raise GaitDataError(root, "is a file, expected a dataset folder in the OpenGait layout")
    subject_set = None if subjects is None else {str(s) for s in subjects}
    view_set = None if views is None else {str(v) for v in views}
    cond_list = None if conditions is None else [str(c) for c in conditions]
    entries = []
    for subject_dir in _subfolders(root):
        if subject_set is not None and subject_dir.name not in subject_set:
            continue
        for cond_dir in _subfolders(subject_dir):
            if cond_list is not None and not any(
                cond_dir.name == c or cond_dir.name.startswith(c + "-") for c in cond_list
            ):
                continue
            for view_dir in _subfolders(cond_dir):
                if view_set is not None and view_dir.name not in view_set:
                    continue
                files = tuple(sorted(p for p in view_dir.iterdir() if p.suffix.lower() == suffix and p.is_file()))
                entries.append(SequenceEntry(subject_dir.name, cond_dir.name, view_dir.name, view_dir, files))
    return entries


def read_pkl_sequence(entry: SequenceEntry, modality: str | None = None, fps: float = DEFAULT_FPS) -> GaitSequence:
    """Read one sequence folder's pkl as a `GaitSequence`.

    Raises:
        GaitDataError: no pkl in the folder, or the pkl is not a `[T, H, W]` silhouette array.
    """
    files = entry.files
    if modality is not None:
        files = tuple(f for f in files if modality in f.name)
    if not files:
        wanted = f" matching '{modality}'" if modality else ""
        raise GaitDataError(entry.folder, f"no .pkl file{wanted} in this sequence folder")
    path = files[0]
    array = load_array_pickle(path)
    if array.ndim == 2:  # a lone frame stored without its time axis
        array = array[None]
    if array.ndim != 3:
        raise GaitDataError(path, f"expected a [T, H, W] array, got shape {array.shape}")
    if array.shape[0] == 0:
        raise GaitDataError(path, "sequence has no frames")
    seq = GaitSequence(array, entry.subject, entry.condition, entry.view, source=str(path), fps=fps)
    if seq.num_frames == 1:
        logger.warning("%s: sequence has a single frame", path)
    return seq


def iter_opengait(
    root: str | os.PathLike,
    report: ReadReport | None = None,
    modality: str | None = None,
    entries: Iterable[SequenceEntry] | None = None,
    **filters,
) -> Iterator[GaitSequence]:
    """Yield every readable sequence of an OpenGait-layout dataset.

    Unreadable sequences are skipped with a warning and recorded in `report` (if given);
    the rest load. `filters` are those of `scan_opengait`; `entries` (as `scan_opengait` lists
    them, already picked) are read instead of scanning `root`.
    """
    report = report if report is not None else ReadReport()
    for entry in scan_opengait(root, **filters) if entries is None else entries:
        try:
            seq = read_pkl_sequence(entry, modality)
        except GaitDataError as err:
            logger.warning("skipped %s", err)
            report.skipped.append((err.path or str(entry.folder), err.problem))
            continue
        report.loaded += 1
        if seq.num_frames == 1:
            report.single_frame.append(seq.source)
        yield seq


def load_opengait(root: str | os.PathLike, **kwargs) -> tuple[list[GaitSequence], ReadReport]:
    """Read a whole OpenGait-layout dataset into memory; returns (sequences, report)."""
    report = ReadReport()
    sequences = list(iter_opengait(root, report=report, **kwargs))
    return sequences, report


def sequence_pkl_path(root: str | os.PathLike, subject: str, condition: str, view: str) -> Path:
    """Where `write_pkl_sequence` puts a sequence: `<root>/<subject>/<condition>/<view>/<view>.pkl`."""
    return Path(root) / subject / condition / view / f"{view}.pkl"


def write_pkl_sequence(root: str | os.PathLike, seq: GaitSequence) -> Path:
    """Write a sequence in the OpenGait layout (atomically); returns the pkl path."""
    for name, value in (("subject", seq.subject), ("condition", seq.condition), ("view", seq.view)):
        if not value or "/" in value or "\\" in value or value in (".", ".."):
            raise GaitDataError(seq.source or None, f"{name} {value!r} cannot be a folder name")
    path = sequence_pkl_path(root, seq.subject, seq.condition, seq.view)
    with atomic_open(path, "wb") as f:
        dump_array_pickle(seq.frames, f)
    return path


@dataclass
class Partition:
    """Which subjects train and which test (OpenGait's partition JSON)."""

    train: list[str]
    test: list[str]

    def to_dict(self) -> dict:
        return {"TRAIN_SET": list(self.train), "TEST_SET": list(self.test)}


def read_partition(path: str | os.PathLike) -> Partition:
    """Read a partition JSON `{"TRAIN_SET": [...], "TEST_SET": [...]}`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise GaitDataError(path, "partition file does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GaitDataError(path, f"not valid JSON: {err}") from None
    if not isinstance(data, dict) or "TRAIN_SET" not in data or "TEST_SET" not in data:
        raise GaitDataError(path, 'expected {"TRAIN_SET": [...], "TEST_SET": [...]}')
    train, test = data["TRAIN_SET"], data["TEST_SET"]
    if not isinstance(train, list) or not isinstance(test, list):
        raise GaitDataError(path, "TRAIN_SET and TEST_SET must be lists of subject ids")
    overlap = set(map(str, train)) & set(map(str, test))
    if overlap:
        raise GaitDataError(path, f"subjects in both TRAIN_SET and TEST_SET: {sorted(overlap)[:5]}")
    return Partition([str(s) for s in train], [str(s) for s in test])


def write_partition(path: str | os.PathLike, partition: Partition) -> None:
    atomic_write_text(path, json.dumps(partition.to_dict(), indent=1) + "\n")
