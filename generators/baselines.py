"""Classic silhouette anonymization baselines, the yardstick for the anonymizer.

What a reader compares the anonymizer (`GaitEditor.anonymize_many`) with: image operations that hide the body's
detail without modelling identity at all (GaitProtector's comparison points).

- `blur_silhouettes`: every frame Gaussian-blurred, then re-thresholded at half grey: thin
  parts (arms, the gap between the legs, the feet) melt into the body or vanish, the outline
  is smoothed;
- `morph_silhouettes`: a morphological operation with a large elliptical kernel; closing (the
  default) fills the gaps between legs and arms and every concavity of the outline, dilation
  fattens the body, erosion thins it, opening removes thin limbs.

Both are `fn(sequence, strength) -> GaitSequence`: `strength` in [0, 1] scales the kernel (0
returns an unchanged copy), the frames keep the source's shape and `uint8` dtype, and subject,
condition and view are kept (the clip is the same walk, degraded), with `extra["baseline"]`
recording what was done. OpenCV does the image work.
"""

from __future__ import annotations

import cv2
import numpy as np

from gaitdata import GaitSequence

# At full strength, on 64-px-high silhouettes (a body ~10 px wide at the hips, limbs 2–4 px):
MAX_BLUR_SIGMA = 6.0  # px: legs and arms merge with the torso
MAX_MORPH_RADIUS = 8  # px: a 17×17 ellipse, wider than the gap between the legs at full stride
MORPH_OPERATIONS = {
    "close": cv2.MORPH_CLOSE,
    "open": cv2.MORPH_OPEN,
    "dilate": cv2.MORPH_DILATE,
    "erode": cv2.MORPH_ERODE,
}


def _check(sequence: GaitSequence, strength: float) -> None:
    if not isinstance(sequence, GaitSequence):
        raise ValueError(f"expected a GaitSequence, got {type(sequence).__name__}")
    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], got {strength}")


def _degraded(sequence: GaitSequence, frames: np.ndarray, name: str, **settings) -> GaitSequence:
    return sequence.with_frames(
        frames,
        source=f"{name} of {sequence.source or '/'.join(sequence.key)}",
        extra={**sequence.extra, "baseline": {"name": name, **settings}},
    )


def blur_silhouettes(sequence: GaitSequence, strength: float = 0.5) -> GaitSequence:
    """Gaussian blur of every frame, re-thresholded to a binary silhouette.

    Args:
        sequence: the source clip, frames `uint8 [T, H, W]` (soft values allowed).
        strength: in [0, 1]; the blur's standard deviation is `strength × MAX_BLUR_SIGMA` px.

    Returns:
        The blurred clip, `uint8 [T, H, W]` with values 0 / 255 (a copy of the source at
        strength 0); `extra["baseline"] = {"name": "blur", "strength", "sigma_px"}`.

    Raises:
        ValueError: not a GaitSequence, or strength outside [0, 1].
    """
    _check(sequence, strength)
    sigma = float(strength) * MAX_BLUR_SIGMA
    if sigma == 0.0:
        return _degraded(sequence, sequence.frames.copy(), "blur", strength=float(strength), sigma_px=0.0)
    # reflected borders: the body touches the top and bottom rows, a zero border would eat head and feet
    blurred = [cv2.GaussianBlur(f, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101) for f in sequence.frames]
    frames = np.where(np.stack(blurred) >= 128, 255, 0).astype(np.uint8)
    return _degraded(sequence, frames, "blur", strength=float(strength), sigma_px=round(sigma, 3))


def morph_silhouettes(sequence: GaitSequence, strength: float = 0.5, operation: str = "close") -> GaitSequence:
    """A morphological operation with a large elliptical kernel on every frame.

    Args:
        sequence: the source clip, frames `uint8 [T, H, W]` (grey-level morphology keeps soft values soft).
        strength: in [0, 1]; the kernel's radius is `round(strength × MAX_MORPH_RADIUS)` px.
        operation: "close" (fills gaps and concavities: hides leg and arm swing), "dilate",
            "erode" or "open".

    Returns:
        The processed clip, `uint8 [T, H, W]` (a copy of the source at radius 0);
        `extra["baseline"] = {"name": "morph", "operation", "strength", "radius_px"}`.

    Raises:
        ValueError: not a GaitSequence, strength outside [0, 1], an unknown operation.
    """
    _check(sequence, strength)
    if operation not in MORPH_OPERATIONS:
        raise ValueError(f"operation must be one of {', '.join(MORPH_OPERATIONS)}, got {operation!r}")
    radius = int(round(float(strength) * MAX_MORPH_RADIUS))
    settings = {"operation": operation, "strength": float(strength), "radius_px": radius}
    if radius == 0:
        return _degraded(sequence, sequence.frames.copy(), "morph", **settings)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    # OpenCV's default border for morphology is neutral (no growth from or into the frame edge)
    frames = np.stack([cv2.morphologyEx(f, MORPH_OPERATIONS[operation], kernel) for f in sequence.frames])
    return _degraded(sequence, frames.astype(np.uint8), "morph", **settings)


BASELINES = {"blur": blur_silhouettes, "morph": morph_silhouettes}
