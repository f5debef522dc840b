"""How much a silhouette dataset looks like real people: GEIs against CASIA-B aggregates.

The reference is `casia_b_gei_stats.npz` (`../shared/data/real-gei/`, README there): population
statistics of real CASIA-B Gait Energy Images (GEIs) — the mean GEI per type × view of the 74
training subjects, a PCA basis of their GEIs, and the Gaussian of the 50 test subjects' GEIs
projected on it (overall and per view). No real sequence is needed or held.

A dataset is measured three ways:

- **GEI Fréchet distance**: the Gaussian of its GEIs projected on the basis against the real
  Gaussian, overall and per view (real vs real, two disjoint groups of people: 1.93);
- **mean-GEI L1 per pixel** per type × view against the real mean GEIs (real vs real: 0.011);
- **silhouette statistics** of its clips (`evaluation.fidelity.clip_statistics`) per view, beside
  what CASIA-B is known to measure.

    reference = load_reference("../shared/data/real-gei/casia_b_gei_stats.npz")
    result = measure_realism("data/walkers", reference)      # partition.json: TEST / TRAIN sets
    json_path, png_path = write_realism_report(result, reference, "reports/realism")

The reference file and the GEI math live in `evaluation.gei_reference` (re-exported here).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation.fidelity import STAT_NAMES, clip_statistics
from evaluation.gei_reference import (  # the reference and the GEI math; re-exported, as they were defined here
    GEI_PIXELS,
    GEI_SHAPE,
    MAX_REFERENCE_BYTES,
    MIN_FRAMES,
    NUMERIC_KEYS,
    REAL_VS_REAL,
    VIEW_GROUPS,
    RealGeiReference,
    condition_type,
    frechet_to_reference,
    gait_energy_image,
    gaussian_frechet,
    load_reference,
    mean_gei_l1,
)
from gaitdata import Partition, ReadReport, iter_opengait, read_partition
from gaitdata.atomic import atomic_open, atomic_write_text
from gaitdata.sequence import crop_to_model_input
from gaitdata.walkers.realism import CASIA_B_REFERENCE

REPORT_JSON = "realism_report.json"
REPORT_PNG = "realism_mean_gei.png"


# ---------------------------------------------------------------------------------------------
# A dataset against the reference
# ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class RealismResult:
    """What `measure_realism` found. `to_dict()` is the JSON report (without the image arrays).

    Attributes:
        data, reference: the dataset root and the reference file.
        protocol: which subjects fed which figure, and why (partition sets or all).
        sequences: sequences read; too_short: left out (< `min_frames`); unreadable: (path, problem).
        gei_frechet: overall GEI Fréchet distance of every GEI of the Fréchet subjects, whatever its
            view (None with fewer than 2 GEIs); frechet_sequences: GEIs in it.
        frechet_per_view: view → {"distance" (None when < 2 GEIs or no reference), "sequences",
            "reliable" (more GEIs than basis dimensions, so the covariance has full rank)}.
        mean_gei_l1: `mean_gei_l1`'s dict.
        silhouette: per view and overall mean `clip_statistics`, beside CASIA-B's figures.
        mean_geis: `float32 [types, views, 64, 44]` the dataset's mean GEIs (NaN where absent); mean_gei_counts.
    """

    data: str
    reference: str
    protocol: dict
    sequences: int
    too_short: int
    unreadable: list[tuple[str, str]]
    gei_frechet: float | None
    frechet_sequences: int
    frechet_per_view: dict[str, dict]
    mean_gei_l1: dict
    silhouette: dict
    mean_geis: np.ndarray = field(repr=False)
    mean_gei_counts: np.ndarray = field(repr=False)

    def to_dict(self) -> dict:
        return {
            "data": self.data,
            "reference": self.reference,
            "protocol": self.protocol,
            "sequences": self.sequences,
            "too_short": self.too_short,
            "unreadable": [{"path": p, "problem": m} for p, m in self.unreadable],
            "gei_frechet": self.gei_frechet,
            "frechet_sequences": self.frechet_sequences,
            "frechet_per_view": self.frechet_per_view,
            "mean_gei_l1": self.mean_gei_l1,
            "mean_gei_counts": self.mean_gei_counts.tolist(),
            "silhouette": self.silhouette,
            "real_vs_real": dict(REAL_VS_REAL),
        }

    def summary(self) -> str:
        """One line: the headline figures."""
        fr = "n/a" if self.gei_frechet is None else f"{self.gei_frechet:.1f}"
        l1 = self.mean_gei_l1
        l1_text = "n/a" if l1["mean"] is None else f"{l1['mean']:.3f} ({l1['min']:.3f}–{l1['max']:.3f})"
        return (
            f"GEI Fréchet {fr} over {self.frechet_sequences} sequences (real vs real {REAL_VS_REAL['gei_frechet']}); "
            f"mean-GEI L1 per pixel {l1_text} over {l1['present']} type×view cells "
            f"(real vs real {REAL_VS_REAL['mean_gei_l1']})"
        )


def _subject_set(spec, partition: Partition | None, role: str) -> tuple[list[str] | None, str]:
    """`spec` ("test", "train", "all", None or a list of ids) → (subjects or None for all, a description)."""
    if spec is None:
        spec = ("test" if role == "frechet" else "train") if partition is not None else "all"
    if isinstance(spec, str):
        if spec == "all":
            return None, "all subjects"
        if spec not in ("test", "train"):
            raise ValueError(f"{role} subjects: {spec!r} is not one of test, train, all or a list of subject ids")
        if partition is None:
            raise ValueError(f"{role} subjects: '{spec}' needs a partition JSON (none given, none in the dataset)")
        subjects = partition.test if spec == "test" else partition.train
        return list(subjects), f"{'TEST_SET' if spec == 'test' else 'TRAIN_SET'} ({len(subjects)} subjects)"
    subjects = [str(s) for s in spec]
    if not subjects:
        raise ValueError(f"{role} subjects: the list is empty")
    return subjects, f"{len(subjects)} listed subjects"


def _mean_statistics(stats: list[dict]) -> dict:
    return {"sequences": len(stats), **{k: round(float(np.mean([s[k] for s in stats])), 4) for k in STAT_NAMES}}


def silhouette_table(stats_per_cell: dict[tuple[str, str], list[dict]], reference: RealGeiReference) -> dict:
    """Mean `clip_statistics` overall, per view and per view × type, beside what is known of CASIA-B.

    Args:
        stats_per_cell: (view, type) → the `clip_statistics` dicts of its clips.

    Returns:
        {"overall": stats, "per_view": {view: {**stats, "by_type": {type: {**stats,
        "real_foreground"}}, "casia_b": {statistic: [low, high]}}}}; every stats dict holds
        "sequences" and the means of `evaluation.fidelity.STAT_NAMES`. "real_foreground" is the
        real mean GEI's mean (exactly the mean foreground fraction of those real clips);
        "casia_b" holds CASIA-B's measured ranges where the view has them.
    """
    table = {"overall": None, "per_view": {}}
    everything = [s for stats in stats_per_cell.values() for s in stats]
    if not everything:
        return table
    table["overall"] = _mean_statistics(everything)
    for view in sorted({v for v, _ in stats_per_cell}):
        cells = {t: stats for (v, t), stats in sorted(stats_per_cell.items()) if v == view}
        row = _mean_statistics([s for stats in cells.values() for s in stats])
        row["by_type"] = {}
        for t, stats in cells.items():
            row["by_type"][t] = _mean_statistics(stats)
            if view in reference.views and t in reference.types:
                i, j = reference.types.index(t), reference.views.index(view)
                if reference.mean_gei_counts[i, j] > 0:
                    row["by_type"][t]["real_foreground"] = round(float(reference.mean_gei[i, j].mean()), 4)
        group = VIEW_GROUPS.get(view)
        if group is not None:
            row["casia_b"] = {k: list(r) for k, r in CASIA_B_REFERENCE[group].items() if k in STAT_NAMES}
        table["per_view"][view] = row
    return table


def measure_realism(
    data: str | os.PathLike,
    reference: RealGeiReference,
    partition: str | os.PathLike | Partition | None = None,
    frechet_subjects: str | Iterable[str] | None = None,
    mean_gei_subjects: str | Iterable[str] | None = None,
    min_frames: int = MIN_FRAMES,
    progress: Callable[[int], None] | None = None,
) -> RealismResult:
    """Measure an OpenGait-layout dataset's GEIs against the real reference.

    The default is the reference statistics' own protocol: with a partition (`partition`, or
    `DATA/partition.json` when present) the Fréchet distances use its TEST_SET (like the real
    Gaussian: CASIA-B's 50 test subjects) and the mean GEIs its TRAIN_SET (like `mean_gei`:
    the 74 training subjects); without one, every subject feeds both.

    Args:
        data: dataset root (OpenGait layout); unreadable sequences are skipped and listed.
        reference: `load_reference`'s statistics.
        partition: partition JSON path or `Partition`; None looks for `DATA/partition.json`.
        frechet_subjects, mean_gei_subjects: "test", "train", "all" or a list of subject ids.
        min_frames: sequences with fewer frames give no GEI (the reference uses 5).
        progress: called with the number of sequences read so far, every 500 sequences.

    Returns:
        `RealismResult`.

    Raises:
        GaitDataError: the dataset folder or the partition file cannot be read.
        ValueError: a subject choice needs a partition there is not, or no sequence qualifies.
    """
    if isinstance(min_frames, bool) or not isinstance(min_frames, int) or min_frames < 1:
        raise ValueError(f"min_frames must be a positive integer, got {min_frames!r}")
    root = Path(data)
    if partition is None and (root / "partition.json").is_file():
        partition = root / "partition.json"
    partition_path = None
    if partition is not None and not isinstance(partition, Partition):
        partition_path = str(partition)
        partition = read_partition(partition)
    frechet_set, frechet_text = _subject_set(frechet_subjects, partition, "frechet")
    mean_set, mean_text = _subject_set(mean_gei_subjects, partition, "mean-GEI")
    wanted = None if frechet_set is None or mean_set is None else sorted(set(frechet_set) | set(mean_set))
    frechet_keep = None if frechet_set is None else set(frechet_set)
    mean_keep = None if mean_set is None else set(mean_set)

    type_index = {t: i for i, t in enumerate(reference.types)}
    view_index = {v: j for j, v in enumerate(reference.views)}
    sums = np.zeros((len(reference.types), len(reference.views), GEI_PIXELS), np.float64)
    counts = np.zeros((len(reference.types), len(reference.views)), np.int64)
    projected, projected_views = [], []
    stats_per_cell: dict[tuple[str, str], list[dict]] = {}  # (view, type) → clip_statistics
    too_short = 0
    report = ReadReport()
    for n, seq in enumerate(iter_opengait(root, report=report, subjects=wanted), 1):
        if progress is not None and n % 500 == 0:
            progress(n)
        if seq.num_frames < min_frames:
            too_short += 1
            continue
        crop = crop_to_model_input(seq.frames)  # [T, 64, 44]
        gei = gait_energy_image(crop)
        stats_per_cell.setdefault((seq.view, condition_type(seq.condition)), []).append(clip_statistics(crop))
        if frechet_keep is None or seq.subject in frechet_keep:
            projected.append(reference.project(gei[None])[0])
            projected_views.append(seq.view)
        t, v = type_index.get(condition_type(seq.condition)), view_index.get(seq.view)
        if (mean_keep is None or seq.subject in mean_keep) and t is not None and v is not None:
            sums[t, v] += gei.ravel()
            counts[t, v] += 1
    if not projected and not counts.any():
        raise ValueError(
            f"{root}: no sequence of ≥ {min_frames} frames among the chosen subjects "
            f"({report.loaded} read, {too_short} too short)"
        )

    z = np.asarray(projected, np.float64).reshape(-1, reference.dims)
    views_of_z = np.asarray(projected_views, dtype=str)
    overall = frechet_to_reference(z, reference) if len(z) >= 2 else None
    per_view = {}
    for view in sorted(set(views_of_z.tolist()) | set(reference.views)):
        zv = z[views_of_z == view]
        entry = {"sequences": int(len(zv)), "reliable": bool(len(zv) > reference.dims)}
        if view not in reference.view_mean:
            entry.update(distance=None, note="no real statistics for this view")
        elif len(zv) < 2:
            entry.update(distance=None, note="no GEI of this view" if len(zv) == 0 else "fewer than 2 GEIs")
        else:
            entry["distance"] = round(frechet_to_reference(zv, reference, view), 3)
        per_view[view] = entry

    with np.errstate(invalid="ignore"):
        mean_geis = (sums / counts[..., None]).reshape(*counts.shape, *GEI_SHAPE).astype(np.float32)
    l1 = mean_gei_l1(mean_geis, counts, reference)

    protocol = {
        "partition": partition_path if partition_path else ("given" if partition is not None else None),
        "frechet_subjects": frechet_text,
        "mean_gei_subjects": mean_text,
        "min_frames": min_frames,
        "silhouette_subjects": "every sequence read (both subject sets)",
    }
    return RealismResult(
        data=str(root),
        reference=reference.path,
        protocol=protocol,
        sequences=report.loaded,
        too_short=too_short,
        unreadable=list(report.skipped),
        gei_frechet=None if overall is None else round(overall, 3),
        frechet_sequences=int(len(z)),
        frechet_per_view=per_view,
        mean_gei_l1=l1,
        silhouette=silhouette_table(stats_per_cell, reference),
        mean_geis=mean_geis,
        mean_gei_counts=counts,
    )


# ---------------------------------------------------------------------------------------------
# The report: JSON + the mean-GEI figure
# ---------------------------------------------------------------------------------------------


def mean_gei_figure(result: RealismResult, reference: RealGeiReference, label: str | None = None) -> bytes:
    """PNG bytes: per type three rows — real mean GEIs, the dataset's, and their difference — by view.

    Difference = dataset − real, red where the dataset has more body, blue where it has less;
    an absent cell is left blank with "absent".
    """
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    label = label or Path(result.data).name or "dataset"
    rows = [(t, kind) for t in reference.types for kind in ("real", "data", "diff")]
    n_views = len(reference.views)
    size = (0.95 * n_views + 0.8, 1.32 * len(rows))
    fig, axes = plt.subplots(len(rows), n_views, figsize=size, squeeze=False, gridspec_kw={"hspace": 0.25, "top": 0.95})
    for r, (t, kind) in enumerate(rows):
        i = reference.types.index(t)
        for j, view in enumerate(reference.views):
            ax = axes[r, j]
            ax.set_xticks([])
            ax.set_yticks([])
            real_ok = reference.mean_gei_counts[i, j] > 0
            data_ok = result.mean_gei_counts[i, j] > 0
            if kind == "real" and real_ok:
                ax.imshow(reference.mean_gei[i, j], cmap="gray", vmin=0, vmax=1)
            elif kind == "data" and data_ok:
                ax.imshow(result.mean_geis[i, j], cmap="gray", vmin=0, vmax=1)
            elif kind == "diff" and real_ok and data_ok:
                ax.imshow(result.mean_geis[i, j] - reference.mean_gei[i, j], cmap="RdBu_r", vmin=-0.6, vmax=0.6)
                value = result.mean_gei_l1["cells"][t][view]
                ax.set_xlabel(f"L1 {value:.3f}", fontsize=7, labelpad=1)
            else:
                ax.text(0.5, 0.5, "absent", ha="center", va="center", fontsize=7, color="grey", transform=ax.transAxes)
            if r == 0:
                ax.set_title(view, fontsize=9)
            if j == 0:
                name = {"real": "CASIA-B", "data": label, "diff": f"{label} − real"}[kind]
                ax.set_ylabel(f"{t}\n{name}", fontsize=7)
    fr = "n/a" if result.gei_frechet is None else f"{result.gei_frechet:.1f}"
    l1 = "n/a" if result.mean_gei_l1["mean"] is None else f"{result.mean_gei_l1['mean']:.3f}"
    fig.suptitle(
        f"Mean GEIs, real CASIA-B vs {label} (GEI Fréchet {fr}; mean-GEI L1 {l1})",
        fontsize=10,
        y=0.99,
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def write_realism_report(
    result: RealismResult, reference: RealGeiReference, out: str | os.PathLike
) -> tuple[Path, Path]:
    """Write `realism_report.json` and `realism_mean_gei.png` into `out` (atomically); returns both paths."""
    out = Path(out)
    json_path, png_path = out / REPORT_JSON, out / REPORT_PNG
    png = mean_gei_figure(result, reference)
    with atomic_open(png_path, "wb") as f:
        f.write(png)
    atomic_write_text(json_path, json.dumps(result.to_dict(), indent=1) + "\n")
    return json_path, png_path


__all__ = [
    "GEI_PIXELS",
    "GEI_SHAPE",
    "MAX_REFERENCE_BYTES",
    "MIN_FRAMES",
    "NUMERIC_KEYS",
    "REAL_VS_REAL",
    "REPORT_JSON",
    "REPORT_PNG",
    "VIEW_GROUPS",
    "RealGeiReference",
    "RealismResult",
    "condition_type",
    "frechet_to_reference",
    "gait_energy_image",
    "gaussian_frechet",
    "load_reference",
    "mean_gei_figure",
    "mean_gei_l1",
    "measure_realism",
    "silhouette_table",
    "write_realism_report",
]
