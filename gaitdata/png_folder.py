"""Raw silhouette PNG folders (CASIA-B style): `<root>/<subject>/<condition>/<view>/*.png`."""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np

from gaitdata.atomic import atomic_open
from gaitdata.errors import GaitDataError
from gaitdata.pretreat import pretreat_silhouettes
from gaitdata.sequence import GaitSequence

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


def _natural_key(path: Path):
    # frame 2 before frame 10, as CASIA-B's `001-nm-01-090-010.png` names expect
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def list_frame_images(folder: str | os.PathLike) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise GaitDataError(folder, "not a folder of frame images")
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)


def stack_masks(frames: list[np.ndarray], pretreat: bool, where: str | os.PathLike, empty: str) -> np.ndarray:
    """Same-size frames → `uint8 [T, H, W]`, OpenGait-pretreated when `pretreat`.

    Raises:
        GaitDataError: `(where, empty)` when pretreatment finds a silhouette in no frame.
    """
    masks = np.stack(frames)
    if pretreat:
        masks, _ = pretreat_silhouettes(masks)
        if len(masks) == 0:
            raise GaitDataError(where, empty)
    return masks


def read_png_folder(
    folder: str | os.PathLike,
    subject: str | None = None,
    condition: str | None = None,
    view: str | None = None,
    pretreat: bool = True,
    fps: float = 25.0,
) -> GaitSequence:
    """Read a folder of mask images (one per frame) as a sequence.

    Args:
        folder: folder of `.png` (or `.jpg`/`.bmp`) masks, frames in natural name order.
        subject, condition, view: metadata; default to the folder's place in the layout
            (`<subject>/<condition>/<view>`).
        pretreat: run OpenGait pretreatment (raw CASIA-B masks need it; already-64×64 need not).

    Raises:
        GaitDataError: no images, an unreadable image, frames of different sizes, or no frame
            with a person in it.
    """
    folder = Path(folder)
    images = list_frame_images(folder)
    if not images:
        raise GaitDataError(folder, "holds no .png/.jpg/.bmp frames")
    frames = []
    for path in images:
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if img is None:
            raise GaitDataError(path, "cannot decode image")
        if frames and img.shape != frames[0].shape:
            raise GaitDataError(path, f"frame size {img.shape} differs from the first frame's {frames[0].shape}")
        frames.append(img)
    masks = stack_masks(frames, pretreat, folder, "no frame holds a silhouette (all frames empty)")
    parts = folder.resolve().parts
    return GaitSequence(
        masks,
        subject=subject or (parts[-3] if len(parts) >= 3 else "unknown"),
        condition=condition or (parts[-2] if len(parts) >= 2 else "unknown"),
        view=view or parts[-1],
        source=str(folder),
        fps=fps,
    )


def write_png_folder(folder: str | os.PathLike, seq: GaitSequence) -> Path:
    """Write each frame as `NNNN.png` in `folder` (atomically per file); returns the folder."""
    folder = Path(folder)
    for i, frame in enumerate(seq.frames):
        ok, buf = cv2.imencode(".png", frame)
        if not ok:
            raise GaitDataError(folder, f"cannot encode frame {i} as PNG")
        with atomic_open(folder / f"{i:04d}.png", "wb") as f:
            f.write(buf.tobytes())
    return folder
