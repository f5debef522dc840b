"""The real population a silhouette dataset is measured against: `casia_b_gei_stats.npz`
(`../shared/data/real-gei/`), read safely (`load_reference`: size-capped, numeric arrays only,
no pickle), and the GEI math: GEIs, the Gaussian Fréchet distance, the mean-GEI L1.

`evaluation.realism` measures datasets with them."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitdata import GaitDataError
from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH, crop_to_model_input

#: Sequences shorter than this give no GEI (the reference statistics leave them out too).
MIN_FRAMES = 5
GEI_SHAPE = (CANONICAL_HEIGHT, CANONICAL_WIDTH)
GEI_PIXELS = CANONICAL_HEIGHT * CANONICAL_WIDTH
#: The reference file is ~1 MB; anything decompressing to more than this is not it.
MAX_REFERENCE_BYTES = 64 * 2**20
NUMERIC_KEYS = ("mean_gei", "mean_gei_counts", "pca_mean", "pca_basis", "pca_eigenvalues", "real_mean", "real_cov")
#: CASIA-B's silhouette figures (`CASIA_B_REFERENCE`) are known for these view groups.
VIEW_GROUPS = {"000": "front_back", "180": "front_back", "036": "oblique", "144": "oblique", "090": "side"}
#: The reference protocol's figures (README of the reference statistics), for the report's headline.
REAL_VS_REAL = {"gei_frechet": 1.93, "mean_gei_l1": 0.011}


# ---------------------------------------------------------------------------------------------
# The reference statistics
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class RealGeiReference:
    """Real CASIA-B GEI aggregates, checked (`load_reference`).

    Attributes:
        path: the file read.
        types: condition types, e.g. ``("nm", "bg", "cl")``.
        views: 3-digit view names, ``("000", …, "180")``.
        mean_gei: `float32 [len(types), len(views), 64, 44]` in [0, 1]: mean GEI per type × view.
        mean_gei_counts: `int [len(types), len(views)]` sequences averaged in each (0 = absent).
        pca_mean: `float64 [2816]`; pca_basis: `float64 [K, 2816]` principal axes (rows).
        pca_eigenvalues: `float64 [K]`.
        real_mean, real_cov: `float64 [K]`, `[K, K]`: Gaussian of the real projected GEIs.
        view_mean, view_cov: the same per view name.
    """

    path: str
    types: tuple[str, ...]
    views: tuple[str, ...]
    mean_gei: np.ndarray
    mean_gei_counts: np.ndarray
    pca_mean: np.ndarray
    pca_basis: np.ndarray
    pca_eigenvalues: np.ndarray
    real_mean: np.ndarray
    real_cov: np.ndarray
    view_mean: dict[str, np.ndarray]
    view_cov: dict[str, np.ndarray]

    @property
    def dims(self) -> int:
        return int(self.pca_basis.shape[0])

    def project(self, geis: np.ndarray) -> np.ndarray:
        """GEIs `[N, 64, 44]` (or `[N, 2816]`) in [0, 1] → `float64 [N, K]` coordinates on the basis."""
        flat = np.asarray(geis, np.float64).reshape(len(geis), GEI_PIXELS)
        return (flat - self.pca_mean) @ self.pca_basis.T

    def reconstruct(self, z: np.ndarray) -> np.ndarray:
        """Coordinates `[N, K]` → GEIs `float64 [N, 64, 44]` (not clipped: `project` inverts it exactly)."""
        z = np.asarray(z, np.float64)
        return (self.pca_mean + z @ self.pca_basis).reshape(len(z), *GEI_SHAPE)

    def sample_geis(self, n: int, seed: int = 0, view: str | None = None) -> np.ndarray:
        """`n` GEIs `[n, 64, 44]` drawn from the real Gaussian (overall, or one view's) and reconstructed."""
        mean, cov = (self.real_mean, self.real_cov) if view is None else (self.view_mean[view], self.view_cov[view])
        return self.reconstruct(np.random.default_rng(seed).multivariate_normal(mean, cov, size=n))


def _refuse(path, problem: str):
    raise GaitDataError(path, f"reference GEI statistics: {problem}")


def _reference_array(npz, path, key: str, kind: str) -> np.ndarray:
    if key not in npz.files:
        _refuse(path, f"no array '{key}' (holds {', '.join(sorted(npz.files)[:8])}…); not a casia_b_gei_stats file")
    try:
        array = npz[key]
    except ValueError:  # numpy's refusal of an object array under allow_pickle=False
        _refuse(path, f"array '{key}' holds pickled Python objects; refused (unpickling can run code)")
    if kind == "text":
        if array.dtype.kind not in "US":
            _refuse(path, f"array '{key}' must hold strings, holds {array.dtype}")
        return array.astype(str)
    if array.dtype.kind not in "fiu":
        _refuse(path, f"array '{key}' must be numeric, holds {array.dtype}")
    if not np.isfinite(array).all():
        _refuse(path, f"array '{key}' holds NaN or infinite values")
    return array


def _check_shape(path, key: str, array: np.ndarray, expected: tuple[int, ...], meaning: str) -> None:
    if array.shape != expected:
        _refuse(path, f"'{key}' has shape {array.shape}, expected {expected} ({meaning})")


def load_reference(path: str | os.PathLike) -> RealGeiReference:
    """Read and check `casia_b_gei_stats.npz` (never unpickling anything).

    Raises:
        GaitDataError: naming the file and the problem — it is missing, not an .npz archive
            (a pickle, a lone .npy, anything else), too large, holds an object (pickled) array,
            misses an array, or an array has another shape or dtype (GEIs must be 64×44).
    """
    path = Path(path)
    if not path.exists():
        _refuse(path, "file does not exist")
    if not path.is_file():
        _refuse(path, "is not a file")
    if not zipfile.is_zipfile(path):
        head = path.read_bytes()[:6]
        if head.startswith(b"\x93NUMPY"):
            _refuse(path, "is a single .npy array, expected an .npz archive of named arrays")
        if head[:1] == b"\x80":
            _refuse(path, "is a Python pickle, not an .npz archive; refused (unpickling can run code)")
        _refuse(path, "is not an .npz archive")
    with zipfile.ZipFile(path) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_REFERENCE_BYTES:
        limit = MAX_REFERENCE_BYTES // 2**20
        _refuse(path, f"unpacks to {unpacked / 2**20:.0f} MiB, more than the {limit} MiB allowed")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        _refuse(path, f"cannot be read as .npz: {err}")
    with npz:
        types = tuple(_reference_array(npz, path, "types", "text").tolist())
        views = tuple(_reference_array(npz, path, "views", "text").tolist())
        if types != tuple(dict.fromkeys(types)) or views != tuple(dict.fromkeys(views)) or not types or not views:
            _refuse(path, f"'types' {types} and 'views' {views} must be non-empty and without repeats")
        arrays = {key: _reference_array(npz, path, key, "number") for key in NUMERIC_KEYS}
        per_view = {
            view: (
                _reference_array(npz, path, f"real_mean_{view}", "number"),
                _reference_array(npz, path, f"real_cov_{view}", "number"),
            )
            for view in views
        }
    t, v = len(types), len(views)
    _check_shape(path, "mean_gei", arrays["mean_gei"], (t, v, *GEI_SHAPE), "types × views × 64×44 GEIs")
    _check_shape(path, "mean_gei_counts", arrays["mean_gei_counts"], (t, v), "types × views")
    _check_shape(path, "pca_mean", arrays["pca_mean"], (GEI_PIXELS,), "one flattened 64×44 GEI")
    basis = arrays["pca_basis"]
    if basis.ndim != 2 or basis.shape[1] != GEI_PIXELS or not 1 <= basis.shape[0] <= GEI_PIXELS:
        _refuse(path, f"'pca_basis' has shape {basis.shape}, expected (K, {GEI_PIXELS}) (principal axes of 64×44 GEIs)")
    k = basis.shape[0]
    _check_shape(path, "pca_eigenvalues", arrays["pca_eigenvalues"], (k,), "one per principal axis")
    _check_shape(path, "real_mean", arrays["real_mean"], (k,), "one per principal axis")
    _check_shape(path, "real_cov", arrays["real_cov"], (k, k), "axes × axes")
    for view, (mean, cov) in per_view.items():
        _check_shape(path, f"real_mean_{view}", mean, (k,), "one per principal axis")
        _check_shape(path, f"real_cov_{view}", cov, (k, k), "axes × axes")
    mean_gei = arrays["mean_gei"].astype(np.float32)
    if mean_gei.min() < 0 or mean_gei.max() > 1:
        _refuse(path, f"'mean_gei' values lie in [{mean_gei.min():g}, {mean_gei.max():g}], expected [0, 1]")
    return RealGeiReference(
        path=str(path),
        types=types,
        views=views,
        mean_gei=mean_gei,
        mean_gei_counts=arrays["mean_gei_counts"].astype(np.int64),
        pca_mean=arrays["pca_mean"].astype(np.float64),
        pca_basis=basis.astype(np.float64),
        pca_eigenvalues=arrays["pca_eigenvalues"].astype(np.float64),
        real_mean=arrays["real_mean"].astype(np.float64),
        real_cov=arrays["real_cov"].astype(np.float64),
        view_mean={view: m.astype(np.float64) for view, (m, _) in per_view.items()},
        view_cov={view: c.astype(np.float64) for view, (_, c) in per_view.items()},
    )


# ---------------------------------------------------------------------------------------------
# GEIs and the distances
# ---------------------------------------------------------------------------------------------


def gait_energy_image(frames: np.ndarray) -> np.ndarray:
    """Silhouette frames `uint8 [T, H, W]` → GEI `float32 [64, 44]` in [0, 1]: the mean model-input frame."""
    return (crop_to_model_input(frames).mean(axis=0, dtype=np.float64) / 255.0).astype(np.float32)


def condition_type(condition: str) -> str:
    """`"nm-01"` → `"nm"`; `"cl-gen-nm-01"` → `"cl"` (the type prefix trainers read)."""
    return condition.split("-", 1)[0]


def gaussian_frechet(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """Fréchet distance between two Gaussians: |μa−μb|² + tr(Σa + Σb − 2 (Σa^½ Σb Σa^½)^½).

    Through eigendecompositions of symmetric matrices (`tr (Σa Σb)^½` equals the trace of the
    square root of the symmetric PSD `Σa^½ Σb Σa^½`), so a rank-deficient covariance (fewer
    samples than dimensions) gives no complex parts or NaNs.
    """
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    values, vectors = np.linalg.eigh((cov_a + cov_a.T) / 2)
    root_a = (vectors * np.sqrt(values.clip(min=0))) @ vectors.T
    middle = root_a @ ((cov_b + cov_b.T) / 2) @ root_a
    trace_root = np.sqrt(np.linalg.eigvalsh((middle + middle.T) / 2).clip(min=0)).sum()
    diff = np.asarray(mean_a, np.float64) - np.asarray(mean_b, np.float64)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def frechet_to_reference(z: np.ndarray, reference: RealGeiReference, view: str | None = None) -> float:
    """GEI Fréchet distance of projected GEIs `z [N, K]` (N ≥ 2) to the real Gaussian (overall or one view's)."""
    z = np.asarray(z, np.float64)
    if z.ndim != 2 or z.shape[1] != reference.dims or len(z) < 2:
        raise ValueError(f"need ≥ 2 projected GEIs of {reference.dims} coordinates, got shape {z.shape}")
    if view is None:
        mean, cov = reference.real_mean, reference.real_cov
    else:
        mean, cov = reference.view_mean[view], reference.view_cov[view]
    return gaussian_frechet(z.mean(0), np.cov(z, rowvar=False), mean, cov)


def mean_gei_l1(mean_geis: np.ndarray, counts: np.ndarray, reference: RealGeiReference) -> dict:
    """Mean-GEI L1 per pixel, per type × view, against `reference.mean_gei`.

    Args:
        mean_geis: `[len(types), len(views), 64, 44]`, the dataset's mean GEIs, in the reference's order.
        counts: `[len(types), len(views)]` GEIs in each; a cell with 0 on either side is absent.

    Returns:
        {"cells": {type: {view: L1 or None}}, "mean", "min", "max", "worst" ("type/view"),
        "present", "absent": ["type/view", ...]} (summary figures None when no cell is present).
    """
    cells, present, absent = {}, {}, []
    for i, t in enumerate(reference.types):
        cells[t] = {}
        for j, v in enumerate(reference.views):
            if counts[i, j] == 0 or reference.mean_gei_counts[i, j] == 0:
                cells[t][v] = None
                absent.append(f"{t}/{v}")
                continue
            value = float(np.abs(mean_geis[i, j].astype(np.float64) - reference.mean_gei[i, j]).mean())
            cells[t][v] = round(value, 5)
            present[f"{t}/{v}"] = value
    values = np.array(list(present.values()))
    return {
        "cells": cells,
        "mean": round(float(values.mean()), 5) if present else None,
        "min": round(float(values.min()), 5) if present else None,
        "max": round(float(values.max()), 5) if present else None,
        "worst": max(present, key=present.get) if present else None,
        "present": len(present),
        "absent": absent,
    }
