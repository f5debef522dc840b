"""Mean-shape correction of the calibrated walkers: displacement fields fitted on real people.

A body of limb volumes cannot show everything real silhouettes do on average (arms that overlap
a rounder torso, loose clothes, the outline a real segmentation cuts). The calibrated style
therefore ends with one smooth warp per condition type × view, fitted so that the mean GEI of
warped walkers (training subjects 001-074) matches real CASIA-B's mean GEI of its training
subjects (`../shared/data/real-gei`, `mean_gei`; `scripts/fit_walker_realism.py shape`). Every
walker of one type and view is warped by the same field, so it moves what all of them share and
nothing that tells one person from another.

The warp acts on pretreated `64x64` frames: ``out(y, x) = frame(y + dy, x + dx)``, background
outside the frame; it moves each frame's sharp outline (warped at 4x and averaged down, so edges
stay as soft as pretreatment leaves them). Nearly linear in the image, a clip's GEI after the warp
is close to the warp of its GEI, so the fit works on mean GEIs alone. Views between the fitted ones blend
their two neighbours' fields; a view past 180 deg (the other side) uses its mirror view's field,
mirrored.

The fields live in `calibrated_shape.npz` beside this module (plain arrays, read with
``allow_pickle=False``); `digest` names them in a dataset's ground truth.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import cv2
import numpy as np

SHAPE_FIELDS = Path(__file__).with_name("calibrated_shape.npz")
FRAME = 64  # pretreated frames are FRAME x FRAME
SUPERSAMPLE = 2  # frames are warped as sharp outlines at 2x, then resized down as pretreatment does


@dataclass(frozen=True, eq=False)
class ShapeCorrection:
    """Per type × view displacement fields.

    Attributes:
        types: condition types, e.g. ``("nm", "bg", "cl")``.
        views_deg: `float64 [V]` fitted azimuths, ascending within 0..180.
        fields: `float32 [len(types), V, 2, 64, 64]` displacement (dx, dy) in pixels.
    """

    types: tuple[str, ...]
    views_deg: np.ndarray
    fields: np.ndarray

    def __post_init__(self):
        views = np.asarray(self.views_deg, np.float64)
        expected = (len(self.types), views.size, 2, FRAME, FRAME)
        if self.fields.shape != expected:
            raise ValueError(f"shape-correction fields have shape {self.fields.shape}, expected {expected}")
        if views.size < 1 or np.any(np.diff(views) <= 0) or views[0] < 0 or views[-1] > 180:
            raise ValueError(f"shape-correction views must ascend within 0..180 deg, got {views.tolist()}")

    @cached_property
    def digest(self) -> str:
        """16 hex digits naming these fields (what a dataset's ground truth records)."""
        h = hashlib.sha256()
        h.update(",".join(self.types).encode())
        h.update(np.asarray(self.views_deg, np.float64).tobytes())
        h.update(np.asarray(self.fields, np.float32).tobytes())
        return h.hexdigest()[:16]

    def field(self, view_deg: float, kind: str) -> np.ndarray:
        """The displacement `float32 [2, 64, 64]` for azimuth `view_deg` and condition type `kind`."""
        if kind not in self.types:
            choices = ", ".join(self.types)
            raise ValueError(f"no shape correction for condition type {kind!r}: expected one of {choices}")
        view = float(view_deg) % 360.0
        mirrored = view > 180.0
        if mirrored:  # the other side of the walker: the mirror view's field, mirrored
            view = 360.0 - view
        fields = self.fields[self.types.index(kind)]
        views = np.asarray(self.views_deg, np.float64)
        hi = int(np.clip(np.searchsorted(views, view), 1, max(views.size - 1, 1)))
        if views.size == 1 or view <= views[0]:
            out = fields[0]
        elif view >= views[-1]:
            out = fields[-1]
        else:
            w = (view - views[hi - 1]) / (views[hi] - views[hi - 1])
            out = (1 - w) * fields[hi - 1] + w * fields[hi]
        out = np.asarray(out, np.float32)
        if mirrored:
            out = np.stack([-out[0, :, ::-1], out[1, :, ::-1]])
        return out

    def apply(self, frames: np.ndarray, view_deg: float, kind: str) -> np.ndarray:
        """Warp pretreated frames `uint8 [T, 64, 64]` by the field of (`view_deg`, `kind`).

        Each frame is warped as a sharp outline: blown up `SUPERSAMPLE` times, cut at half, warped,
        cut again and area-averaged back to 64x64, so its grey edge is one downscale's, as
        pretreatment leaves it (a plain bilinear warp would blur every edge).
        """
        if frames.ndim != 3 or frames.shape[1:] != (FRAME, FRAME):
            raise ValueError(f"shape correction needs [T, {FRAME}, {FRAME}] frames, got {frames.shape}")
        big = FRAME * SUPERSAMPLE
        # fine pixel centres in coarse pixel units, plus the field sampled there
        centres = (np.arange(big, dtype=np.float32) + 0.5) / SUPERSAMPLE - 0.5
        field = self.field(view_deg, kind)
        dx, dy = (cv2.resize(f, (big, big), interpolation=cv2.INTER_LINEAR) for f in field)
        map_x = ((centres[None, :] + dx + 0.5) * SUPERSAMPLE - 0.5).astype(np.float32)
        map_y = ((centres[:, None] + dy + 0.5) * SUPERSAMPLE - 0.5).astype(np.float32)
        out = np.empty_like(frames)
        for t, frame in enumerate(frames):
            sharp = cv2.resize(frame, (big, big), interpolation=cv2.INTER_LINEAR)
            sharp = np.where(sharp > 127, 255, 0).astype(np.uint8)
            moved = cv2.remap(sharp, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            moved = np.where(moved > 127, 255, 0).astype(np.uint8)
            out[t] = cv2.resize(moved, (FRAME, FRAME), interpolation=cv2.INTER_CUBIC)
        return out

    def save(self, path: str | os.PathLike) -> None:
        np.savez_compressed(
            path,
            types=np.array(self.types),
            views_deg=np.asarray(self.views_deg, np.float64),
            fields=np.asarray(self.fields, np.float16),  # sub-0.01 px: float16 is plenty, half the file
        )


def read_shape_correction(path: str | os.PathLike) -> ShapeCorrection:
    """Fields saved by `ShapeCorrection.save`; ValueError naming the file if it is not that."""
    if not Path(path).is_file():
        raise ValueError(f"{path}: not a walker shape correction (no such file)")
    if not zipfile.is_zipfile(path):  # np.load would try it as a pickle, and say so confusingly
        raise ValueError(f"{path}: not a walker shape correction (not an .npz of plain arrays)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"types", "views_deg", "fields"} - set(npz.files)
            if missing:
                raise ValueError(f"missing {', '.join(sorted(missing))}")
            return ShapeCorrection(
                tuple(str(t) for t in npz["types"]),
                npz["views_deg"].astype(np.float64),
                npz["fields"].astype(np.float32),
            )
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(f"{path}: not a walker shape correction ({err})") from None


@lru_cache(maxsize=1)
def calibrated_shape_correction() -> ShapeCorrection:
    """The fitted fields the calibrated style renders with (read once per process)."""
    return read_shape_correction(SHAPE_FIELDS)
