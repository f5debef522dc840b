"""Identity: judge rank-1 of the generated clips against the real gallery as the subject each
claims, beside the judge's rank-1 on real probes; TAR at the judge's calibrated FAR; cosine
similarity to the source clip; and the clip-to-gallery distance histograms."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evaluation.protocols import CASIA_B_GALLERY, CASIA_B_PROBES, CasiaBProtocol
from evaluation.report.clips import EmbeddedClips
from evaluation.report.values import (
    MaybeSection,
    Section,
    calibrated_far,
    condition_group,
    percent,
    summary,
    unit_rows,
)
from recognizers.distance import pairwise_distance

HISTOGRAM_BINS = 60
MAX_REAL_PROBES = 4000  # real non-gallery clips measured against the gallery at most (bounds the cost)


@dataclass
class GalleryDistances:
    """Judge distances (the calibration's metric) of clips to every real gallery clip, computed once.

    Attributes:
        gallery: bool `[N_real]`, the real clips forming the gallery (nm-01…04; every real clip when none).
        gallery_subjects: `[G]` subject of each gallery clip.
        real_rows: indices of the real non-gallery clips measured (at most `MAX_REAL_PROBES`).
        real: `float32 [len(real_rows), G]`.
        generated: `float32 [N_gen, G]`, every generated clip.
    """

    gallery: np.ndarray
    gallery_subjects: np.ndarray
    real_rows: np.ndarray
    real: np.ndarray
    generated: np.ndarray

    @classmethod
    def measure(cls, real: EmbeddedClips, gen: EmbeddedClips, metric: str, rng) -> GalleryDistances:
        gallery = np.isin(real.conditions, CASIA_B_GALLERY)
        if not gallery.any():
            gallery = np.ones(len(real), bool)  # no gallery: every real clip stands in (histograms only)
        rows = np.flatnonzero(~gallery)
        if len(rows) > MAX_REAL_PROBES:
            rows = np.sort(rng.choice(rows, size=MAX_REAL_PROBES, replace=False))
        g_emb = real.embeddings[gallery]
        return cls(
            gallery,
            real.subjects[gallery],
            rows,
            pairwise_distance(real.embeddings[rows], g_emb, metric),
            pairwise_distance(gen.embeddings, g_emb, metric),
        )


@dataclass
class RankRow(Section):
    """Rank-1 (%) of one condition type, generated beside real probes (or the mean over types)."""

    generated_rank1: float | None
    real_rank1: float | None
    ratio: float | None
    generated_probes: int
    real_probes: int
    types: list[str] | None = None  # the mean row only: the condition types it averages

    def fields(self) -> dict:
        out = {"generated_rank1": self.generated_rank1, "real_rank1": self.real_rank1, "ratio": self.ratio}
        if self.types is not None:
            out["types"] = self.types
        return {**out, "generated_probes": self.generated_probes, "real_probes": self.real_probes}


@dataclass
class Verification(Section):
    """TAR at the judge's threshold over (clip, gallery clip of the claimed subject) pairs, beside real probes."""

    threshold: float
    metric: str
    far_percent: float | None
    generated_tar_percent: float
    generated_pairs: int
    real_tar_percent: float | None
    real_far_measured_percent: float | None
    real_pairs: int


@dataclass
class SourceSimilarity(MaybeSection):
    """Cosine similarity of each clip to its source (`mean`, `median`, `count`), beside the similarity
    of each source to the other real clips of its subject; `reason` says why there is none."""

    FLAG = "available"

    reason: str | None = None
    mean: float | None = None
    median: float | None = None
    count: int = 0
    named: int = 0
    real_same_subject_mean: float | None = None


@dataclass
class IdentitySection(Section):
    """Retrieval and verification of the generated clips as the subject they claim; `reason` says why
    identity is undefined (then only the gallery's size and the similarity to the source are given)."""

    gallery_subjects: int
    gallery_clips: int
    similarity_to_source: SourceSimilarity
    reason: str | None = None
    subjects_in_common: int = 0
    clips_scored: int = 0
    clips_not_in_gallery: int = 0
    chance_rank1: float | None = None
    mean: RankRow | None = None
    per_condition: dict[str, RankRow] = field(default_factory=dict)
    per_view: dict[str, dict] = field(default_factory=dict)  # type → {"views", "generated", "real"} rank-1 lists
    verification: Verification | None = None
    real_note: str | None = None

    @property
    def defined(self) -> bool:
        return self.reason is None

    def fields(self) -> dict:
        base = {"gallery_subjects": self.gallery_subjects, "gallery_clips": self.gallery_clips}
        if not self.defined:
            return {"defined": False, "reason": self.reason, **base, "similarity_to_source": self.similarity_to_source}
        return {
            "defined": True,
            **base,
            "subjects_in_common": self.subjects_in_common,
            "clips_scored": self.clips_scored,
            "clips_not_in_gallery": self.clips_not_in_gallery,
            "chance_rank1": self.chance_rank1,
            "mean": self.mean,
            "per_condition": self.per_condition,
            "per_view": self.per_view,
            "verification": self.verification,
            "real_note": self.real_note,
            "similarity_to_source": self.similarity_to_source,
        }


def _mean_row(per_condition: dict[str, RankRow]) -> RankRow:
    """The mean over condition types (over those with a real rank-1 too, so the ratio compares like with like)."""
    rows = [r for r in per_condition.values() if r.generated_rank1 is not None and np.isfinite(r.generated_rank1)]
    paired = [r for r in rows if r.real_rank1 is not None and np.isfinite(r.real_rank1)]
    used = paired or rows
    gen = float(np.mean([r.generated_rank1 for r in used])) if used else None
    ref = float(np.mean([r.real_rank1 for r in paired])) if paired else None
    return RankRow(
        generated_rank1=gen,
        real_rank1=ref,
        ratio=gen / ref if gen is not None and ref else None,
        types=[g for g, r in per_condition.items() if r in used],
        generated_probes=int(sum(r.generated_probes for r in used)),
        real_probes=int(sum(r.real_probes for r in paired)),
    )


def identity_section(
    real: EmbeddedClips,
    gen: EmbeddedClips,
    claimed: np.ndarray,
    metric: str,
    cal: dict,
    dist: GalleryDistances,
    similarity: SourceSimilarity,
) -> IdentitySection:
    """Retrieval and verification of generated clips as the subject they claim (see the module doc)."""
    r_subject, r_condition = real.subjects, real.conditions
    gallery = np.isin(r_condition, CASIA_B_GALLERY)
    gallery_subjects = sorted(set(r_subject[gallery].tolist()))
    common = sorted(set(claimed.tolist()) & set(gallery_subjects))
    base = {"gallery_subjects": len(gallery_subjects), "gallery_clips": int(gallery.sum())}
    if not gallery.any():
        reason = f"the real folder has no gallery clips ({', '.join(CASIA_B_GALLERY)}): nothing to retrieve from"
        return IdentitySection(**base, similarity_to_source=similarity, reason=reason)
    if not common:
        reason = (
            "no generated clip claims a subject of the real gallery (no subject in common, and no source in "
            "common named by a manifest): identity preservation is undefined; for novel people see the "
            "acceptance against real subjects below"
        )
        return IdentitySection(**base, similarity_to_source=similarity, reason=reason)
    probe = np.isin(claimed, common)
    gen_groups = np.asarray([condition_group(c) for c in gen.conditions])
    groups = sorted(set(gen_groups[probe].tolist()))
    # generated clips get condition labels of their own, so they never mix with real ones
    gen_labels = np.asarray([f"gen:{g}" for g in gen_groups])
    both = np.concatenate([real.embeddings[gallery], gen.embeddings[probe]])
    both_labels = {
        "subject": np.concatenate([r_subject[gallery], claimed[probe]]),
        "condition": np.concatenate([r_condition[gallery], gen_labels[probe]]),
        "view": np.concatenate([real.views[gallery], gen.views[probe]]),
    }
    protocol = CasiaBProtocol(probe_conditions={g: (f"gen:{g}",) for g in groups}, metric=metric)
    gen_result = protocol.evaluate(both, both_labels)
    # the judge on real probes of the same subjects and condition types: the ceiling
    real_groups = {g: CASIA_B_PROBES[g] for g in groups if g in CASIA_B_PROBES}
    real_probe = np.isin(r_subject, common) & np.isin(r_condition, [c for cs in real_groups.values() for c in cs])
    real_result = None
    if real_probe.any():
        rows = gallery | real_probe
        labels = {"subject": r_subject[rows], "condition": r_condition[rows], "view": real.views[rows]}
        protocol = CasiaBProtocol(probe_conditions=real_groups, metric=metric)
        real_result = protocol.evaluate(real.embeddings[rows], labels)
    per_condition, per_view = {}, {}
    gen_dict = gen_result.to_dict()
    real_dict = real_result.to_dict() if real_result else {"per_view": {}}
    for g in groups:
        gen_r1 = gen_result.mean[g]
        real_r1 = real_result.mean.get(g) if real_result else None
        per_condition[g] = RankRow(
            generated_rank1=gen_r1,
            real_rank1=real_r1,
            ratio=gen_r1 / real_r1 if real_r1 and np.isfinite(gen_r1) and np.isfinite(real_r1) else None,
            generated_probes=int((probe & (gen_groups == g)).sum()),
            real_probes=int((real_probe & np.isin(r_condition, CASIA_B_PROBES.get(g, ()))).sum()),
        )
        per_view[g] = {
            "views": gen_dict["views"],
            "generated": [gen_dict["per_view"][g].get(v) for v in gen_dict["views"]],
            "real": [real_dict["per_view"].get(g, {}).get(v) for v in gen_dict["views"]],
        }

    # verification at the judge's threshold: every (clip, gallery clip of the claimed subject) pair
    threshold = cal["threshold"]
    d_gen = dist.generated[probe]
    same_gen = claimed[probe][:, None] == dist.gallery_subjects[None, :]
    scored_real = real_probe[dist.real_rows]  # the measured real rows that are probes of these subjects and types
    d_real = dist.real[scored_real]
    same_real = r_subject[dist.real_rows[scored_real]][:, None] == dist.gallery_subjects[None, :]
    verification = Verification(
        threshold=threshold,
        metric=metric,
        far_percent=percent(calibrated_far(cal)),
        generated_tar_percent=100 * float((d_gen[same_gen] <= threshold).mean()),
        generated_pairs=int(same_gen.sum()),
        real_tar_percent=100 * float((d_real[same_real] <= threshold).mean()) if same_real.any() else None,
        real_far_measured_percent=(
            100 * float((d_real[~same_real] <= threshold).mean()) if (~same_real).any() else None
        ),
        real_pairs=int(same_real.sum()),
    )
    return IdentitySection(
        **base,
        similarity_to_source=similarity,
        subjects_in_common=len(common),
        clips_scored=int(probe.sum()),
        clips_not_in_gallery=int((~probe).sum()),
        chance_rank1=100.0 / len(gallery_subjects),
        mean=_mean_row(per_condition),
        per_condition=per_condition,
        per_view=per_view,
        verification=verification,
        real_note=None if real_result else "the real folder has no probe clips of these subjects and types",
    )


def similarity_to_source(
    real: EmbeddedClips, gen: EmbeddedClips, paired, named: int, manifest: str
) -> SourceSimilarity:
    """Cosine similarity (flattened judge embeddings) of each clip to its source, beside the similarity of
    each source to the other real clips of its subject (what "the same person" looks like).

    `paired`: (generated row, real row of its source); `named`: clips naming a source at all;
    `manifest`: the generated folder's manifest path (to say it names none)."""
    if not paired:
        reason = (
            f"{named} clips name a source but none of those is in the real folder"
            if named
            else f"no source is named ({manifest} names none, or is absent)"
        )
        return SourceSimilarity(reason=reason)
    g_unit, r_unit = unit_rows(gen.embeddings), unit_rows(real.embeddings)
    subjects = real.subjects
    to_source = [float(g_unit[i] @ r_unit[j]) for i, j in paired]
    same_subject = []
    for j in sorted({j for _, j in paired}):
        others = np.flatnonzero(subjects == subjects[j])
        others = others[others != j]
        if len(others):
            same_subject.append(float((r_unit[others] @ r_unit[j]).mean()))
    return SourceSimilarity(
        **summary(to_source),
        named=named,
        real_same_subject_mean=float(np.mean(same_subject)) if same_subject else None,
    )


@dataclass
class Histograms(Section):
    """Distance histograms (the calibration's metric) of clip-to-gallery pairs: `counts` per group over
    `edges`, and the share of each group the threshold accepts."""

    metric: str
    threshold: float
    edges: np.ndarray
    counts: dict[str, np.ndarray]
    accepted_percent: dict[str, float]


def histograms(
    real: EmbeddedClips, claimed: np.ndarray, dist: GalleryDistances, metric: str, cal: dict, kind: str
) -> Histograms:
    """Real clips against the gallery (same / other subject), generated clips against the subject they
    claim / against others."""
    real_same = real.subjects[dist.real_rows][:, None] == dist.gallery_subjects[None, :]
    gen_same = claimed[:, None] == dist.gallery_subjects[None, :]
    groups = {
        "real, same subject": dist.real[real_same],
        "real, other subjects": dist.real[~real_same],
        f"{kind}, claimed subject": dist.generated[gen_same],
        f"{kind}, other subjects": dist.generated[~gen_same],
    }
    groups = {name: values for name, values in groups.items() if len(values)}
    top = max([float(np.quantile(v, 0.999)) for v in groups.values()] + [cal["threshold"] * 1.2])
    edges = np.linspace(0.0, top, HISTOGRAM_BINS + 1)
    return Histograms(
        metric=metric,
        threshold=cal["threshold"],
        edges=edges,
        counts={name: np.histogram(np.clip(v, 0, top), edges)[0] for name, v in groups.items()},
        accepted_percent={name: 100 * float((v <= cal["threshold"]).mean()) for name, v in groups.items()},
    )
