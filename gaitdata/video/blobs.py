"""Step 3, person blobs: connected components of a foreground mask merged, split and filtered into people."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), x1/y1 exclusive, pixels


@dataclass
class PersonBlob:
    """One detected person in one frame: a box and the component labels that make it up."""

    box: Box
    area: int
    labels: tuple[int, ...]

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> int:
        return self.box[2] - self.box[0]


@dataclass(frozen=True)
class BlobFilter:
    """What a person looks like, in working-resolution pixels.

    min_height: shortest person kept; `min_area` scales with it (a 30-px person fills ~200 px).
    fragment_area: smaller components are noise, never merged into a person.
    aspect: allowed box height / width (walkers with legs apart ~1.8, standing ~3-4; the
        floor is lower so that tracking survives a frame with an arm or a bag out).
    min_fill: foreground share of the box (excludes thin diagonal streaks).
    """

    min_height: int
    min_area: int
    fragment_area: int
    aspect: tuple[float, float] = (1.1, 6.0)
    min_fill: float = 0.2

    @classmethod
    def for_height(cls, frame_height: int, min_height_frac: float = 0.05) -> BlobFilter:
        h = max(16, int(round(frame_height * min_height_frac)))
        return cls(min_height=h, min_area=int(0.12 * h * h), fragment_area=max(6, int(0.015 * h * h)))

    def is_person(self, box: Box, area: int) -> bool:
        w, h = box[2] - box[0], box[3] - box[1]
        if h < self.min_height or area < self.min_area or w <= 0:
            return False
        return self.aspect[0] <= h / w <= self.aspect[1] and area / (w * h) >= self.min_fill


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _should_merge(a: Box, b: Box, rules: BlobFilter) -> bool:
    """Are two fragments likely one person? Stacked (head/torso/legs) or side by side (a pole)."""
    m = _union(a, b)
    mh, mw = m[3] - m[1], m[2] - m[0]
    if mh / max(mw, 1) > rules.aspect[1]:
        return False
    ov_x = min(a[2], b[2]) - max(a[0], b[0])  # negative = gap
    ov_y = min(a[3], b[3]) - max(a[1], b[1])
    wa, wb, ha, hb = a[2] - a[0], b[2] - b[0], a[3] - a[1], b[3] - b[1]
    if ov_x >= 0.3 * min(wa, wb) and -ov_y <= 0.15 * mh:
        # Stacked pieces. Flat streaks are not body parts (a fluttering tape, a shadow edge);
        # a merged box over 4.5 times as tall as wide is two people one above the other (near
        # and far), not one (99 % of vtest.avi's walkers are under 4.3).
        if ha < 0.4 * wa or hb < 0.4 * wb:
            return False
        return mh / max(mw, 1) <= 4.5
    if ov_y >= 0.6 * min(ha, hb) and -ov_x <= 0.1 * mh:
        # Side by side: halves of one person split by a pole keep a person's aspect when merged;
        # two people walking together do not.
        return mh / max(mw, 1) >= 1.5
    return False


def split_side_by_side(
    labels: np.ndarray, box: Box, area: int, labs: list[int], max_aspect: float = 2.2
) -> list[tuple[Box, int]]:
    """Split a blob of two people walking side by side at the valley between their heads.

    A wide blob (height / width < `max_aspect`) whose head-and-shoulders band (top 40 %) has
    two column-profile peaks at least a head apart, with a valley below half the lower peak,
    is cut at the valley. Returns [(box, area)]: the blob itself when it is not split. Each
    part's box is tightened to its own pixels.
    """
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    if h / max(w, 1) >= max_aspect or w < 0.4 * h:
        return [(box, area)]
    body = np.isin(labels[y0:y1, x0:x1], labs)
    top = body[: max(2, int(0.4 * h))].sum(axis=0).astype(np.float64)
    k = max(1, int(0.06 * h)) | 1
    profile = np.convolve(top, np.ones(k) / k, mode="same")
    p1 = int(np.argmax(profile))
    best = None
    for p2 in range(w):
        if abs(p2 - p1) < max(2, int(0.2 * h)) or profile[p2] < 0.3 * profile[p1]:
            continue
        a, b = sorted((p1, p2))
        valley = a + int(np.argmin(profile[a : b + 1]))
        # p2 must be the highest point on its side of the valley (a real second peak).
        side = profile[valley:] if p2 > p1 else profile[: valley + 1]
        if profile[p2] < side.max():
            continue
        depth = profile[valley] / max(min(profile[p1], profile[p2]), 1e-6)
        if depth < 0.5 and (best is None or depth < best[0]):
            best = (depth, valley)
    if best is None:
        return [(box, area)]
    parts = []
    for c0, c1 in ((0, best[1]), (best[1], w)):
        part = body[:, c0:c1]
        rows, cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
        if rows.size == 0 or cols.size < 0.15 * h:
            return [(box, area)]  # a sliver, not a person: keep the blob whole
        part_box = (x0 + c0 + int(cols[0]), y0 + int(rows[0]), x0 + c0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1)
        parts.append((part_box, int(part.sum())))
    return parts


def find_person_blobs(mask: np.ndarray, rules: BlobFilter) -> tuple[np.ndarray, list[PersonBlob], int]:
    """Binary mask `uint8 [H, W]` → (component labels `int32 [H, W]`, person blobs, merges done).

    Components below `rules.fragment_area` are noise; the rest are merged into people by
    `_should_merge` (repeated until stable), side-by-side pairs split, and kept if
    `rules.is_person`. A blob's pixels are its components' pixels inside its box.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    groups: list[list] = []  # [box, area, component labels]
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area >= rules.fragment_area:
            groups.append([(x, y, x + w, y + h), area, [i]])
    merges = 0
    changed = True
    while changed and len(groups) > 1:
        changed = False
        # Largest first, so big bodies absorb their own fragments before fragments pair up.
        groups.sort(key=lambda g: -g[1])
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                a, b = groups[i], groups[j]
                if _should_merge(a[0], b[0], rules):
                    groups[i] = [_union(a[0], b[0]), a[1] + b[1], a[2] + b[2]]
                    del groups[j]
                    merges += 1
                    changed = True
                    break
            if changed:
                break
    blobs = []
    for box, area, labs in groups:
        if area < rules.min_area:
            continue
        for part_box, part_area in split_side_by_side(labels, box, area, labs):
            if rules.is_person(part_box, part_area):
                blobs.append(PersonBlob(part_box, part_area, tuple(labs)))
    return labels, blobs, merges


def fill_small_holes(mask: np.ndarray, max_fraction: float = 0.08) -> np.ndarray:
    """Fill enclosed background regions smaller than `max_fraction` of the foreground area.

    Small holes are clothing that matched the background; large enclosed regions (the gap
    between the legs when the feet close the loop) are real and stay. `uint8` 0/255 in and out.
    """
    holes = (mask == 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(holes, connectivity=4)
    if n <= 2:
        return mask
    h, w = mask.shape
    limit = max_fraction * float(np.count_nonzero(mask))
    out = mask.copy()
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        touches_edge = x == 0 or y == 0 or x + bw == w or y + bh == h
        if not touches_edge and area <= limit:
            out[labels == i] = 255
    return out


def largest_component_share(mask: np.ndarray) -> float:
    """Share of a mask's foreground in its largest 8-connected component (1.0 = one piece)."""
    n, _, stats, _ = cv2.connectedComponentsWithStats((mask > 0).astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    return float(areas.max() / areas.sum()) if n > 1 else 0.0
