"""Figures of a fidelity report, drawn from the report dict's numbers alone (matplotlib, PNG bytes).

Each function takes a section of the dict `evaluation.fidelity_report.fidelity_report` returns
(after a JSON round trip) and gives PNG bytes, or None when the section holds nothing to draw.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # files only: no display, no GUI toolkit
import matplotlib.pyplot as plt  # noqa: E402

COLOURS = {"NM": "#1f77b4", "BG": "#2ca02c", "CL": "#d62728"}
DPI = 100


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def rank1_per_view(identity: dict, kind: str) -> bytes | None:
    """Rank-1 per probe view: generated (solid) beside real probes (dashed), one colour per condition type."""
    if not identity.get("defined"):
        return None
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for group, curves in identity["per_view"].items():
        x = list(range(len(curves["views"])))  # positions: view names are labels, not numbers to scale
        colour = COLOURS.get(group, None)
        gen = [float("nan") if v is None else v for v in curves["generated"]]
        real = [float("nan") if v is None else v for v in curves["real"]]
        # a line through the views that have a value (generated clips may cover only some views)
        shown = [(i, v) for i, v in zip(x, gen) if v == v]
        ax.plot([i for i, _ in shown], [v for _, v in shown], "o-", color=colour, label=f"{group} {kind}")
        shown = [(i, v) for i, v in zip(x, real) if v == v]
        if shown:
            ax.plot([i for i, _ in shown], [v for _, v in shown], "s--", color=colour, alpha=0.6, label=f"{group} real")
        ax.set_xticks(x, curves["views"])
    ax.axhline(identity["chance_rank1"], color="grey", lw=1, ls=":", label="chance")
    ax.set_xlabel("probe view")
    ax.set_ylabel("rank-1 %")
    ax.set_ylim(0, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Judge rank-1 per view against the real gallery (identical views excluded)", fontsize=10)
    return _png(fig)


def distance_histograms(histograms: dict) -> bytes | None:
    """Judge distance of pairs, per group, as densities; the verification threshold drawn."""
    counts = histograms.get("counts") or {}
    if not counts:
        return None
    edges = histograms["edges"]
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    width = edges[1] - edges[0]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    for name, values in counts.items():
        total = sum(values) or 1
        dashed = "other" in name
        ax.step(centres, [v / total / width for v in values], where="mid", ls="--" if dashed else "-", label=name)
    ax.axvline(histograms["threshold"], color="black", lw=1.5, label=f"threshold {histograms['threshold']:.4g}")
    ax.set_xlabel(f"judge distance ({histograms['metric']}); pairs at or left of the threshold verify as one person")
    ax.set_ylabel("density")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Clip-to-gallery distances: same person vs others", fontsize=10)
    return _png(fig)


def frechet_bars(frechet: dict, kind: str) -> bytes | None:
    """Fréchet distance of judge features: generated vs real beside real vs real."""
    if not frechet.get("available"):
        return None
    fig, ax = plt.subplots(figsize=(4.5, 3))
    labels = ["real vs real\n(two halves)", f"{kind} vs real"]
    values = [frechet["real_vs_real"], frechet["generated_vs_real"]]
    bars = ax.bar(labels, values, color=["#888888", "#d62728"])
    ax.bar_label(bars, fmt="%.3g", fontsize=9)
    ax.set_ylabel("Fréchet distance")
    ax.set_title(f"Naturalness (ratio {frechet['ratio']:.2f})", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def covariate_bars(covariates: dict, kind: str) -> bytes | None:
    """Covariate classifier accuracy on the generated clips beside real clips, per attribute."""
    if not covariates.get("available"):
        return None
    names = ["view_within_tolerance", "clothing", "carrying"]
    shown = [n for n in names if covariates["generated"].get(n) is not None]
    if not shown:
        return None
    fig, ax = plt.subplots(figsize=(5, 3))
    x = range(len(shown))
    real = [covariates["real"].get(n) or 0 for n in shown]
    gen = [covariates["generated"][n] for n in shown]
    ax.bar([i - 0.2 for i in x], real, 0.4, label="real", color="#888888")
    ax.bar([i + 0.2 for i in x], gen, 0.4, label=kind, color="#1f77b4")
    ax.set_xticks(list(x), [n.replace("_", " ").replace("within tolerance", "±18°") for n in shown])
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy %")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title("Covariate fidelity (what the names request)", fontsize=10)
    return _png(fig)
