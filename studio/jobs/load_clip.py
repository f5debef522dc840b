"""`load_clip`: open whatever a user hands the studio, as silhouette sequences.

One function for both faces: the web app's Load tab and the CLI call it, so a file that
loads in one loads in the other, with the same error message when it does not.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitdata import GaitDataError, GaitSequence, read_sequence
from gaitdata.archive import DEFAULT_LIMITS, list_frame_members, read_frame_archive
from gaitdata.opengait import SequenceEntry, read_pkl_sequence

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


LABEL_MAX = 48  # characters of an upload-derived name (subject, condition, view): file names stay short


@dataclass(frozen=True)
class ClipLimits:
    """What one clip may cost to load; anything beyond is refused with a message saying the cap.

    None = no limit. The defaults are the web studio's (`studio app`), sized so that 20 users
    at once stay within a laptop's memory; a CASIA-B clip (≤ 300 frames of 320×240) fits.

    Attributes:
        max_frames: frames in one clip (edit / anonymize time grows with it); a video's walker
            tracks longer than this are cut to their first `max_frames` frames instead.
        max_frame_pixels: pixels of one decoded frame (a zip's images, a video's frames).
        max_pixels: pixels of all of a clip's frames together, as decoded into memory
            (zip, pkl, npz, folder); a zip is checked from its image headers, before decoding.
    """

    max_frames: int | None = 300
    max_frame_pixels: int | None = 3840 * 2160
    max_pixels: int | None = 32 * 1024**2


NO_LIMITS = ClipLimits(max_frames=None, max_frame_pixels=None, max_pixels=None)


def _megabytes(n: int) -> str:
    return f"{n / 1024**2:.3g} MB"


def _megapixels(n: int) -> str:
    return f"{n / 1e6:.3g} MP"


def safe_label(text: str, max_length: int = LABEL_MAX) -> str:
    """A name fit to be a file or folder name, derived from any text (an upload may name itself anything).

    ASCII letters, digits, `.`, `-` and `_` only (runs of anything else become `_`), no leading or
    trailing dot or underscore, never empty (`"clip"`), at most `max_length` characters: a longer
    name is cut and ends in 8 hex digits of a hash of the whole text, so that distinct long names
    stay distinct.
    """
    text = str(text)
    clean = re.sub(r"[^A-Za-z0-9.-]+", "_", text).strip("._") or "clip"
    if len(clean) <= max_length:
        return clean
    digest = hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{clean[: max_length - 9].rstrip('._')}-{digest}"


def _check_pixels(path, frames: int, height: int, width: int, limits: ClipLimits, what: str) -> None:
    """Refuse a clip whose frames (or all of them together) decode to more pixels than allowed."""
    if limits.max_frame_pixels is not None and height * width > limits.max_frame_pixels:
        raise GaitDataError(
            path,
            f"{what} are {width}×{height} ({_megapixels(height * width)}), larger than the "
            f"{_megapixels(limits.max_frame_pixels)} per frame this studio decodes: scale them down "
            "(silhouettes need only ~64 px of height)",
        )
    total = frames * height * width
    if limits.max_pixels is not None and total > limits.max_pixels:
        raise GaitDataError(
            path,
            f"{frames} {what} of {width}×{height} decode to {_megapixels(total)}, more than the "
            f"{_megapixels(limits.max_pixels)} a clip may decode to in this studio: scale the frames down "
            "(silhouettes need only ~64 px of height) or send fewer",
        )


def _check_frames(path, frames: int, limits: ClipLimits) -> None:
    if limits.max_frames is not None and frames > limits.max_frames:
        raise GaitDataError(
            path,
            f"the clip has {frames} frames, more than the {limits.max_frames} per clip this studio takes "
            f"({limits.max_frames / 25:g} s at 25 fps): cut it shorter",
        )


def _check_archive(path: Path, limits: ClipLimits) -> None:
    """Count a zip's frames and read the first frame's size from its image header, before any decoding."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise GaitDataError(path, f"not a readable zip archive: {err}") from None
    with zf:
        members = list_frame_members(path, zf, DEFAULT_LIMITS)
        _check_frames(path, len(members), limits)
        try:
            with zf.open(members[0]) as f:
                head = f.read(64 * 1024)  # PNG / BMP sizes sit in the first bytes; JPEG's within a few KB
            from PIL import Image

            with Image.open(io.BytesIO(head)) as img:  # lazy: reads the header only
                width, height = img.size
        except Exception:  # noqa: BLE001 (an unreadable header is the decoder's to report, with its message)
            return
        _check_pixels(path, len(members), height, width, limits, "frames")


def _archive_limits(limits: ClipLimits):
    """The archive reader's own limits, tightened to `limits` (it checks each frame's header before decoding it)."""
    from dataclasses import replace

    changes = {}
    if limits.max_frames is not None:
        changes["max_frames"] = min(DEFAULT_LIMITS.max_frames, limits.max_frames)
    if limits.max_frame_pixels is not None:
        changes["max_frame_pixels"] = min(DEFAULT_LIMITS.max_frame_pixels, limits.max_frame_pixels)
    if limits.max_pixels is not None:
        changes["max_total_pixels"] = min(DEFAULT_LIMITS.max_total_pixels, limits.max_pixels)
    return replace(DEFAULT_LIMITS, **changes)


SOLID_SHARE = 0.3  # foreground pixels with foreground all around: silhouettes ≥ 0.65, random noise ≈ 0.06
GREY_SHARE = 0.5  # non-zero pixels neither near-black nor near-white: silhouettes ≤ 0.15 (soft edges), noise ≈ 0.75
FULL_SHARE = 0.9  # foreground share of a frame: no body fills its frame


def silhouette_problem(frames: np.ndarray) -> str | None:
    """Why `uint8 [T, H, W]` frames are not silhouette masks, or None when they look like ones.

    Refused: every frame empty (no frame holds ~40 lit pixels, OpenGait's own cut-off); frames
    mostly grey (a photo, or noise); foreground speckled rather than solid (random noise: a
    body's pixels mostly have body all around them); foreground filling the frame. Each is
    judged on the median non-empty frame, so a few odd frames do not decide.
    """
    t = len(frames)
    lit = frames.reshape(t, -1).sum(axis=1, dtype=np.int64) > 40 * 255
    if not lit.any():
        return f"none of its {t} frames holds a silhouette (all empty)"
    import cv2  # local: keeps this module light for callers that never load a clip

    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    grey, solid, full = [], [], []
    for frame in frames[lit]:
        body = (frame >= 128).astype(np.uint8)
        lit_pixels = frame[frame > 0]
        grey.append(np.count_nonzero((lit_pixels >= 32) & (lit_pixels <= 224)) / lit_pixels.size)
        n = int(body.sum())
        inner = int(cv2.erode(body, cross, borderType=cv2.BORDER_CONSTANT, borderValue=0).sum())
        solid.append(inner / n if n else 0.0)
        full.append(n / body.size)
    if np.median(grey) > GREY_SHARE:
        return (
            f"its frames are mostly grey ({100 * np.median(grey):.0f}% of the lit pixels are neither black nor "
            "white): silhouette masks are black background and a white body, not photos or noise"
        )
    if np.median(full) > FULL_SHARE:
        return f"its frames are {100 * np.median(full):.0f}% foreground: a silhouette mask shows a body on a background"
    if np.median(solid) < SOLID_SHARE:
        return (
            "its frames look like random noise, not silhouettes: the foreground is speckled, with no solid "
            f"body shape ({100 * np.median(solid):.0f}% of its pixels lie inside the shape; a body's: over 60%)"
        )
    return None


def _checked(seq: GaitSequence, limits: ClipLimits) -> GaitSequence:
    """A clip read from a pkl, npz or folder: within the limits, and silhouettes."""
    _check_frames(seq.source or None, seq.num_frames, limits)
    _check_pixels(seq.source or None, *seq.frames.shape, limits, "frames")
    problem = silhouette_problem(seq.frames)
    if problem:
        raise GaitDataError(seq.source or None, problem)
    return seq


NO_WALKER_HINT = re.compile(r"\s*It needs a static camera.*$", re.S)


def _video_problem(err: GaitDataError, min_frames: int) -> GaitDataError:
    """The extractor's 'no walking person' message, with advice a user of any face can act on."""
    if "no walking person found" not in err.problem:
        return err
    problem = NO_WALKER_HINT.sub("", err.problem).replace(
        f"(min_frames={min_frames})", f"(at least {min_frames} needed)"
    )
    return GaitDataError(
        err.path,
        f"{problem.rstrip('. ')}. Use a clip from a camera that does not move, in which each person walks "
        f"across the view, seen whole, for at least {min_frames} frames (about a second); or upload the "
        "silhouettes themselves (a .zip of PNG masks or an OpenGait .pkl)",
    )


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
    limits: ClipLimits = NO_LIMITS,
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
            (uploads): the subject is then the file's stem and the rest 'unknown', and every
            name is passed through `safe_label` (short, file-name-safe: an upload may name
            itself anything).
        max_bytes: refuse files larger than this (None = no limit).
        max_video_frames: decode at most this many video frames (None = the whole clip).
        progress: for videos, called as `progress(frames_read, frames_expected)`; an exception
            it raises stops the decoding (and propagates).
        limits: frames and decoded pixels one clip may cost (`ClipLimits`; default none).

    Returns:
        At least one `GaitSequence` (`uint8 [T, H, W]`; 64×64 for videos, zips and OpenGait pkls).
        A video track cut to `limits.max_frames` says so in `extra["trimmed_from"]` (its length).

    Raises:
        GaitDataError: naming the file and the problem (unsupported kind, too large, over a
            limit, corrupt, unsafe, not silhouettes — all frames empty, or noise — or nobody
            walking in a video).
    """
    seqs = _load(Path(path), trust_layout, max_bytes, max_video_frames, progress, limits)
    if not trust_layout:
        for seq in seqs:
            seq.subject, seq.condition, seq.view = (safe_label(x) for x in seq.key)
    return seqs


def _load(path: Path, trust_layout, max_bytes, max_video_frames, progress, limits: ClipLimits) -> list[GaitSequence]:
    if not path.exists():
        raise GaitDataError(path, "does not exist")
    if path.is_dir():
        return [_checked(read_sequence(path), limits)]
    size = path.stat().st_size
    if size == 0:
        raise GaitDataError(path, "file is empty")
    if max_bytes is not None and size > max_bytes:
        raise GaitDataError(path, f"file is {_megabytes(size)}, over the {_megabytes(max_bytes)} size limit")
    suffix = path.suffix.lower()
    kind = _sniff(path)
    if suffix == ".npz":
        return [_checked(read_sequence(path), limits)]
    if kind == "zip" or suffix == ".zip":
        _check_archive(path, limits)
        return [_checked(read_frame_archive(path, limits=_archive_limits(limits)), limits)]
    if kind == "pickle" or suffix == ".pkl":
        if trust_layout:
            parts = ("unknown",) * 3 + path.resolve().parent.parts
            subject, condition, view = parts[-3:]
        else:
            subject, condition, view = path.stem, "unknown", "unknown"
        return [_checked(read_pkl_sequence(SequenceEntry(subject, condition, view, path.parent, (path,))), limits)]
    if kind == "video" or suffix in VIDEO_SUFFIXES:
        return _load_video(path, max_video_frames, progress, limits)
    raise GaitDataError(path, f"not a supported clip (suffix '{suffix or 'none'}'): expected {SUPPORTED}")


VIDEO_MIN_FRAMES = 20  # `extract_walkers`' default: the shortest walker track kept
PER_FRAME_EXTRA = ("frame_indices", "boxes_xyxy")  # a video track's lists with one entry per frame


def _load_video(path: Path, max_video_frames, progress, limits: ClipLimits) -> list[GaitSequence]:
    """Every walker track of a video, each cut to `limits.max_frames`; its frame size checked first."""
    from gaitdata.video import extract_walkers, open_video  # local: the video stack is heavy

    cap, info = open_video(path)
    cap.release()
    _check_pixels(path, 1, info.height, info.width, ClipLimits(None, limits.max_frame_pixels, None), "video frames")
    try:
        extraction = extract_walkers(
            path, track="all", min_frames=VIDEO_MIN_FRAMES, max_frames=max_video_frames, progress=progress
        )
    except GaitDataError as err:
        raise _video_problem(err, VIDEO_MIN_FRAMES) from None
    seqs = []
    for seq in extraction.sequences:
        n = limits.max_frames
        if n is not None and seq.num_frames > n:
            extra = {k: v[:n] if k in PER_FRAME_EXTRA else v for k, v in seq.extra.items()}
            seq = seq.with_frames(seq.frames[:n].copy(), extra={**extra, "trimmed_from": seq.num_frames})
        seqs.append(seq)
    return seqs


@functools.lru_cache(maxsize=len(SAMPLES))
def _render_sample(name: str) -> GaitSequence:
    from gaitdata.walkers import identity_for, render_walker_sequence, walk_for

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
