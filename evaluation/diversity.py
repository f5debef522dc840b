"""Diversity: how different the clips of one identity are from each other, in the judge's space.

A generator that collapses (every clip of a person the same walk, whatever the view or clothing
asked for) shows a small within-identity spread; one that ignores identity shows a large one.
The figure is the generated spread beside the same spread among real clips.
"""

from __future__ import annotations

import numpy as np

from recognizers.distance import pairwise_distance


def within_identity_distance(
    embeddings: np.ndarray, identities: np.ndarray, metric: str = "euc", max_clips: int = 100, seed: int = 0
) -> dict:
    """Mean pairwise judge distance among the clips of each identity, averaged over identities.

    Args:
        embeddings: judge embeddings `float [N, c, p]`.
        identities: `[N]` identity names; identities with fewer than two clips are left out.
        metric: "euc" or "cos" (see `recognizers.distance.pairwise_distance`).
        max_clips: at most this many clips per identity (a random subset; bounds the cost).

    Returns:
        `{"mean", "std", "identities", "clips"}` (`mean` / `std` over identities; None when no
        identity has two clips).
    """
    rng = np.random.default_rng(seed)
    identities = np.asarray(identities).astype(str)
    spreads, clips = [], 0
    for name in sorted(set(identities.tolist())):
        rows = np.flatnonzero(identities == name)
        if len(rows) < 2:
            continue
        if len(rows) > max_clips:
            rows = rng.choice(rows, size=max_clips, replace=False)
        dist = pairwise_distance(embeddings[rows], embeddings[rows], metric)
        upper = np.triu_indices(len(rows), k=1)
        spreads.append(float(dist[upper].mean()))
        clips += len(rows)
    if not spreads:
        return {"mean": None, "std": None, "identities": 0, "clips": 0}
    return {"mean": float(np.mean(spreads)), "std": float(np.std(spreads)), "identities": len(spreads), "clips": clips}


def diversity_report(
    generated: np.ndarray,
    generated_ids: np.ndarray,
    real: np.ndarray,
    real_ids: np.ndarray,
    metric: str = "euc",
    compared: str = "",
) -> dict:
    """Within-identity spread of generated clips beside real ones, and their ratio (1 = as varied as real).

    `compared` says which real clips were used (shown in the report).
    """
    gen = within_identity_distance(generated, generated_ids, metric)
    ref = within_identity_distance(real, real_ids, metric)
    ratio = gen["mean"] / ref["mean"] if gen["mean"] is not None and ref["mean"] else None
    return {"metric": metric, "generated": gen, "real": ref, "ratio": ratio, "compared": compared}
