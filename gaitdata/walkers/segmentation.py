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
    """

    closing_px: float
    blur_px: float
    threshold: float
    coarse: float

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
