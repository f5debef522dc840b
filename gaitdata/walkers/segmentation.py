"""Segmentation artefacts of real silhouettes (calibrated style): blurred, merged, blocky outlines.

CASIA-B's silhouettes come from background subtraction: a soft foreground map is smoothed and
cut at a threshold, gaps narrower than the smoothing close (an arm against the torso, the legs
seen from the front), and some clips were segmented on a coarse grid and blown up, which leaves
blocky edges. `SegmentationArtefacts` holds one clip's settings (drawn per camera);
`spoil_segmentation` applies them to raw masks, after the boundary noise, holes and shadow of
`render._SegmentationNoise`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class SegmentationArtefacts:
    """One clip's segmentation, in pixels of the raw mask.

    Attributes:
        closing_px: radius of the morphological closing (0 = none): gaps up to twice it fill in.
        blur_px: Gaussian sigma of the foreground map before it is cut (0 = none).
        threshold: the cut, 0..1 of full foreground (below 0.5 grows the outline, above shrinks it).
        coarse: 1 = segmented at full resolution; > 1, on a grid this many times coarser.
        misalign_px: sd of each pretreated frame's sideways shift (pixels of the 64x64 frame): a
            glitch of the segmentation (a shadow, a merged background blob) moves the centre
            pretreatment finds, so real frames of one clip do not quite line up (0 = they do).
        misalign_scale: sd of each frame's relative change of size, for the same reason.
    """

    closing_px: float
    blur_px: float
    threshold: float
    coarse: float
    misalign_px: float = 0.0
    misalign_scale: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def spoil_segmentation(masks: np.ndarray, artefacts: SegmentationArtefacts) -> np.ndarray:
    """Raw masks `uint8 [T, H, W]` (0/255) → the same shape, 0/255, as a real segmentation would cut them."""
    out = np.empty_like(masks)
    radius = int(round(artefacts.closing_px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)) if radius > 0 else None
    height, width = masks.shape[1:]
    coarse_size = (max(1, int(round(width / artefacts.coarse))), max(1, int(round(height / artefacts.coarse))))
    cut = int(round(255 * artefacts.threshold))
    for t, mask in enumerate(masks):
        img = mask
        if kernel is not None:
            img = cv2.morphologyEx(img, cv2.MORPH_CLOSE, kernel)
        if artefacts.blur_px > 0:
            img = cv2.GaussianBlur(img, (0, 0), artefacts.blur_px)
        if artefacts.coarse > 1:
            # Segmented on the coarse grid (area average, then cut), shown back at full size: blocks.
            img = cv2.resize(img, coarse_size, interpolation=cv2.INTER_AREA)
            img = np.where(img > cut, 255, 0).astype(np.uint8)
            img = cv2.resize(img, (width, height), interpolation=cv2.INTER_NEAREST)
        else:
            img = np.where(img > cut, 255, 0).astype(np.uint8)
        out[t] = img
    return out


MISALIGN_FRAMES = 3.0  # a glitch lasts a few frames: the offsets drift, they do not flicker


def _slow_noise(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` values of unit sd, smoothed over about `MISALIGN_FRAMES` frames."""
    half = int(3 * MISALIGN_FRAMES)
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / MISALIGN_FRAMES) ** 2)
    noise = np.convolve(rng.normal(size=count + 2 * half), kernel, mode="valid")
    return noise / max(float(np.sqrt((kernel**2).sum())), 1e-9)


def misaligned_frames(frames: np.ndarray, artefacts: SegmentationArtefacts, seed: int) -> np.ndarray:
    """Pretreated frames `uint8 [T, 64, 64]` shifted sideways and resized about the top of the
    head by offsets that drift over the clip (`misalign_px`, `misalign_scale` their sd);
    unchanged when both are 0."""
    if artefacts.misalign_px <= 0 and artefacts.misalign_scale <= 0:
        return frames
    rng = np.random.default_rng(seed)
    count, height, width = frames.shape
    shift = artefacts.misalign_px * _slow_noise(rng, count)
    scale = np.clip(1.0 + artefacts.misalign_scale * _slow_noise(rng, count), 0.8, 1.2)
    out = np.empty_like(frames)
    centre = (width - 1) / 2.0
    for t, frame in enumerate(frames):  # x' = s (x - c) + c + shift, y' = s y
        matrix = np.array([[scale[t], 0.0, (1 - scale[t]) * centre + shift[t]], [0.0, scale[t], 0.0]])
        out[t] = cv2.warpAffine(frame, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=0)
    return out
