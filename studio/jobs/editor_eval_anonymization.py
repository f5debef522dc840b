"""The ANONYMIZE part of `studio eval-editor`: the anonymizer beside the unmodified clips and the
blur / morphology baselines; leakage by every attacker, view kept, Fréchet, motion (`evaluate_editor`)."""

from __future__ import annotations

import logging
import time
from collections import Counter

import numpy as np

from evaluation.attackers import (
    calibrate_recognizer_on_real,
    gait_energy_images,
    gei_leakage,
    own_calibration,
    recognizer_leakage,
)
from evaluation.covariates import covariate_accuracy
from evaluation.fidelity import frechet_report
from evaluation.leakage import leakage_report
from evaluation.motion import motion_agreement, summarize_motion
from evaluation.protocols import CASIA_B_GALLERY, CASIA_B_PROBES
from gaitdata import GaitSequence
from gaitdata.opengait import scan_opengait
from generators.baselines import blur_silhouettes, morph_silhouettes
from generators.editor import Pseudonym
from recognizers.covariates import angular_error
from studio.jobs.anonymization import anonymize_until_unverified
from studio.jobs.edit_dataset import clip_seed
from studio.jobs.editor_eval_common import _labels, _pair_rows, _read, _RealSplit, _round, source_views

logger = logging.getLogger(__name__)


def _other_people(data, train_subjects, views, views_per_subject, condition, count, judge) -> np.ndarray | None:
    """Judge embeddings of real clips of people who are not the sources, at the sources' views: the
    TRAIN subjects' `condition` clips, views assigned as for the sources (the Fréchet null control)."""
    subjects = sorted(train_subjects)[:count]
    pairs = {(s, v) for i, s in enumerate(subjects) for v in source_views(i, views, views_per_subject)}
    entries = [
        e for e in scan_opengait(data, subjects=subjects, conditions=[condition]) if (e.subject, e.view) in pairs
    ]
    clips, _ = _read(entries)
    return judge.embed(clips, bf16=True) if len(clips) >= 2 else None


def _view_kept_by_view(predicted: np.ndarray, views: np.ndarray, tolerance: float = 18) -> dict:
    """Per source view, the share (%) of clips whose predicted view lies within `tolerance` degrees of it."""
    error = angular_error(np.asarray(predicted, float), np.asarray(views).astype(float))
    return {v: _round(100 * float((error[views == v] <= tolerance).mean()), 1) for v in sorted(set(views.tolist()))}


def _evaluate_anonymization(
    split: _RealSplit, editor, null, probe_condition, baseline_strengths, settings, seed, progress
):
    """Anonymize every source; leakage, covariates kept, Fréchet and motion of each arm.

    Returns (arm → its row, the Fréchet reference, anonymizer clips / s, arm → its clips (None: the sources)).
    """
    sources = split.sources
    source_emb = split.embeddings[split.is_source]
    source_labels = _labels(sources)
    gal_emb, gal_labels = split.gallery
    # as `studio anonymize` does: each source person becomes one new person, far from their first clip
    first = {}
    for clip in sources:
        first.setdefault(clip.subject, clip)
    people = [Pseudonym(clip_seed(seed, s.subject), first[s.subject]) for s in sources]
    t0 = time.perf_counter()
    results = anonymize_until_unverified(
        editor,
        split.judge,
        split.calibration,
        sources,
        [seed + i for i in range(len(sources))],
        source_embeddings=source_emb,
        people=people,
        **settings,
    )
    seconds = time.perf_counter() - t0
    arms: dict[str, list[GaitSequence] | None] = {"unmodified": None}
    for strength in baseline_strengths:
        arms[f"blur@{strength:g}"] = [blur_silhouettes(s, strength) for s in sources]
        arms[f"morph@{strength:g}"] = [morph_silhouettes(s, strength) for s in sources]
    arms["anonymizer"] = [r.sequence for r in results]
    # Fréchet reference: ONE real clip per source (subject, view), never the source itself (nm-06 for
    # nm-05): the source's twin in both halves would make real-vs-real near zero
    partners = [c for c in CASIA_B_PROBES["NM"] if c != probe_condition]
    reference = split.embeddings[_pair_rows(split.labels, partners, split.source_pairs)]
    if len(reference) < 4:
        logger.warning("only %d real partner clips (%s): no Fréchet distance", len(reference), partners)
        reference = None

    def frechet(emb):
        return None if reference is None else frechet_report(reference, emb, seed=seed)

    out = {}
    for name, clips in arms.items():
        emb = source_emb if clips is None else split.judge.embed(clips, bf16=True)
        predicted = split.classifier.predict(emb)
        kept = covariate_accuracy(predicted, source_labels["condition"], source_labels["view"], split.classifier.config)
        row = {
            "leakage": leakage_report(
                source_emb, source_labels["subject"], emb, gal_emb, gal_labels["subject"], split.calibration
            ),
            "view_kept": _round(kept["view_within_tolerance"], 2),
            "view_kept_by_view": _view_kept_by_view(predicted["view"], source_labels["view"]),
            "clothing_kept": _round(kept["clothing"], 2),
            "carrying_kept": _round(kept["carrying"], 2),
            "frechet": frechet(emb),
        }
        if clips is not None:
            agreement = [motion_agreement(s.frames, c.frames, s.fps) for s, c in zip(sources, clips, strict=True)]
            row["motion"] = summarize_motion(agreement)
        out[name] = row
    anonymizer = out["anonymizer"]
    anonymizer["flagged_as_leaking"] = _round(100 * np.mean([r.leaks for r in results]), 2)
    anonymizer["attempts"] = dict(sorted(Counter(r.attempts for r in results).items()))
    anonymizer["editor_judge_distance_mean"] = _round(np.mean([r.source_distance for r in results]), 4)
    anonymizer["target_similarity_to_source_mean"] = _round(
        np.nanmean([r.target_similarity_to_source for r in results]), 4
    )
    reference_info = {
        "real": f"{'/'.join(partners)} at the sources' subjects and views",
        "clips": 0 if reference is None else len(reference),
        # what real clips of OTHER people at the same views score (judge-trained subjects: a rough floor)
        "other_people_null": None if null is None or reference is None else frechet(null),
    }
    return out, reference_info, _round(len(results) / max(seconds, 1e-9), 3), arms


def _score_attackers(split: _RealSplit, arms: dict, anonymize: dict, attackers: dict, progress: bool) -> dict:
    """Leakage of every arm (name → clips, None: the sources) by every attacker, each at its own
    real-pair calibration; adds `"attackers"` to each arm's row of `anonymize` and returns what each
    attacker is (name → kind, model, calibration)."""
    labels = _labels(split.sources)
    src_subjects, src_views = labels["subject"], labels["view"]
    gallery = np.isin(split.labels["condition"], CASIA_B_GALLERY)
    # thresholds come from REAL probes against the gallery: the NM probes at the sources' (subject, view)
    real = _pair_rows(split.labels, CASIA_B_PROBES["NM"], split.source_pairs)
    gal_subjects, gal_views = split.labels["subject"][gallery], split.labels["view"][gallery]
    real_subjects, real_views = split.labels["subject"][real], split.labels["view"][real]
    needed = np.flatnonzero(gallery | real | split.is_source)  # the clips any attacker reads
    real_clips = [split.sequences[i] for i in needed]

    def rows_of(mask):  # rows of `needed`-ordered arrays that `mask` selects
        return mask[needed]

    # the judge: the arm's `leakage` row (leakage_report at the calibration the anonymizer retries against)
    judge_calibration = {k: split.calibration.get(k) for k in ("metric", "threshold", "far", "tar")}
    judge_calibration["source"] = "the editor's judge calibration (the anonymizer retries against it)"
    info = {"judge": {"kind": "recognizer", "model": type(split.judge).__name__, "calibration": judge_calibration}}
    rows = {
        name: {"judge": {"attacker": "judge", "views": "all_views", **anonymize[name]["leakage"], "probes_left_out": 0}}
        for name in arms
    }
    for row in rows.values():
        row["judge"]["calibration"] = judge_calibration

    # the GEI template matcher, same view and cross view: no learning, nothing for the anonymizer to fool
    geis = gait_energy_images(real_clips)
    source_geis = geis[rows_of(split.is_source)]
    arm_geis = {name: source_geis if clips is None else gait_energy_images(clips) for name, clips in arms.items()}
    gallery_geis, real_geis = geis[rows_of(gallery)], geis[rows_of(real)]
    gei = gei_leakage(
        source_geis, src_subjects, src_views, arm_geis, gallery_geis, gal_subjects, gal_views,
        real_geis, real_subjects, real_views,
    )  # fmt: skip
    for attacker, per_arm in gei.items():
        for name, report in per_arm.items():
            rows[name][attacker] = report
        first = next(iter(per_arm.values()))
        info[attacker] = {"kind": "GEI template", "views": first["views"], "calibration": first["calibration"]}

    # recognizers the anonymizer never consulted, at their own thresholds
    for attacker, model in attackers.items():
        embeddings = model.embed(real_clips, bf16=True, progress=progress)
        gallery_emb, source_emb = embeddings[rows_of(gallery)], embeddings[rows_of(split.is_source)]
        calibration = own_calibration(model) or calibrate_recognizer_on_real(
            embeddings[rows_of(real)], real_subjects, gallery_emb, gal_subjects
        )
        for name, clips in arms.items():
            emb = source_emb if clips is None else model.embed(clips, bf16=True)
            rows[name][attacker] = recognizer_leakage(
                source_emb, src_subjects, emb, gallery_emb, gal_subjects, calibration, attacker
            )
        info[attacker] = {"kind": "recognizer", "model": type(model).__name__, "calibration": calibration}
    for name, row in rows.items():
        anonymize[name]["attackers"] = row
    return info
