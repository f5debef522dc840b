"""Step 1, decode: open a video with FFmpeg, read its frames, resize them to the working size."""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gaitdata.errors import GaitDataError

logger = logging.getLogger(__name__)

DEFAULT_FPS = 25.0


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video (`frame_count` may be approximate, or -1)."""

    path: str
    width: int
    height: int
    fps: float
    frame_count: int


def open_video(path: str | os.PathLike) -> tuple[cv2.VideoCapture, VideoInfo]:
    """Open a video file with OpenCV's FFmpeg backend and check that it yields a frame.

    Returns the capture positioned at frame 0 and its `VideoInfo`. The caller releases it.

    Raises:
        GaitDataError: missing path, a folder, or a file FFmpeg cannot decode (not a video,
            header truncated, unsupported codec).
    """
    path = Path(path)
    if not path.exists():
        raise GaitDataError(path, "video file does not exist")
    if not path.is_file():
        raise GaitDataError(path, "is a folder, expected a video file")
    # FFmpeg explicitly: the default backend list would open `img_%02d.png`-like names as image
    # sequences and report a confusing success.
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise GaitDataError(
            path, "cannot be decoded as a video (not a video file, truncated header, or unsupported codec)"
        )
    ok, frame = cap.read()
    cap.release()  # reopen rather than seek back: seeking is inexact in some containers
    if not ok or frame is None:
        raise GaitDataError(path, "opens as a video but no frame can be decoded (corrupt or truncated file)")
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    if not math.isfinite(fps) or fps <= 0 or fps > 1000:
        logger.warning("%s: container reports no usable frame rate (%r); assuming %g fps", path, fps, DEFAULT_FPS)
        fps = DEFAULT_FPS
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    count = int(count) if math.isfinite(count) and count > 0 else -1
    return cap, VideoInfo(str(path), int(frame.shape[1]), int(frame.shape[0]), fps, count)


def read_video_frame(video_path: str | os.PathLike, frame_index: int) -> np.ndarray:
    """Decode one frame `uint8 [H, W, 3]` (BGR) by reading forward (exact, unlike seeking)."""
    cap, _ = open_video(video_path)
    try:
        for i in range(frame_index + 1):
            ok, frame = cap.read()
            if not ok:
                raise GaitDataError(video_path, f"frame {frame_index} cannot be decoded (the video ends at {i})")
        return frame
    finally:
        cap.release()


def _resize_to(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (frame.shape[1], frame.shape[0]) == size:
        return frame
    return cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
