"""Retrieval metrics over a probe × gallery distance matrix: rank-k, mAP, mINP.

The `*_accuracy` / `*_stats` functions take `dist float [P, G]` (smaller = more alike) and the
identities of the probes `[P]` and of the gallery `[G]`; the `ranked_*` functions take the
same problem already sorted: `hits bool [P, G]`, True where the probe's j-th nearest gallery
entry is a true match. All return percentages.
"""

from __future__ import annotations

import numpy as np


def ranked_hits(dist: np.ndarray, probe_ids: np.ndarray, gallery_ids: np.ndarray) -> np.ndarray:
    """`bool [P, G]`: is the j-th nearest gallery entry of probe i the same identity?

    `gallery_ids` is `[G]`, or `[P, G]` when each probe sees its own labelling (exclusions).
    """
    dist, probe_ids, gallery_ids = np.asarray(dist), np.asarray(probe_ids), np.asarray(gallery_ids)
    order = np.argsort(dist, axis=1, kind="stable")  # [P, G]
    sorted_ids = gallery_ids[order] if gallery_ids.ndim == 1 else np.take_along_axis(gallery_ids, order, axis=1)
    return sorted_ids == probe_ids[:, None]


def ranked_rank_k(hits: np.ndarray, ks=(1, 5)) -> dict[int, float]:
    """Share of probes with a true match among their first `k`, in % (NaN without probes)."""
    if hits.shape[0] == 0 or hits.shape[1] == 0:
        return {k: float("nan") for k in ks}
    return {k: float(100 * hits[:, :k].any(axis=1).mean()) for k in ks}


def ranked_map_minp(hits: np.ndarray) -> tuple[float, float]:
    """(mAP, mINP) in %, over the probes with at least one true match.

    AP of a probe: the mean of the precision at each true match's rank. INP (Ye et al. 2021):
    true matches / rank of the hardest (last) true match — how far one must look to find them all.
    """
    hits = hits[hits.any(axis=1)] if hits.size else hits
    if hits.shape[0] == 0:
        return float("nan"), float("nan")
    ranks = np.arange(1, hits.shape[1] + 1)
    ap = ((hits.cumsum(axis=1) / ranks) * hits).sum(axis=1) / hits.sum(axis=1)
    last = hits.shape[1] - np.argmax(hits[:, ::-1], axis=1)  # 1-based rank of the last true match
    inp = hits.sum(axis=1) / last
    return float(100 * ap.mean()), float(100 * inp.mean())


def rank_k_accuracy(dist: np.ndarray, probe_ids: np.ndarray, gallery_ids: np.ndarray, ks=(1, 5)) -> dict[int, float]:
    """Share of probes whose identity is among the `k` nearest gallery entries, `{k: percent}`.

    A probe whose identity is absent from the gallery counts as a miss.
    """
    return ranked_rank_k(ranked_hits(dist, probe_ids, gallery_ids), ks)


def average_precision_stats(dist: np.ndarray, probe_ids: np.ndarray, gallery_ids: np.ndarray) -> tuple[float, float]:
    """(mAP, mINP) in % over the probes with at least one true match (see `ranked_map_minp`)."""
    return ranked_map_minp(ranked_hits(dist, probe_ids, gallery_ids))
