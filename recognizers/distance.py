"""Distances between part embeddings, as OpenGait computes them at test time."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

METRICS = ("euc", "cos")


@torch.autocast("cpu", enabled=False)  # thresholds are calibrated in float32: never bf16 distances
def pairwise_distance(a: np.ndarray, b: np.ndarray, metric: str = "euc", chunk: int = 2048) -> np.ndarray:
    """Distance of every row of `a` to every row of `b`.

    Args:
        a: `float [N, c, p]` part embeddings (or `[N, d]`, treated as one part).
        b: `float [M, c, p]`.
        metric: "euc" — Euclidean distance per part, averaged over parts (OpenGait's default);
            "cos" — 1 − cosine similarity per part, averaged over parts.
        chunk: rows of `a` handled at once (bounds memory on large galleries).

    Returns:
        `float32 [N, M]`, smaller = more alike.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    x = torch.as_tensor(np.asarray(a), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(b), dtype=torch.float32)
    if x.ndim == 2:
        x, y = x[:, :, None], y[:, :, None]
    if x.shape[1:] != y.shape[1:]:
        raise ValueError(f"embeddings of shapes {tuple(x.shape[1:])} and {tuple(y.shape[1:])} cannot be compared")
    y = y.permute(2, 0, 1)  # [p, M, c]
    if metric == "cos":
        y = F.normalize(y, dim=-1)
    out = []
    for start in range(0, len(x), chunk):
        xi = x[start : start + chunk].permute(2, 0, 1)  # [p, n, c]
        if metric == "euc":
            d = torch.cdist(xi, y)  # [p, n, M]
        else:
            d = 1 - F.normalize(xi, dim=-1).bmm(y.transpose(1, 2))  # [p, n, M]
        out.append(d.mean(0))  # [n, M]
    return torch.cat(out).numpy() if out else np.zeros((0, len(b)), np.float32)
