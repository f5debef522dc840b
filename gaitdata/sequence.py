"""`GaitSequence`: the one data model every part of the studio passes around."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from gaitdata.errors import GaitDataError

logger = logging.getLogger(__name__)

# OpenGait stores 64x64 frames and models crop 10 columns from each side: the frame geometry.
STORED_SIZE = 64  # stored frames: uint8 [T, 64, 64]
CANONICAL_HEIGHT, CANONICAL_WIDTH = 64, 44  # the model crop: [T, 64, 44]
SIDE_COLUMNS = (STORED_SIZE - CANONICAL_WIDTH) // 2  # 10: what the crop drops (and padding adds back) each side


@dataclass
class GaitSequence:
    """A silhouette sequence and what is known about it.

    Attributes:
        frames: `uint8 [T, H, W]`, 0 = background, 255 = body; soft values in between allowed.
        subject: subject id as the dataset names it (e.g. ``"075"``).
        condition: walking condition (e.g. ``"nm-01"``, ``"bg-02"``, ``"cl-01"``).
        view: camera view in degrees as a 3-digit string (e.g. ``"090"``).
        source: where the frames came from (a path, or a description for generated clips).
        fps: frames per second.
        extra: free-form metadata (ground-truth walker parameters, scores, ...), JSON-serialisable.
    """

    frames: np.ndarray
    subject: str = "unknown"
    condition: str = "unknown"
    view: str = "unknown"
    source: str = ""
    fps: float = 25.0
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        frames = self.frames
        if not isinstance(frames, np.ndarray):
            raise GaitDataError(self.source or None, f"frames must be a numpy array, got {type(frames).__name__}")
        if frames.ndim == 2:  # a single frame
            frames = frames[None]
        if frames.ndim != 3:
            raise GaitDataError(self.source or None, f"frames must be [T, H, W], got shape {frames.shape}")
        if frames.shape[0] == 0:
            raise GaitDataError(self.source or None, "sequence has no frames")
        if frames.shape[1] < 4 or frames.shape[2] < 4:
            raise GaitDataError(self.source or None, f"frames of {frames.shape[1]}x{frames.shape[2]} are too small")
        self.frames = as_uint8_silhouettes(frames, self.source)
        self.subject, self.condition, self.view = str(self.subject), str(self.condition), str(self.view)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def key(self) -> tuple[str, str, str]:
        """(subject, condition, view): the sequence's place in the OpenGait layout."""
        return (self.subject, self.condition, self.view)

    def with_frames(self, frames: np.ndarray, **meta) -> GaitSequence:
        """A copy with new frames (and optionally new metadata); `extra` is copied, not shared."""
        meta.setdefault("extra", dict(self.extra))
        return replace(self, frames=frames, **meta)

    def model_input(self) -> np.ndarray:
        """Frames as models see them: `float32 [T, 64, 44]` in [0, 1].

        64-wide frames lose 10 columns on each side (OpenGait's crop); other sizes are resized
        to height 64 first and centre-cropped or zero-padded to 44 columns.
        """
        return crop_to_model_input(self.frames).astype(np.float32) / 255.0

    def __repr__(self) -> str:
        t, h, w = self.frames.shape
        return (
            f"GaitSequence(subject={self.subject!r}, condition={self.condition!r}, view={self.view!r}, "
            f"frames={t}x{h}x{w}, fps={self.fps:g})"
        )


def as_uint8_silhouettes(frames: np.ndarray, source: str | None = None) -> np.ndarray:
    """Convert masks of any common encoding to `uint8` in 0..255.

    Accepts uint8 as is; bool; floats in [0, 1] (scaled) or [0, 255]; other integer types whose
    values fit 0..255. Anything else raises `GaitDataError` naming `source`.
    """
    if frames.dtype == np.uint8:
        return np.ascontiguousarray(frames)
    if frames.dtype == np.bool_:
        return frames.astype(np.uint8) * 255
    if np.issubdtype(frames.dtype, np.floating):
        if not np.isfinite(frames).all():
            raise GaitDataError(source or None, "frames contain NaN or infinite values")
        lo, hi = float(frames.min()), float(frames.max())
        if lo < 0 or hi > 255:
            raise GaitDataError(source or None, f"float frames must lie in [0, 1] or [0, 255], got [{lo:g}, {hi:g}]")
        scale = 255.0 if hi <= 1.0 else 1.0
        return np.clip(np.rint(frames * scale), 0, 255).astype(np.uint8)
    if np.issubdtype(frames.dtype, np.integer):
        lo, hi = int(frames.min()), int(frames.max())
        if lo < 0 or hi > 255:
            raise GaitDataError(source or None, f"integer frames must lie in 0..255, got {lo}..{hi}")
        return frames.astype(np.uint8)
    raise GaitDataError(source or None, f"frames of dtype {frames.dtype} are not silhouettes")


def crop_to_model_input(frames: np.ndarray) -> np.ndarray:
    """`uint8 [T, H, W]` → `uint8 [T, 64, 44]`, the canonical model input."""
    import cv2  # local: keeps `import gaitdata` light for tools that never resize

    t, h, w = frames.shape
    if h != CANONICAL_HEIGHT:
        new_w = max(1, round(w * CANONICAL_HEIGHT / h))
        frames = np.stack([cv2.resize(f, (new_w, CANONICAL_HEIGHT), interpolation=cv2.INTER_AREA) for f in frames])
        w = new_w
    if w >= CANONICAL_WIDTH:
        left = (w - CANONICAL_WIDTH) // 2
        return np.ascontiguousarray(frames[:, :, left : left + CANONICAL_WIDTH])
    pad = CANONICAL_WIDTH - w
    return np.pad(frames, ((0, 0), (0, 0), (pad // 2, pad - pad // 2)))
