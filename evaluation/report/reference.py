"""The generated set beside the real clips of the same condition types and views: naturalness
(Fréchet distance of judge features, silhouette statistics), covariate fidelity (the covariate
classifier's accuracy on what the clips' names request) and diversity (within-identity spread)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from evaluation.covariates import covariate_accuracy
from evaluation.diversity import diversity_report
from evaluation.fidelity import frechet_report, statistics_summary
from evaluation.report.clips import EmbeddedClips
from evaluation.report.values import MaybeSection, Section, condition_group

COVARIATES_REQUESTED = "each clip's condition name (clothing, carrying) and view name"


def real_reference(real: EmbeddedClips, gen: EmbeddedClips) -> tuple[np.ndarray, str]:
    """bool `[N_real]`: the real clips to compare the generated ones with — those of the same condition
    types and views (a coat changes a silhouette more than a generator might); every real clip when
    fewer than 4 match."""
    types = {condition_group(c) for c in gen.conditions}
    views = set(gen.views.tolist())
    keep = np.isin([condition_group(c) for c in real.conditions], list(types)) & np.isin(real.views, list(views))
    if keep.sum() >= 4:
        return keep, "the real clips of the generated clips' condition types and views"
    return np.ones(len(real), bool), "every real clip read (fewer than 4 share the generated clips' types and views)"


@dataclass
class NaturalnessSection(Section):
    """Fréchet distance of judge features (`frechet`: `evaluation.fidelity.frechet_report` with
    `"available"`, or the reason it is not) and silhouette statistics, generated vs the real reference."""

    real_reference: str
    real_reference_clips: int
    frechet: dict
    statistics: dict
    statistics_window: str


def naturalness_section(
    real: EmbeddedClips, gen: EmbeddedClips, reference: np.ndarray, reference_text: str, max_frames, rng, seed: int
) -> NaturalnessSection:
    """The real side is subsampled to two halves the size of the generated set: the Fréchet estimate
    depends on the sample size, and both distances must be measured at the same one."""
    rows = np.flatnonzero(reference)
    picked = rng.choice(rows, size=min(len(rows), 2 * len(gen)), replace=False)
    try:
        frechet = {"available": True, **frechet_report(real.embeddings[picked], gen.embeddings, seed=seed)}
    except ValueError as err:
        frechet = {"available": False, "reason": str(err)}
    return NaturalnessSection(
        real_reference=reference_text,
        real_reference_clips=len(rows),
        frechet=frechet,
        statistics=statistics_summary([real.stats[i] for i in rows], gen.stats),
        statistics_window=f"the same centred window of at most {max_frames} frames that is embedded",
    )


@dataclass
class CovariateSection(MaybeSection):
    """The covariate classifier's accuracies (`evaluation.covariates.covariate_accuracy`) on the generated
    clips beside the real reference, for what `requested` says; `reason` says why there are none."""

    FLAG = "available"

    reason: str | None = None
    requested: str = COVARIATES_REQUESTED
    generated: dict | None = None
    real: dict | None = None


def covariate_section(classifier, gen: EmbeddedClips, real: EmbeddedClips, reference: np.ndarray) -> CovariateSection:
    if classifier is None:
        return CovariateSection(reason="no covariate classifier given and none bundled")
    cfg = classifier.config
    shape = tuple(gen.embeddings.shape[1:])
    if shape != (cfg.in_channels, cfg.parts_num):
        return CovariateSection(
            reason=f"the classifier reads embeddings of {(cfg.in_channels, cfg.parts_num)}, the judge gives {shape}"
        )
    generated = covariate_accuracy(classifier.predict(gen.embeddings), gen.conditions, gen.views, cfg)
    real_accuracy = covariate_accuracy(
        classifier.predict(real.embeddings[reference]), real.conditions[reference], real.views[reference], cfg
    )
    return CovariateSection(generated=generated, real=real_accuracy)


@dataclass
class DiversitySection(Section):
    """`evaluation.diversity.diversity_report`: the within-identity spread of generated and real clips
    (`{"mean", "std", "identities", "clips"}` each) and their ratio (1 = as varied as real)."""

    metric: str
    generated: dict
    real: dict
    ratio: float | None
    compared: str


def diversity_section(gen: EmbeddedClips, real: EmbeddedClips, keep: np.ndarray, metric: str) -> DiversitySection:
    compared = (
        f"{int(keep.sum())} real clips of {len(set(real.subjects[keep].tolist()))} subjects (those in common "
        "when there are any), in the generated clips' condition types and views"
    )
    return DiversitySection(
        **diversity_report(gen.embeddings, gen.subjects, real.embeddings[keep], real.subjects[keep], metric, compared)
    )
