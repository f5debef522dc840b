"""Evaluation protocols: a function of (embeddings, labels, protocol) — no model in sight.

`labels` is a mapping `{"subject", "condition", "view"}` → string arrays `[N]` matching the rows of
`embeddings float [N, c, p]` (what `studio embed` writes, and `ClipStore.labels` gives).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from evaluation.retrieval import rank_k_accuracy, ranked_hits, ranked_map_minp, ranked_rank_k
from gaitdata.casia_b import GALLERY as CASIA_B_GALLERY
from gaitdata.casia_b import PROBES as CASIA_B_PROBES
from recognizers.distance import pairwise_distance


def _check(embeddings: np.ndarray, labels: Mapping) -> dict[str, np.ndarray]:
    out = {}
    for key in ("subject", "condition", "view"):
        if key not in labels:
            raise ValueError(f"labels need a {key!r} array")
        out[key] = np.asarray(labels[key]).astype(str)
        if len(out[key]) != len(embeddings):
            raise ValueError(f"labels[{key!r}] has {len(out[key])} entries for {len(embeddings)} embeddings")
    return out


@dataclass
class CasiaBResult:
    """Rank-1 of the CASIA-B protocol.

    Attributes:
        views: the views, sorted; rows (probe view) and columns (gallery view) of `accuracy`.
        accuracy: condition → `float [V, V]` rank-1 in % per probe view × gallery view (NaN where
            excluded — identical views — or where either side is empty).
        per_view: condition → `float [V]`, each probe view averaged over gallery views.
        mean: condition → the average over probe views.
        exclude_identical_view: whether the diagonal was left out.
    """

    views: list[str]
    accuracy: dict[str, np.ndarray]
    exclude_identical_view: bool = True
    per_view: dict[str, np.ndarray] = field(init=False)
    mean: dict[str, float] = field(init=False)

    def __post_init__(self):
        with np.errstate(all="ignore"), _quiet_nan_mean():
            self.per_view = {c: np.nanmean(a, axis=1) for c, a in self.accuracy.items()}
            self.mean = {c: float(np.nanmean(v)) for c, v in self.per_view.items()}

    def to_dict(self) -> dict:
        def clean(values):
            return [None if np.isnan(v) else round(float(v), 3) for v in values]

        return {
            "protocol": "casia-b",
            "exclude_identical_view": self.exclude_identical_view,
            "views": self.views,
            "mean": {c: (None if np.isnan(v) else round(v, 3)) for c, v in self.mean.items()},
            "per_view": {c: dict(zip(self.views, clean(v), strict=True)) for c, v in self.per_view.items()},
            "accuracy": {c: [clean(row) for row in a] for c, a in self.accuracy.items()},
        }

    def format_table(self) -> str:
        """Per-probe-view rank-1 (averaged over gallery views) per condition, and the mean."""
        head = f"{'rank-1 %':<9}" + "".join(f"{v:>7}" for v in self.views) + f"{'mean':>8}"
        lines = [head, "-" * len(head)]
        for c, values in self.per_view.items():
            lines.append(f"{c:<9}" + "".join(f"{v:7.1f}" for v in values) + f"{self.mean[c]:8.2f}")
        note = "identical views excluded" if self.exclude_identical_view else "identical views included"
        return "\n".join(lines + [f"(gallery nm-01..04; {note})"])


class _quiet_nan_mean:
    """Silence numpy's 'mean of empty slice' for all-NaN rows (an absent view is reported as NaN)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


@dataclass
class CasiaBProtocol:
    """CASIA-B's cross-view protocol (as OpenGait evaluates it).

    The gallery holds `gallery_conditions`; each probe set is matched view by view: for every
    probe view × gallery view, each probe is compared only with the gallery entries of that view,
    and rank-1 is the share whose nearest entry is the same subject. Identical views are excluded
    from the averages when `exclude_identical_view`.

    Args:
        gallery_conditions: condition names forming the gallery.
        probe_conditions: probe-set name → condition names.
        exclude_identical_view: leave probe view == gallery view out (the usual report).
        metric: "euc" (Euclidean per part, averaged) or "cos".
    """

    gallery_conditions: tuple[str, ...] = CASIA_B_GALLERY
    probe_conditions: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(CASIA_B_PROBES))
    exclude_identical_view: bool = True
    metric: str = "euc"

    def evaluate(self, embeddings: np.ndarray, labels: Mapping) -> CasiaBResult:
        """`embeddings float [N, c, p]`, `labels` (subject, condition, view arrays) → `CasiaBResult`."""
        labels = _check(embeddings, labels)
        subject, condition, view = labels["subject"], labels["condition"], labels["view"]
        views = sorted(set(view.tolist()))
        gallery = np.isin(condition, self.gallery_conditions)
        accuracy = {}
        for name, conditions in self.probe_conditions.items():
            probe = np.isin(condition, conditions)
            table = np.full((len(views), len(views)), np.nan)
            if probe.any() and gallery.any():
                dist = pairwise_distance(embeddings[probe], embeddings[gallery], self.metric)  # [P, G]
                p_view, g_view = view[probe], view[gallery]
                p_subject, g_subject = subject[probe], subject[gallery]
                for i, pv in enumerate(views):
                    rows = p_view == pv
                    for j, gv in enumerate(views):
                        cols = g_view == gv
                        if (self.exclude_identical_view and pv == gv) or not rows.any() or not cols.any():
                            continue
                        d = dist[np.ix_(rows, cols)]
                        table[i, j] = rank_k_accuracy(d, p_subject[rows], g_subject[cols], ks=(1,))[1]
            accuracy[name] = table
        return CasiaBResult(views, accuracy, self.exclude_identical_view)


@dataclass
class ReIDResult:
    """Rank-1, rank-5, mAP and mINP in %, over `num_probes` probes against `num_gallery` entries."""

    rank1: float
    rank5: float
    mAP: float
    mINP: float
    num_probes: int
    num_gallery: int

    def to_dict(self) -> dict:
        return {"protocol": "reid", **{k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}}

    def format_table(self) -> str:
        return (
            f"rank-1 {self.rank1:.2f}  rank-5 {self.rank5:.2f}  mAP {self.mAP:.2f}  mINP {self.mINP:.2f}"
            f"  ({self.num_probes} probes, {self.num_gallery} gallery)"
        )


@dataclass
class ReIDProtocol:
    """Person re-identification style retrieval, for in-the-wild datasets (GREW, Gait3D style).

    With `probe_conditions` / `gallery_conditions` unset, every sequence queries all others
    (leave-one-out); otherwise the named conditions form each side. A sequence never matches itself.

    Args:
        probe_conditions, gallery_conditions: condition names of each side (None = all sequences).
        exclude_same_view: drop gallery entries of the probe's own subject *and* view (cross-camera
            retrieval, as in Market-1501-style evaluation).
        metric: "euc" or "cos".
    """

    probe_conditions: tuple[str, ...] | None = None
    gallery_conditions: tuple[str, ...] | None = None
    exclude_same_view: bool = False
    metric: str = "euc"

    def evaluate(self, embeddings: np.ndarray, labels: Mapping) -> ReIDResult:
        """`embeddings float [N, c, p]`, `labels` → `ReIDResult`."""
        labels = _check(embeddings, labels)
        subject, condition, view = labels["subject"], labels["condition"], labels["view"]

        def rows(conditions):
            return np.arange(len(subject)) if conditions is None else np.flatnonzero(np.isin(condition, conditions))

        probe, gallery = rows(self.probe_conditions), rows(self.gallery_conditions)
        dist = pairwise_distance(embeddings[probe], embeddings[gallery], self.metric).astype(np.float64)  # [P, G]
        dist[probe[:, None] == gallery[None, :]] = np.inf  # never match yourself
        if self.exclude_same_view:
            same_subject = subject[probe][:, None] == subject[gallery][None, :]
            dist[same_subject & (view[probe][:, None] == view[gallery][None, :])] = np.inf
        # excluded entries sort last and must not count as matches there either
        g_ids = np.broadcast_to(subject[gallery], dist.shape).astype(object)
        g_ids[np.isinf(dist)] = None
        hits = ranked_hits(dist, subject[probe], g_ids)
        ranks = ranked_rank_k(hits, ks=(1, 5))
        mean_ap, minp = ranked_map_minp(hits)
        return ReIDResult(ranks[1], ranks[5], mean_ap, minp, len(probe), len(gallery))


def evaluate_embeddings(embeddings: np.ndarray, labels: Mapping, protocol: CasiaBProtocol | ReIDProtocol):
    """Evaluate `embeddings [N, c, p]` with `labels` under `protocol`; returns its result object."""
    return protocol.evaluate(np.asarray(embeddings, dtype=np.float32), labels)


def get_protocol(name: str, metric: str = "euc") -> CasiaBProtocol | ReIDProtocol:
    """A protocol by name: "casia-b" or "reid"."""
    if name == "casia-b":
        return CasiaBProtocol(metric=metric)
    if name == "reid":
        return ReIDProtocol(metric=metric)
    raise ValueError(f"protocol must be 'casia-b' or 'reid', got {name!r}")
