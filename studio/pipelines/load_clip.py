"""`load_clip`: open whatever a user hands the studio, as silhouette sequences.

One function for both faces: the web app's Load tab and the CLI call it, so a file that
loads in one loads in the other, with the same error message when it does not.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

from studio.data import GaitDataError, GaitSequence, read_sequence
from studio.data.archive import read_frame_archive
from studio.data.opengait import SequenceEntry, read_pkl_sequence

VIDEO_SUFFIXES = frozenset(
    {".avi", ".mp4", ".m4v", ".mov", ".webm", ".mkv", ".mpg", ".mpeg", ".wmv", ".flv", ".ogv", ".3gp", ".ts"}
)
SUPPORTED = "a video (.avi/.mp4/.webm/...), a .zip of PNG frames, an OpenGait .pkl, a .npz, or a sequence folder"

# The built-in samples: one procedural walker per condition type, side view (name → subject, condition).
SAMPLES = {
    "walker-001-nm": ("001", "nm-01"),
    "walker-002-bg": ("002", "bg-01"),
    "walker-003-cl": ("003", "cl-01"),
}
SAMPLE_VIEW_DEG = 90.0
SAMPLE_FRAMES = 40
SAMPLE_SEED = 0


def _megabytes(n: int) -> str:
    return f"{n / 1024**2:.3g} MB"


def _sniff(path: Path) -> str:
    """The kind of file by its first bytes: 'zip', 'pickle', 'video' or 'unknown'."""
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:  # pickle protocols 2-5
        return "pickle"
    if (
        (head.startswith(b"RIFF") and head[8:11] == b"AVI")
        or head.startswith(b"\x1a\x45\xdf\xa3")  # Matroska / WebM
        or head[4:8] == b"ftyp"  # MP4 / MOV
        or head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3", b"OggS", b"FLV"))
    ):
        return "video"
    return "unknown"


def load_clip(
    path: str | os.PathLike,
    trust_layout: bool = True,
    max_bytes: int | None = None,
    max_video_frames: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[GaitSequence]:
    """Read a clip of any supported kind as one or more silhouette sequences.

    Dispatch is by content first (the first bytes), then by suffix:
    - a video → `extract_walkers` with every walker track as its own sequence;
    - a `.zip` of mask frames → `read_frame_archive` (safe: read in memory, hostile members refused);
    - an OpenGait `.pkl` (through the numpy-only unpickler), a `.npz`, or a folder → `read_sequence`.

    Args:
        path: the file or folder.
        trust_layout: take subject / condition / view of a `.pkl` from its place in the OpenGait
            layout (`<subject>/<condition>/<view>/x.pkl`). False for files outside any dataset
            (uploads): the subject is then the file's stem and the rest 'unknown'.
        max_bytes: refuse files larger than this (None = no limit).
        max_video_frames: decode at most this many video frames (None = the whole clip).
        progress: for videos, called as `progress(frames_read, frames_expected)`.

    Returns:
        At least one `GaitSequence` (`uint8 [T, H, W]`; 64×64 for videos, zips and OpenGait pkls).

    Raises:
        GaitDataError: naming the file and the problem (unsupported kind, too large, corrupt,
            unsafe, or nobody walking in a video).
    """
    path = Path(path)
    if not path.exists():
        raise GaitDataError(path, "does not exist")
    if path.is_dir():
        return [read_sequence(path)]
    size = path.stat().st_size
    if size == 0:
        raise GaitDataError(path, "file is empty")
    if max_bytes is not None and size > max_bytes:
        raise GaitDataError(path, f"file is {_megabytes(size)}, over the {_megabytes(max_bytes)} size limit")
    suffix = path.suffix.lower()
    kind = _sniff(path)
    if suffix == ".npz":
        return [read_sequence(path)]
    if kind == "zip" or suffix == ".zip":
        return [read_frame_archive(path)]
    if kind == "pickle" or suffix == ".pkl":
        if trust_layout:
            parts = ("unknown",) * 3 + path.resolve().parent.parts
            subject, condition, view = parts[-3:]
        else:
            subject, condition, view = path.stem, "unknown", "unknown"
        return [read_pkl_sequence(SequenceEntry(subject, condition, view, path.parent, (path,)))]
    if kind == "video" or suffix in VIDEO_SUFFIXES:
        from studio.data.video import extract_walkers  # local: the video stack is heavy

        extraction = extract_walkers(path, track="all", max_frames=max_video_frames, progress=progress)
        return extraction.sequences
    raise GaitDataError(path, f"not a supported clip (suffix '{suffix or 'none'}'): expected {SUPPORTED}")


@functools.lru_cache(maxsize=len(SAMPLES))
def _render_sample(name: str) -> GaitSequence:
    from studio.data.walkers import identity_for, render_walker_sequence, walk_for

    subject, condition = SAMPLES[name]
    person = identity_for(SAMPLE_SEED, subject)
    walk = walk_for(SAMPLE_SEED, person, condition)
    return render_walker_sequence(person, walk, SAMPLE_VIEW_DEG, num_frames=SAMPLE_FRAMES, seed=SAMPLE_SEED)


def bundled_sample(name: str) -> GaitSequence:
    """A built-in sample clip: a procedural walker (deterministic; rendered once, then cached).

    Args:
        name: one of `SAMPLES` (`walker-001-nm`, `walker-002-bg`, `walker-003-cl`).

    Returns:
        `GaitSequence` `uint8 [40, 64, 64]` at the side view (090), 25 fps.
    """
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; choose one of {', '.join(SAMPLES)}")
    seq = _render_sample(name)
    return seq.with_frames(seq.frames.copy())  # callers may edit their copy; the cache stays clean
