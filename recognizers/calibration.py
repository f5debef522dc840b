"""Verification threshold at a chosen false-accept rate, stored beside a recognizer's weights."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from recognizers.distance import pairwise_distance

CALIBRATION_FILE = "calibration.json"


def threshold_at_far(genuine: np.ndarray, impostor: np.ndarray, far: float = 0.01) -> dict:
    """The largest distance threshold whose false-accept rate stays at or below `far`.

    A pair is accepted as the same person when its distance is `<= threshold`.

    Args:
        genuine: distances of same-identity pairs, `float [G]`.
        impostor: distances of different-identity pairs, `float [I]`.
        far: the allowed share of impostor pairs accepted (0.01 = 1%).

    Returns:
        `{"threshold", "far", "tar", "genuine_pairs", "impostor_pairs"}` with the achieved FAR and
        the true-accept rate at that threshold.
    """
    impostor = np.sort(np.asarray(impostor, dtype=np.float64))
    genuine = np.asarray(genuine, dtype=np.float64)
    if len(impostor) == 0 or len(genuine) == 0:
        raise ValueError("calibration needs at least one genuine and one impostor pair")
    allowed = int(np.floor(far * len(impostor)))  # impostors that may fall at or under the threshold
    # just under the (allowed+1)-th smallest impostor distance: exactly `allowed` impostors accepted (barring ties)
    threshold = float(np.nextafter(impostor[allowed], -np.inf)) if allowed < len(impostor) else float(impostor[-1])
    return {
        "threshold": threshold,
        "far": float((impostor <= threshold).mean()),
        "tar": float((genuine <= threshold).mean()),
        "genuine_pairs": int(len(genuine)),
        "impostor_pairs": int(len(impostor)),
    }


def pair_distances(embeddings: np.ndarray, subjects: np.ndarray, metric: str = "euc") -> tuple[np.ndarray, np.ndarray]:
    """Distances of all unordered pairs of `embeddings [N, c, p]`, split into (genuine, impostor)."""
    subjects = np.asarray(subjects)
    dist = pairwise_distance(embeddings, embeddings, metric)
    upper = np.triu_indices(len(subjects), k=1)
    same = subjects[upper[0]] == subjects[upper[1]]
    values = dist[upper]
    return values[same], values[~same]


def calibrate(embeddings: np.ndarray, subjects: np.ndarray, metric: str = "euc", far: float = 0.01) -> dict:
    """Verification threshold at `far` from every pair of a labelled (test) set; see `threshold_at_far`."""
    genuine, impostor = pair_distances(embeddings, subjects, metric)
    return {"metric": metric, **threshold_at_far(genuine, impostor, far), "target_far": far}


def save_calibration(folder: str | os.PathLike, calibration: dict) -> Path:
    path = Path(folder) / CALIBRATION_FILE
    path.write_text(json.dumps(calibration, indent=2) + "\n")
    return path


def load_calibration(folder: str | os.PathLike) -> dict | None:
    """The folder's `calibration.json`, or None if it has none."""
    path = Path(folder) / CALIBRATION_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def verify(a: np.ndarray, b: np.ndarray, calibration: dict) -> np.ndarray:
    """Same person? Pairs `a[i]`, `b[i]` of embeddings `[N, c, p]` (or one pair `[c, p]`) → `bool [N]`,
    True where their distance (in the calibration's metric) is within its threshold."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2:
        a, b = a[None], b[None]
    metric = calibration["metric"]
    distance = np.asarray([pairwise_distance(x[None], y[None], metric)[0, 0] for x, y in zip(a, b, strict=True)])
    return distance <= calibration["threshold"]
