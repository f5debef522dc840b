"""Step 4, tracking: per-frame person blobs linked into walker tracks, each collecting its silhouettes."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from gaitdata.video.blobs import Box, PersonBlob, fill_small_holes, largest_component_share


def box_iou(a: Box | np.ndarray, b: Box | np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    inter = _intersection(a, b)
    if inter <= 0:
        return 0.0
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def _intersection(a, b) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    return float(max(iw, 0) * max(ih, 0))


def _box_area(box) -> float:
    return float((box[2] - box[0]) * (box[3] - box[1]))


def _centre(box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0])


@dataclass
class _LiveTrack:
    uid: int
    box: np.ndarray  # float [4], last observed box
    last_frame: int
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # centre px / frame
    missed: int = 0
    frames: list[int] = field(default_factory=list)  # frames with a silhouette
    boxes: list[Box] = field(default_factory=list)  # working-resolution boxes of those frames
    crops: list[np.ndarray] = field(default_factory=list)  # uint8 0/255 masks of those boxes
    shares: list[float] = field(default_factory=list)  # largest component's share of each crop
    seen: list[tuple[int, Box]] = field(default_factory=list)  # every observation, silhouette or not
    occluded: int = 0
    partial: int = 0

    def predict(self, frame_index: int) -> np.ndarray:
        shift = self.velocity * (frame_index - self.last_frame)
        return self.box + np.array([shift[0], shift[1], shift[0], shift[1]])

    def observe(self, frame_index: int, box: Box) -> None:
        new = np.asarray(box, dtype=np.float64)
        if self.seen:
            step = (_centre(new) - _centre(self.box)) / max(1, frame_index - self.last_frame)
            # Smoothed velocity: blob boxes jitter with arm and leg swing.
            self.velocity = 0.5 * self.velocity + 0.5 * step
        self.box = new
        self.last_frame = frame_index
        self.missed = 0
        self.seen.append((frame_index, box))


class WalkerTracker:
    """Multi-person tracker over per-frame `PersonBlob`s (Hungarian assignment, gap tolerance).

    Args:
        frame_size: (width, height) of the working frames, to spot blobs cut by the border.
        max_gap: frames a track may go unseen (occluded, missed) before it ends.
        min_iou: below this IoU the centre distance decides (fast walkers at low fps).
        max_centre_dist: centre-distance gate, in box heights.
    """

    _NO_MATCH = 1e6

    def __init__(
        self, frame_size: tuple[int, int], max_gap: int = 5, min_iou: float = 0.1, max_centre_dist: float = 0.6
    ):
        self.width, self.height = frame_size
        self.max_gap = max_gap
        self.min_iou = min_iou
        self.max_centre_dist = max_centre_dist
        self.live: list[_LiveTrack] = []
        self.ended: list[_LiveTrack] = []
        self._next_uid = 0

    def _cost(self, track: _LiveTrack, pred: np.ndarray, box: Box) -> float:
        ph, bh = pred[3] - pred[1], box[3] - box[1]
        # A person does not change size that fast. After missed or occluded frames the gate is
        # tighter: that is when a track would jump to a passer-by or someone standing nearby.
        low, high = (0.6, 1.7) if track.missed == 0 else (0.8, 1.25)
        if not low <= bh / max(ph, 1e-6) <= high:
            return self._NO_MATCH
        iou = box_iou(pred, box)
        if iou >= self.min_iou:
            return 1.0 - iou
        dist = float(np.linalg.norm(_centre(pred) - _centre(box))) / max(ph, bh)
        return 1.0 + dist if dist <= self.max_centre_dist else self._NO_MATCH

    def _touches_border(self, box: Box) -> bool:
        m = 2
        return box[0] <= m or box[1] <= m or box[2] >= self.width - m or box[3] >= self.height - m

    def _observe(self, track: _LiveTrack, frame_index: int, labels: np.ndarray, blob: PersonBlob) -> bool:
        """Move `track` to `blob`; keep its silhouette unless the frame edge cuts it."""
        track.observe(frame_index, blob.box)
        if self._touches_border(blob.box):
            track.partial += 1
            return False
        x0, y0, x1, y1 = blob.box
        crop = fill_small_holes(np.isin(labels[y0:y1, x0:x1], blob.labels).astype(np.uint8) * 255)
        track.crops.append(crop)
        track.shares.append(largest_component_share(crop))
        track.frames.append(frame_index)
        track.boxes.append(blob.box)
        return True

    def update(self, frame_index: int, labels: np.ndarray, blobs: list[PersonBlob]) -> int:
        """Associate one frame's blobs with tracks; returns how many tracks got a silhouette.

        `labels` is `find_person_blobs`' component image, from which silhouettes are cut.
        """
        preds = [t.predict(frame_index) for t in self.live]
        match: dict[int, int] = {}  # blob index -> track index
        if preds and blobs:
            cost = np.array([[self._cost(t, p, b.box) for b in blobs] for t, p in zip(self.live, preds, strict=True)])
            rows, cols = linear_sum_assignment(cost)
            match = {int(c): int(r) for r, c in zip(rows, cols, strict=True) if cost[r, c] < self._NO_MATCH}
        matched_tracks = set(match.values())

        added = 0
        for j, track_index in match.items():
            blob, track = blobs[j], self.live[track_index]
            # A blob that also swallows another live track's predicted box is two people merged:
            # neither gets this frame, both coast on their prediction.
            swallowed = [
                k
                for k, p in enumerate(preds)
                if k not in matched_tracks and _intersection(p, blob.box) >= 0.5 * _box_area(p)
            ]
            if swallowed:
                for k in [track_index, *swallowed]:
                    self.live[k].occluded += 1
                track.missed += 1
                continue
            added += self._observe(track, frame_index, labels, blob)
        for k, track in enumerate(self.live):
            if k not in matched_tracks:
                track.missed += 1

        # Unmatched blobs start tracks, unless they lie on a tracked person (a stray fragment).
        for j, blob in enumerate(blobs):
            if j in match or any(_intersection(p, blob.box) >= 0.5 * _box_area(blob.box) for p in preds):
                continue
            self._next_uid += 1
            track = _LiveTrack(self._next_uid, np.asarray(blob.box, dtype=np.float64), frame_index)
            self.live.append(track)
            added += self._observe(track, frame_index, labels, blob)

        self.ended.extend(t for t in self.live if t.missed > self.max_gap)
        self.live = [t for t in self.live if t.missed <= self.max_gap]
        return added

    def active_count(self, min_frames: int) -> int:
        """Live tracks seen this frame that already hold `min_frames` silhouettes."""
        return sum(1 for t in self.live if t.missed == 0 and len(t.frames) >= min_frames)

    def finish(self) -> list[_LiveTrack]:
        """End every track; returns all of them in order of first appearance."""
        self.ended.extend(self.live)
        self.live = []
        return sorted(self.ended, key=lambda t: t.seen[0][0])
