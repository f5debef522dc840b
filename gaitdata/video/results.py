"""What an extraction hands back: kept tracks, refused tracks, and the whole `VideoExtraction`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gaitdata.sequence import GaitSequence
from gaitdata.walker_check import WalkerCheck, WalkerVerdict


@dataclass
class Track:
    """One walker's path through the video (the track behind one extracted sequence).

    Attributes:
        track_id: 1, 2, … in order of first appearance among the kept tracks.
        frame_indices: `int64 [N]` video frame of each silhouette frame (gaps: occlusions,
            frames cut by the edge, inconsistent frames dropped).
        boxes: `int64 [N, 4]` person box (x0, y0, x1, y1) in original-video pixels per frame.
        occluded_frames: frames left out because the blob merged with another person.
        partial_frames: frames left out because the blob touched the frame edge.
        verdict: what `check_walker` measured (kept with `WalkerCheck(enabled=False)` even when
            it would have refused the track: `verdict.reasons` then says why).
    """

    track_id: int
    frame_indices: np.ndarray
    boxes: np.ndarray
    occluded_frames: int = 0
    partial_frames: int = 0
    verdict: WalkerVerdict | None = None  # the walker check's findings (None: not checked)

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))

    @property
    def heights(self) -> np.ndarray:
        return self.boxes[:, 3] - self.boxes[:, 1]

    @property
    def widths(self) -> np.ndarray:
        return self.boxes[:, 2] - self.boxes[:, 0]

    def box_at(self, frame_index: int) -> np.ndarray | None:
        """The box at a video frame, or None when the track has no silhouette there."""
        hit = np.flatnonzero(self.frame_indices == frame_index)
        return self.boxes[hit[0]] if hit.size else None


@dataclass
class RefusedTrack:
    """A track long enough to be a walker that the walker check refused.

    Attributes:
        label: "r01", "r02", … in order of first appearance among the refused tracks.
        frame_indices: `int64 [N]` video frame of each silhouette frame.
        boxes: `int64 [N, 4]` boxes (x0, y0, x1, y1) in original-video pixels.
        verdict: `verdict.reasons` says why, one line per failed check; `verdict.measures` the numbers.
    """

    label: str
    frame_indices: np.ndarray
    boxes: np.ndarray
    verdict: WalkerVerdict

    @property
    def num_frames(self) -> int:
        return int(len(self.frame_indices))

    @property
    def reason(self) -> str:
        return "; ".join(self.verdict.reasons)

    def box_at(self, frame_index: int) -> np.ndarray | None:
        hit = np.flatnonzero(self.frame_indices == frame_index)
        return self.boxes[hit[0]] if hit.size else None


@dataclass
class VideoExtraction:
    """Everything `extract_walkers` found in a video.

    Attributes:
        sequences: one `GaitSequence` per kept track, `uint8 [T, 64, 64]`.
        tracks: the matching `Track`s (same order).
        num_frames_read: frames decoded.
        fps: the video's frame rate.
        frame_size: (width, height) of the original video.
        method: "mog2" or "knn".
        timings: seconds per stage (background, decode, subtract, blobs, track, pretreat).
        stats: counts that explain the result (blobs seen, tracks rejected and why, ...).
        snapshot: `uint8 [H, W, 3]` BGR frame (original size) with the most long tracks in
            view, for contact sheets; `snapshot_index` is its frame number (-1: none).
        refused: tracks of at least `min_frames` silhouettes that the walker check refused,
            each with its reasons.
        walker_check: the thresholds used.
    """

    sequences: list[GaitSequence]
    tracks: list[Track]
    num_frames_read: int
    fps: float
    frame_size: tuple[int, int]
    method: str
    timings: dict[str, float] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)
    snapshot: np.ndarray | None = None
    snapshot_index: int = -1
    refused: list[RefusedTrack] = field(default_factory=list)
    walker_check: WalkerCheck = field(default_factory=WalkerCheck)

    @property
    def frames_per_second(self) -> float:
        """Processing speed: frames read per second of extraction time."""
        total = sum(self.timings.values())
        return self.num_frames_read / total if total > 0 else float("nan")
