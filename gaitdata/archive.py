"""Zip archives of mask frames: read safely, in memory; and whole folders zipped for download.

A zip from a stranger is hostile until proven otherwise. Nothing here extracts to disk, so a
member named `../../etc/x` or `/abs/x` cannot land anywhere; such names, symlink entries and
archives that would inflate past sane limits (zip bombs) are refused outright with a
`GaitDataError` naming the archive and the problem, before any frame is decoded.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import cv2
import numpy as np
from PIL import Image

from gaitdata.atomic import atomic_open
from gaitdata.errors import GaitDataError
from gaitdata.png_folder import IMAGE_SUFFIXES, stack_masks
from gaitdata.sequence import GaitSequence


@dataclass(frozen=True)
class ArchiveLimits:
    """What a frame archive may hold; anything beyond is refused as broken or hostile.

    Defaults fit any real silhouette clip (CASIA-B: ≤ 300 frames of 320×240) with a wide margin.
    """

    max_members: int = 5000  # entries of any kind in the archive
    max_frames: int = 2000  # image entries
    max_member_bytes: int = 16 * 1024**2  # one image, uncompressed
    max_total_bytes: int = 512 * 1024**2  # all images, uncompressed
    max_ratio: float = 1000.0  # uncompressed / compressed per member: larger ratios are bombs
    max_frame_pixels: int = 4096 * 4096  # one decoded frame
    max_total_pixels: int = 512 * 1024**2  # all decoded frames (bytes of uint8 masks)


DEFAULT_LIMITS = ArchiveLimits()


def _natural_key(name: str):
    # frame 2 before frame 10
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    # Unix zips keep the file mode in the high 16 bits of external_attr.
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _unsafe_name_problem(name: str) -> str | None:
    """Why a member name is unsafe (absolute, drive letter, `..`), or None when it is fine."""
    unified = name.replace("\\", "/")
    if unified.startswith("/") or re.match(r"^[A-Za-z]:", unified):
        return f"member '{name}' has an absolute path"
    if ".." in unified.split("/"):
        return f"member '{name}' climbs out of the archive with '..'"
    if "\x00" in name:
        return f"member '{name}' has a NUL byte in its name"
    return None


def _is_junk(name: str) -> bool:
    """macOS resource forks and Finder files ride along in zips made on a Mac."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return "__MACOSX" in parts or parts[-1].startswith("._") or parts[-1] == ".DS_Store"


def list_frame_members(path: str | os.PathLike, zf: zipfile.ZipFile, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Check every member of an open archive; return the image members in natural frame order.

    Raises:
        GaitDataError: an unsafe name or symlink anywhere in the archive, too many members,
            members too large (declared), images in several folders, or no images at all.
    """
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise GaitDataError(path, f"archive has {len(infos)} members, more than the {limits.max_members} allowed")
    frames: list[zipfile.ZipInfo] = []
    for info in infos:
        problem = _unsafe_name_problem(info.filename)
        if problem:
            raise GaitDataError(path, f"refused: {problem}")
        if _is_symlink(info):
            raise GaitDataError(path, f"refused: member '{info.filename}' is a symbolic link")
        if info.is_dir() or _is_junk(info.filename):
            continue
        if PurePosixPath(info.filename).suffix.lower() not in IMAGE_SUFFIXES:
            continue  # readme, csv, ... are not frames
        if info.file_size > limits.max_member_bytes:
            raise GaitDataError(
                path,
                f"refused: member '{info.filename}' inflates to {info.file_size / 1e6:.1f} MB, "
                f"more than {limits.max_member_bytes / 1e6:.0f} MB per frame",
            )
        if info.compress_size > 0 and info.file_size / info.compress_size > limits.max_ratio:
            raise GaitDataError(
                path,
                f"refused: member '{info.filename}' has a compression ratio of "
                f"{info.file_size / info.compress_size:.0f}:1 (a zip bomb?)",
            )
        frames.append(info)
    if not frames:
        raise GaitDataError(path, "archive holds no .png/.jpg/.bmp frames")
    if len(frames) > limits.max_frames:
        raise GaitDataError(path, f"archive holds {len(frames)} frames, more than the {limits.max_frames} allowed")
    total = sum(i.file_size for i in frames)
    if total > limits.max_total_bytes:
        raise GaitDataError(
            path, f"refused: frames inflate to {total / 1e6:.0f} MB, more than {limits.max_total_bytes / 1e6:.0f} MB"
        )
    folders = sorted({str(PurePosixPath(i.filename.replace("\\", "/")).parent) for i in frames})
    if len(folders) > 1:
        shown = ", ".join(folders[:4]) + (" ..." if len(folders) > 4 else "")
        raise GaitDataError(path, f"frames lie in {len(folders)} folders ({shown}); zip one sequence per archive")
    return sorted(frames, key=lambda i: _natural_key(i.filename))


def _read_member(path, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ArchiveLimits) -> bytes:
    # The declared size can lie: read at most one byte past the limit and check.
    with zf.open(info) as f:
        data = f.read(limits.max_member_bytes + 1)
    if len(data) > limits.max_member_bytes:
        raise GaitDataError(path, f"refused: member '{info.filename}' inflates past its declared size (a zip bomb?)")
    return data


def _decode_frame(path, name: str, data: bytes, limits: ArchiveLimits) -> np.ndarray:
    try:
        # PIL reads only the header here: a tiny PNG can declare 100000×100000 pixels.
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
    except (OSError, ValueError, Image.DecompressionBombError) as err:
        raise GaitDataError(path, f"member '{name}' is not a readable image: {err}") from None
    if w * h > limits.max_frame_pixels:
        raise GaitDataError(path, f"refused: member '{name}' declares {w}x{h} pixels, more than a frame needs")
    frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if frame is None:
        raise GaitDataError(path, f"member '{name}' cannot be decoded as an image")
    return frame


def read_frame_archive(
    path: str | os.PathLike,
    subject: str | None = None,
    condition: str = "unknown",
    view: str = "unknown",
    pretreat: bool = True,
    fps: float = 25.0,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> GaitSequence:
    """Read a `.zip` of mask images (one per frame) as a sequence, entirely in memory.

    Args:
        path: the archive. Frames are its `.png`/`.jpg`/`.bmp` members, all in one folder,
            in natural name order (`2.png` before `10.png`); other files are ignored.
        subject: metadata; default: the archive's file stem. When the frames sit in a
            `<subject>/<condition>/<view>/` folder inside the archive, those names are used.
        condition, view: metadata when the archive's folders do not say.
        pretreat: run OpenGait pretreatment (raw masks need it; 64×64 pretreated frames not).
        limits: refusal thresholds (member count and sizes, compression ratio, pixels).

    Returns:
        `GaitSequence` with `uint8 [T, 64, 64]` frames (or the raw size when `pretreat=False`).

    Raises:
        GaitDataError: naming the archive and the problem: not a zip, an unsafe member (absolute
            path, `..`, symlink), a zip bomb, no frames, an unreadable frame, frames of different
            sizes, or no frame with a person in it.
    """
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise GaitDataError(path, "does not exist") from None
    except (zipfile.BadZipFile, OSError) as err:
        raise GaitDataError(path, f"not a readable zip archive: {err}") from None
    with zf:
        members = list_frame_members(path, zf, limits)
        frames, pixels = [], 0
        for info in members:
            try:
                data = _read_member(path, zf, info, limits)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as err:
                raise GaitDataError(path, f"member '{info.filename}' cannot be read: {err}") from None
            frame = _decode_frame(path, info.filename, data, limits)
            if frames and frame.shape != frames[0].shape:
                raise GaitDataError(
                    path, f"member '{info.filename}' is {frame.shape}, unlike the first frame's {frames[0].shape}"
                )
            pixels += frame.size
            if pixels > limits.max_total_pixels:
                raise GaitDataError(path, f"refused: frames decode to more than {limits.max_total_pixels / 1e6:.0f} MB")
            frames.append(frame)
    masks = stack_masks(frames, pretreat, path, f"none of its {len(frames)} frames holds a silhouette (all empty)")
    folder = PurePosixPath(members[0].filename.replace("\\", "/")).parent.parts
    if len(folder) >= 3:
        subject, condition, view = subject or folder[-3], folder[-2], folder[-1]
    return GaitSequence(masks, subject=subject or path.stem, condition=condition, view=view, source=str(path), fps=fps)


def write_folder_zip(folder: str | os.PathLike, zip_path: str | os.PathLike) -> Path:
    """Zip every file under `folder` (paths relative to it) into `zip_path`, atomically.

    Used to hand a written dataset (OpenGait layout + manifest) to a user as one download.
    """
    folder, zip_path = Path(folder), Path(zip_path)
    if not folder.is_dir():
        raise GaitDataError(folder, "not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    with atomic_open(zip_path, "wb") as f, zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in files:
            zf.write(p, p.relative_to(folder).as_posix())
    return zip_path
