"""Step 2, foreground: background subtraction (MOG2 / KNN) from a clean plate, shadows dropped, morphology."""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np

from gaitdata.errors import GaitDataError
from gaitdata.video.decode import _resize_to, open_video

METHODS = ("mog2", "knn")
SHADOW_VALUE = 127  # what MOG2/KNN write for shadow pixels; foreground is 255


def estimate_background(
    video_path: str | os.PathLike, size: tuple[int, int], window: int, samples: int = 25
) -> np.ndarray:
    """A clean plate: the per-pixel median of `samples` frames spread over the first `window`.

    Walkers cover any pixel in only a few of the samples, so the median is the empty scene.
    Returns `uint8 [H, W, 3]` BGR at `size` (width, height).
    """
    cap, _ = open_video(video_path)
    step = max(1, window // samples)
    picked = []
    try:
        for i in range(window):
            if not cap.grab():  # grab without decoding the frames not sampled
                break
            if i % step == 0:
                ok, frame = cap.retrieve()
                if ok:
                    picked.append(_resize_to(frame, size))
    finally:
        cap.release()
    if not picked:
        raise GaitDataError(video_path, "no frame could be decoded to estimate the background")
    return np.median(np.stack(picked), axis=0).astype(np.uint8)


def _odd(n: float) -> int:
    return max(3, int(round(n)) | 1)


@dataclass(frozen=True)
class Morphology:
    """Structuring elements sized to the working resolution (tuned at 576 rows)."""

    open_kernel: np.ndarray
    close_kernel: np.ndarray

    @classmethod
    def for_height(cls, height: int) -> Morphology:
        s = height / 576.0
        # Open with a small disc (speckle); close with a tall ellipse: bodies split horizontally
        # (a belt, a shirt the colour of the road) are far more common than split sideways.
        return cls(
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(3 * s), _odd(3 * s))),
            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (_odd(3 * s), _odd(7 * s))),
        )


def foreground_mask(raw: np.ndarray, morphology: Morphology) -> np.ndarray:
    """A subtractor's output `uint8 [H, W]` (0 / 127 shadow / 255) → binary `uint8` mask (0 / 255)."""
    mask = np.where(raw > SHADOW_VALUE, np.uint8(255), np.uint8(0))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, morphology.open_kernel)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, morphology.close_kernel)


class BackgroundModel:
    """MOG2 / KNN background subtraction with shadow removal and morphology.

    Args:
        method: `"mog2"` or `"knn"`.
        frame_height: working frame height (sizes the morphology).
        clean_plate: `uint8 [H, W, 3]` empty-scene image to start from (None = learn from the
            first frames, which then hold ghosts of anyone in view at the start).
        learning_rate: per-frame update rate once primed (None = OpenCV's automatic 1/n,
            fast at first; a primed model should adapt slowly or it learns slow walkers).
    """

    def __init__(
        self,
        method: str = "mog2",
        frame_height: int = 576,
        clean_plate: np.ndarray | None = None,
        learning_rate: float | None = None,
    ):
        if method == "mog2":
            self.subtractor = cv2.createBackgroundSubtractorMOG2(history=500, varThreshold=16, detectShadows=True)
        elif method == "knn":
            self.subtractor = cv2.createBackgroundSubtractorKNN(history=500, dist2Threshold=400.0, detectShadows=True)
        else:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
        self.morphology = Morphology.for_height(frame_height)
        self.learning_rate = -1.0 if learning_rate is None else float(learning_rate)
        if clean_plate is not None:
            # MOG2 re-initialises from one frame at rate 1; KNN must fill its sample buffer.
            for _ in range(1 if method == "mog2" else 10):
                self.subtractor.apply(clean_plate, learningRate=1.0 if method == "mog2" else 0.5)

    def raw(self, frame: np.ndarray) -> np.ndarray:
        """The subtractor's output `uint8 [H, W]`: 0 background, 127 shadow, 255 foreground."""
        return self.subtractor.apply(frame, learningRate=self.learning_rate)

    def mask(self, raw: np.ndarray) -> np.ndarray:
        """Binary foreground `uint8 [H, W]` (0 / 255) from `raw`'s output."""
        return foreground_mask(raw, self.morphology)
