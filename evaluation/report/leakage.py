"""Anonymized clips only: identity read as leakage (rank-1 and TAR beside chance and the unmodified
ceiling), and leakage by attacker (`evaluation.attackers`): the judge, the GEI template matcher and
the recognizers the anonymizer never consulted, each at its own FAR-1% threshold."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from evaluation.attackers import calibrate_recognizer_on_real, gei_leakage, own_calibration, recognizer_leakage
from evaluation.protocols import CASIA_B_GALLERY
from evaluation.report.clips import EmbeddedClips
from evaluation.report.identity import IdentitySection
from evaluation.report.values import MaybeSection, calibrated_far, percent

LEAKAGE_NOTE = "chance: rank-1 = 100 / gallery subjects; TAR = the FAR itself (an impostor is accepted that often)"
ATTACKERS_NOTE = (
    "Each anonymized clip against the real gallery (nm-01…04); a hit is its source subject at rank 1. Every "
    "attacker uses its own threshold at FAR 1%, set on real probe clips against the real gallery (never on "
    "anonymized clips): the judge its calibration (the one the anonymizer retries against), the GEI template "
    "matcher (mean silhouette, Euclidean) the real pairs of its view relation — gei_same_view: gallery clips of "
    "the probe's view; gei_cross_view: of every other view — and each other recognizer its own calibration.json. "
    "Judge and recognizers match across all views. Unmodified: the source clips themselves (the ceiling)."
)


@dataclass
class LeakageSection(MaybeSection):
    """How much identity is left (the judge's rank-1 and TAR), beside chance and the unmodified ceiling;
    `reason` says why it is undefined."""

    TAIL = {"note": LEAKAGE_NOTE}

    reason: str | None = None
    rank1: float | None = None
    chance_rank1: float | None = None
    rank1_over_chance: float | None = None
    tar_percent: float | None = None
    far_percent: float | None = None
    chance_tar_percent: float | None = None
    unmodified_rank1: float | None = None
    unmodified_tar_percent: float | None = None


def leakage_section(identity: IdentitySection, calibration: dict) -> LeakageSection:
    """Anonymization: the identity section's numbers read as leakage."""
    far = calibrated_far(calibration)
    if not identity.defined:
        return LeakageSection(reason=identity.reason)
    row, ver = identity.mean, identity.verification
    return LeakageSection(
        rank1=row.generated_rank1,
        chance_rank1=identity.chance_rank1,
        rank1_over_chance=row.generated_rank1 / identity.chance_rank1 if row.generated_rank1 is not None else None,
        tar_percent=ver.generated_tar_percent,
        far_percent=percent(far),
        chance_tar_percent=percent(far),
        unmodified_rank1=row.real_rank1,
        unmodified_tar_percent=ver.real_tar_percent,
    )


@dataclass
class AttackersSection(MaybeSection):
    """Leakage of anonymized clips and of their unmodified sources by every attacker (see `ATTACKERS_NOTE`).

    Attributes:
        reason: why it is undefined (then nothing else is set).
        probes: anonymized clips attacked (their source in the real folder, outside the gallery).
        left_out: anonymized clips not attacked.
        gallery_clips, gallery_subjects: the real gallery.
        calibration_probes: real non-gallery clips the thresholds are set on.
        attackers: name → `{"available", "kind", "views", "calibration"}` or `{"available": False, "reason"}`.
        rows: "unmodified" / "anonymized" → attacker name → its leakage report.
    """

    TAIL = {"note": ATTACKERS_NOTE}

    reason: str | None = None
    probes: int = 0
    left_out: int = 0
    gallery_clips: int = 0
    gallery_subjects: int = 0
    calibration_probes: int = 0
    attackers: dict[str, dict] = field(default_factory=dict)
    rows: dict[str, dict[str, dict]] = field(default_factory=dict)


def attackers_section(
    real: EmbeddedClips, gen: EmbeddedClips, sources, judge_calibration: dict, attackers
) -> AttackersSection:
    """Every attacker against the anonymized clips whose source is a real non-gallery clip of a gallery
    subject, and against those sources themselves."""
    gallery = np.isin(real.conditions, CASIA_B_GALLERY)
    if not gallery.any():
        return AttackersSection(reason="the real folder has no gallery clips (nm-01…04)")
    real_index = {k: i for i, k in enumerate(real.keys)}
    gallery_subjects = set(real.subjects[gallery].tolist())
    # a source that is itself a gallery clip would be found as itself: such clips are left out
    pairs = [
        (i, real_index[src])
        for i, (src, _) in enumerate(sources)
        if src in real_index and not gallery[real_index[src]] and src[0] in gallery_subjects
    ]
    if not pairs:
        reason = "no anonymized clip names a source in the real folder (outside the gallery) of a gallery subject"
        return AttackersSection(reason=reason)
    gen_rows, src_rows = (np.asarray(rows) for rows in zip(*pairs, strict=True))
    probes = ~gallery  # the real clips the thresholds are calibrated on, against the gallery
    subjects, views = real.subjects[src_rows], real.views[src_rows]
    g_subjects = real.subjects[gallery]
    rows: dict[str, dict] = {"unmodified": {}, "anonymized": {}}
    info: dict[str, dict] = {}

    def add_recognizer(name, own, generated, calibration):
        for arm, protected in (("unmodified", own[src_rows]), ("anonymized", generated[gen_rows])):
            rows[arm][name] = recognizer_leakage(
                own[src_rows], subjects, protected, own[gallery], g_subjects, calibration, name
            )
        info[name] = {"available": True, "kind": "recognizer", "views": "all_views", "calibration": calibration}

    add_recognizer("judge", real.embeddings, gen.embeddings, judge_calibration)
    try:
        gei = gei_leakage(
            real.geis[src_rows], subjects, views, {"unmodified": real.geis[src_rows], "anonymized": gen.geis[gen_rows]},
            real.geis[gallery], g_subjects, real.views[gallery], real.geis[probes], real.subjects[probes],
            real.views[probes],
        )  # fmt: skip
        for name, per_arm in gei.items():
            for arm, report in per_arm.items():
                rows[arm][name] = report
            first = per_arm["anonymized"]
            info[name] = {"available": True, "kind": "GEI template", "views": first["views"]}
            info[name]["calibration"] = first["calibration"]
    except ValueError as err:  # e.g. no real genuine pair in one view relation
        info["gei"] = {"available": False, "reason": str(err)}
    for name, model in (attackers or {}).items():
        own, generated = real.attacker_embeddings[name], gen.attacker_embeddings[name]
        calibration = own_calibration(model)
        try:
            if calibration is None:
                calibration = calibrate_recognizer_on_real(own[probes], real.subjects[probes], own[gallery], g_subjects)
            add_recognizer(name, own, generated, calibration)
        except ValueError as err:
            info[name] = {"available": False, "reason": str(err)}
    return AttackersSection(
        probes=len(pairs),
        left_out=len(gen) - len(pairs),
        gallery_clips=int(gallery.sum()),
        gallery_subjects=len(gallery_subjects),
        calibration_probes=int(probes.sum()),
        attackers=info,
        rows=rows,
    )
