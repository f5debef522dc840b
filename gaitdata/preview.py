"""Previews of silhouette sequences for people: GIF, WebM/MP4, PNG strips, side-by-side.

Used by the CLI (`studio preview`), the HTML reports and the web app. Frames are upscaled
(64×44 is too small to see) with nearest-neighbour by default, so soft edges stay visible as
they are. Every file is written atomically.

Formats, and where they play (see ENVIRONMENT.md, pitfall 5):
- `.gif`  — everywhere (Pillow). Identical consecutive frames are merged by Pillow into one
  longer frame; the timing stays right.
- `.webm` — VP8 (`VP80`): plays in Chromium / Firefox; the format for the web app.
- `.mp4`  — MPEG-4 part 2 (`mp4v`): for download only, browsers will not play it.
- `.avi`  — Motion-JPEG, for desktop tools.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from gaitdata.atomic import atomic_open
from gaitdata.sequence import GaitSequence

VIDEO_CODECS = {".webm": "VP80", ".mp4": "mp4v", ".avi": "MJPG"}
PAD_MODES = ("loop", "hold", "blank")
SEPARATOR_VALUE = 96  # mid-grey: visible between black backgrounds and white bodies
_INTERPOLATION = {"nearest": cv2.INTER_NEAREST, "linear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}

SequenceLike = GaitSequence | np.ndarray


def as_frames(seq: SequenceLike) -> np.ndarray:
    """A `GaitSequence` or an array `[T, H, W]` / `[H, W]` → `uint8 [T, H, W]`."""
    if isinstance(seq, GaitSequence):
        return seq.frames
    return GaitSequence(np.asarray(seq)).frames  # validates shape and converts dtype


def upscale(frames: np.ndarray, scale: float = 3, interpolation: str = "nearest") -> np.ndarray:
    """`uint8 [T, H, W]` → `uint8 [T, round(H*scale), round(W*scale)]`."""
    if interpolation not in _INTERPOLATION:
        raise ValueError(f"interpolation must be one of {sorted(_INTERPOLATION)}, got {interpolation!r}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if scale == 1:
        return frames
    t, h, w = frames.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    flag = _INTERPOLATION[interpolation]
    return np.stack([cv2.resize(f, size, interpolation=flag) for f in frames])


def _to_height(frames: np.ndarray, height: int) -> np.ndarray:
    t, h, w = frames.shape
    if h == height:
        return frames
    width = max(1, round(w * height / h))
    return np.stack([cv2.resize(f, (width, height), interpolation=cv2.INTER_NEAREST) for f in frames])


def _fit_length(frames: np.ndarray, length: int, pad: str) -> np.ndarray:
    t = frames.shape[0]
    if t >= length:
        return frames[:length]
    if pad == "loop":
        return frames[np.arange(length) % t]
    if pad == "hold":
        return frames[np.minimum(np.arange(length), t - 1)]
    return np.concatenate([frames, np.zeros((length - t, *frames.shape[1:]), np.uint8)])


def _band_height(scale: float) -> int:
    """Label band height in pixels: readable text at every scale (14 px at 2x, 21 px at 3x)."""
    return max(14, round(7 * scale))


def _label_band(width: int, text: str, height: int) -> np.ndarray:
    band = np.zeros((height, width), np.uint8)
    font_scale = height / 32.0
    thickness = max(1, round(height / 18))
    # Shrink long labels until they fit the panel.
    while font_scale > 0.2:
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        if tw <= width - 4:
            break
        font_scale *= 0.9
    x = max(2, (width - tw) // 2)
    y = (height + th) // 2
    cv2.putText(band, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, font_scale, 255, thickness, cv2.LINE_AA)
    return band


def side_by_side(
    *seqs: SequenceLike | Sequence[SequenceLike],
    labels: Sequence[str] | None = ("real", "generated"),
    scale: float = 3,
    pad: str = "loop",
    separator: int = 2,
    interpolation: str = "nearest",
) -> np.ndarray:
    """Put two or more sequences next to each other, frame by frame.

    `side_by_side(real, generated)` or `side_by_side([a, b, c], labels=("a", "b", "c"))`.

    Args:
        seqs: sequences (or `[T, H, W]` arrays), given one by one or as one list, of possibly
            different lengths and sizes; all are brought to the height of the tallest
            (keeping aspect) before upscaling.
        labels: one text label per sequence, drawn in a band above it (None = no band). The
            default suits the common real-vs-generated pair; extra sequences get no label.
        scale: upscale factor applied to every panel.
        pad: how a shorter sequence fills the longest one's length: `"loop"` (repeat from
            the start; gait is periodic), `"hold"` (freeze on the last frame) or `"blank"`.
        separator: width in output pixels of the grey bar between panels.

    Returns:
        `uint8 [T_max, H', W']` grayscale frames.
    """
    if pad not in PAD_MODES:
        raise ValueError(f"pad must be one of {PAD_MODES}, got {pad!r}")
    if len(seqs) == 1 and isinstance(seqs[0], (list, tuple)):
        seqs = tuple(seqs[0])
    if not seqs:
        raise ValueError("side_by_side needs at least one sequence")
    panels = [as_frames(s) for s in seqs]
    height = max(p.shape[1] for p in panels)
    length = max(p.shape[0] for p in panels)
    panels = [upscale(_fit_length(_to_height(p, height), length, pad), scale, interpolation) for p in panels]
    if labels is not None:
        band_h = _band_height(scale)
        labelled = []
        for i, p in enumerate(panels):
            text = labels[i] if i < len(labels) else ""
            band = _label_band(p.shape[2], str(text), band_h)
            labelled.append(np.concatenate([np.broadcast_to(band, (length, *band.shape)), p], axis=1))
        panels = labelled
    parts = []
    for i, p in enumerate(panels):
        if i and separator > 0:
            parts.append(np.full((length, p.shape[1], separator), SEPARATOR_VALUE, np.uint8))
        parts.append(p)
    return np.ascontiguousarray(np.concatenate(parts, axis=2))


def _frames_for_output(
    seq: SequenceLike | Sequence[SequenceLike], labels: Sequence[str] | None, scale: float, pad: str
) -> np.ndarray:
    """One sequence → upscaled frames; a list → side by side (labels default to none)."""
    if isinstance(seq, (GaitSequence, np.ndarray)):
        frames = upscale(as_frames(seq), scale)
        if labels:
            band = _label_band(frames.shape[2], str(labels[0]), _band_height(scale))
            frames = np.concatenate([np.broadcast_to(band, (frames.shape[0], *band.shape)), frames], axis=1)
        return frames
    return side_by_side(*seq, labels=labels, scale=scale, pad=pad)


def _default_fps(seq, fps: float | None) -> float:
    if fps is not None:
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        return float(fps)
    first = seq if isinstance(seq, (GaitSequence, np.ndarray)) else seq[0]
    return float(first.fps) if isinstance(first, GaitSequence) else 25.0


def write_gif(
    path: str | os.PathLike,
    seq: SequenceLike | Sequence[SequenceLike],
    fps: float | None = None,
    scale: float = 3,
    labels: Sequence[str] | None = None,
    pad: str = "loop",
) -> Path:
    """Write an endlessly looping GIF of one sequence, or of several side by side.

    Args:
        path: output `.gif` file (written atomically).
        seq: a sequence, or a list of them (then `side_by_side` with `labels` and `pad`).
        fps: playback rate (None = the first sequence's fps, else 25). GIF stores delays in
            1/100 s, so rates above 50 fps play at 50.

    Returns the path written.
    """
    fps = _default_fps(seq, fps)
    frames = _frames_for_output(seq, labels, scale, pad)
    duration = max(20, int(round(1000.0 / fps / 10.0)) * 10)  # ms, whole centiseconds
    images = [Image.fromarray(f, mode="L") for f in frames]
    path = Path(path)
    with atomic_open(path, "wb") as f:
        images[0].save(f, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
    return path


def write_video(
    path: str | os.PathLike,
    seq: SequenceLike | Sequence[SequenceLike],
    fps: float | None = None,
    scale: float = 3,
    labels: Sequence[str] | None = None,
    pad: str = "loop",
) -> Path:
    """Write a video of one sequence, or of several side by side; the codec follows the suffix.

    `.webm` (VP8, plays in browsers), `.mp4` (mp4v, download only), `.avi` (MJPG).

    Raises:
        ValueError: unsupported suffix, or OpenCV cannot write that codec here.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_CODECS:
        raise ValueError(f"{path}: video suffix must be one of {sorted(VIDEO_CODECS)}, got {suffix!r}")
    fps = _default_fps(seq, fps)
    frames = _frames_for_output(seq, labels, scale, pad)
    # Even sizes: several encoders (and players) reject odd widths or heights.
    t, h, w = frames.shape
    frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2)))
    h, w = frames.shape[1:]
    path.parent.mkdir(parents=True, exist_ok=True)
    # VideoWriter needs a real path with the right suffix; encode into a private temp folder
    # beside the target, then publish the bytes atomically.
    tmp_dir = tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        tmp = os.path.join(tmp_dir, "video" + suffix)
        writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*VIDEO_CODECS[suffix]), fps, (w, h), True)
        if not writer.isOpened():
            raise ValueError(f"{path}: OpenCV cannot write {VIDEO_CODECS[suffix]} {suffix} video on this system")
        try:
            for frame in frames:
                writer.write(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
        finally:
            writer.release()
        with open(tmp, "rb") as src, atomic_open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return path


def png_strip(
    seq: SequenceLike | Sequence[SequenceLike],
    num_frames: int = 8,
    scale: float = 2,
    separator: int = 1,
    labels: Sequence[str] | None = None,
) -> np.ndarray:
    """Evenly spaced frames of a sequence in one row (several sequences: one row each).

    Args:
        seq: a sequence or a list of them.
        num_frames: frames per row (fewer when a sequence is shorter).
        scale: upscale factor.
        separator: grey bar width between frames and rows, in output pixels.
        labels: optional text per row, drawn in a band to the left of it.

    Returns:
        `uint8 [H', W']` grayscale image.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    seqs = [seq] if isinstance(seq, (GaitSequence, np.ndarray)) else list(seq)
    if not seqs:
        raise ValueError("png_strip needs at least one sequence")
    all_frames = [as_frames(s) for s in seqs]
    height = max(f.shape[1] for f in all_frames)
    rows = []
    for frames in all_frames:
        frames = _to_height(frames, height)
        idx = np.unique(np.linspace(0, frames.shape[0] - 1, min(num_frames, frames.shape[0])).round().astype(int))
        tiles = upscale(frames[idx], scale)
        row = []
        for i, tile in enumerate(tiles):
            if i and separator > 0:
                row.append(np.full((tile.shape[0], separator), SEPARATOR_VALUE, np.uint8))
            row.append(tile)
        rows.append(np.concatenate(row, axis=1))
    if labels is not None:
        band_w = max(48, round(24 * scale))
        names = [str(labels[i]) if i < len(labels) else "" for i in range(len(rows))]
        rows = [
            np.concatenate([_row_label(band_w, r.shape[0], name), r], axis=1)
            for name, r in zip(names, rows, strict=True)
        ]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]))) for r in rows]
    out = []
    for i, r in enumerate(rows):
        if i and separator > 0:
            out.append(np.full((separator, width), SEPARATOR_VALUE, np.uint8))
        out.append(r)
    return np.ascontiguousarray(np.concatenate(out, axis=0))


def _row_label(width: int, height: int, text: str) -> np.ndarray:
    """A `width × height` panel with `text` centred vertically (labels for strip rows)."""
    panel = np.zeros((height, width), np.uint8)
    band = _label_band(width, text, min(height, max(12, width // 4)))
    top = (height - band.shape[0]) // 2
    panel[top : top + band.shape[0]] = band
    return panel


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a grayscale or BGR `uint8` image as PNG, atomically."""
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"{path}: image of shape {image.shape} cannot be encoded as PNG")
    path = Path(path)
    with atomic_open(path, "wb") as f:
        f.write(data.tobytes())
    return path


def write_png_strip(path: str | os.PathLike, seq: SequenceLike | Sequence[SequenceLike], **kwargs) -> Path:
    """`png_strip(seq, **kwargs)` written as a PNG file (atomically); returns the path."""
    return write_png(path, png_strip(seq, **kwargs))
