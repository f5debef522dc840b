"""OpenGait-compatible pretreatment of raw silhouette masks.

Raw masks (CASIA-B PNGs, video foreground) come at any size with the person anywhere.
OpenGait's `datasets/pretreatment.py` normalises each frame the same way; so do we, so that
sequences pretreated here and there can be mixed in one training set:

1. drop frames with almost no foreground;
2. crop to the rows that hold foreground;
3. resize to height 64 keeping the aspect of the (full-width) frame;
4. centre horizontally on the column where the cumulative mass passes half;
5. cut a 64-wide window, zero-padding where it runs off the frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from gaitdata.sequence import STORED_SIZE


def pretreat_frame(mask: np.ndarray, size: int = STORED_SIZE, interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
    """One raw mask `uint8 [H, W]` (with foreground) → `uint8 [size, size]`.

    The mask's foreground rows are scaled to exactly `size` rows; the column where the
    cumulative foreground mass passes half lands on column `size // 2`.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        raise ValueError("frame has no foreground")
    body = mask[rows[0] : rows[-1] + 1]
    h, w = body.shape
    new_w = max(1, int(size * w / h))
    # Cubic is what OpenGait uses; the cast clips its overshoot back into 0..255.
    body = cv2.resize(body, (new_w, size), interpolation=interpolation)
    mass = body.astype(np.float64).sum(axis=0).cumsum()
    if mass[-1] <= 0:
        raise ValueError("frame lost its foreground when resized")
    centre = int(np.argmax(mass > mass[-1] / 2))
    half = size // 2
    padded = np.pad(body, ((0, 0), (half, half)))
    left = centre  # `centre - half` in unpadded coordinates
    return np.ascontiguousarray(padded[:, left : left + size])


def pretreat_silhouettes(
    masks: np.ndarray,
    size: int = STORED_SIZE,
    min_foreground_pixels: int = 40,
    interpolation: int = cv2.INTER_CUBIC,
) -> tuple[np.ndarray, np.ndarray]:
    """Pretreat a raw mask sequence the OpenGait way.

    Args:
        masks: `uint8 [T, H, W]` (or bool) raw masks, any size.
        size: output frame height and width (64 for OpenGait).
        min_foreground_pixels: frames with fewer fully-lit-equivalent pixels are dropped
            (OpenGait drops frames whose pixel sum is at most 10000, i.e. ~40 pixels of 255).
        interpolation: OpenCV interpolation flag for the resize.

    Returns:
        (frames `uint8 [T', size, size]`, kept frame indices `int [T']`). `T'` may be 0 when no
        frame holds a person; callers decide whether that is an error.
    """
    masks = np.asarray(masks)
    if masks.dtype == np.bool_:
        masks = masks.astype(np.uint8) * 255
    if masks.ndim != 3:
        raise ValueError(f"masks must be [T, H, W], got shape {masks.shape}")
    out, kept = [], []
    for i, mask in enumerate(masks):
        if mask.astype(np.int64).sum() <= min_foreground_pixels * 255:
            continue
        out.append(pretreat_frame(mask, size, interpolation))
        kept.append(i)
    frames = np.stack(out) if out else np.zeros((0, size, size), np.uint8)
    return frames, np.asarray(kept, dtype=np.int64)
