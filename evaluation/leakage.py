"""How much identity an anonymized clip still gives away, as the JUDGE sees it.

One function, `leakage_report`, for every arm a reader compares: the unmodified clips (the
ceiling: what an attacker gets with no protection), image baselines (blur, morphology) and the
anonymizer. Row i of the anonymized embeddings is the protected version of source clip i; the
attacker holds a real gallery of the source subjects (and of the others in the test).

- rank-1 / rank-5: each anonymized clip is matched against every gallery clip (all views, same
  view included: the strongest attacker); a hit is its SOURCE subject at rank 1 (5). Chance is
  1 / number of gallery subjects, printed beside.
- TAR at the judge's FAR-1% threshold (`calibration["threshold"]`, in its metric): the share of
  genuine pairs still accepted as the same person, for (anonymized clip, its source clip) pairs
  — what the anonymizer (`studio.jobs.anonymization`) flags as a leak — and for
  (anonymized clip, every gallery clip of its source subject) pairs. Beside them, the share of
  impostor pairs (anonymized clip, other subjects' gallery clips) accepted at the same threshold
  (≈1% for real clips; far lower when a protection makes clips unlike anybody).
- distances: to the source clip and to the nearest gallery clip of the source subject (mean,
  5th / 50th / 95th percentiles), beside the threshold.

A function of embeddings (`float [N, c, p]`, the judge's) and labels: no model runs here.
"""

from __future__ import annotations

import numpy as np

from evaluation.retrieval import rank_k_accuracy
from recognizers.distance import pairwise_distance

PERCENTILES = (5, 50, 95)


def _distance_stats(values: np.ndarray) -> dict:
    values = np.asarray(values, np.float64)
    out = {"mean": round(float(values.mean()), 4)}
    out.update({f"p{q}": round(float(np.percentile(values, q)), 4) for q in PERCENTILES})
    return out


def match_numbers(
    calibration: dict,
    ranks: dict,
    chance: float,
    to_gallery: np.ndarray,
    genuine: np.ndarray,
    impostor: np.ndarray,
    to_source: np.ndarray | None,
) -> dict:
    """`leakage_report`'s numbers from `"metric"` on, from what was matched.

    Args:
        calibration: `{"metric", "threshold", ...}`.
        ranks: `{1: rank-1 %, 5: rank-5 %}`.
        chance: the rank-1 % of guessing.
        to_gallery: `[N, G]` distances; genuine, impostor: `bool [N, G]` pairs of the same subject
            and of others (each only where a probe may be matched).
        to_source: `[N]` distances to the own source clip, or None (then its numbers are None).
    """
    threshold = float(calibration["threshold"])
    accepted = to_gallery <= threshold
    return {
        "metric": calibration["metric"],
        "threshold": round(threshold, 5),
        "far": calibration.get("far", calibration.get("target_far")),
        "rank1": round(ranks[1], 2),
        "rank5": round(ranks[5], 2),
        "chance_rank1": round(chance, 2),
        "rank1_over_chance": round(ranks[1] / chance, 2),
        "tar_vs_source": None if to_source is None else round(float(100 * (to_source <= threshold).mean()), 2),
        "tar_vs_gallery": round(float(100 * accepted[genuine].mean()), 2),
        "impostor_accept_vs_gallery": round(float(100 * accepted[impostor].mean()), 2) if impostor.any() else None,
        "distance_to_source": None if to_source is None else _distance_stats(to_source),
        "distance_to_source_gallery": _distance_stats(np.where(genuine, to_gallery, np.inf).min(axis=1)),
    }


def leakage_report(
    source_embeddings: np.ndarray,
    source_subjects,
    anonymized_embeddings: np.ndarray,
    gallery_embeddings: np.ndarray,
    gallery_subjects,
    calibration: dict,
) -> dict:
    """Judge-measured identity leakage of protected clips (definitions: module docstring).

    Args:
        source_embeddings: judge embeddings of the original clips, `float [N, c, p]`.
        source_subjects: their subjects `[N]`.
        anonymized_embeddings: judge embeddings of the protected clips, row i made from source
            i, `float [N, c, p]` (the source embeddings themselves for the unmodified arm).
        gallery_embeddings: the attacker's real gallery, `float [G, c, p]` (clips other than the sources).
        gallery_subjects: their subjects `[G]`; every source subject must be among them.
        calibration: the judge's verification calibration, `{"metric", "threshold", ...}`
            (`recognizers.load_calibration`), at FAR 1%.

    Returns:
        `{"probes", "gallery_clips", "gallery_subjects", "metric", "threshold", "far" (the
        calibration's), "rank1", "rank5", "chance_rank1", "rank1_over_chance" (rank-1 / chance),
        "tar_vs_source", "tar_vs_gallery", "impostor_accept_vs_gallery"` (all in %),
        `"distance_to_source", "distance_to_source_gallery"` (`{"mean", "p5", "p50", "p95"}`)}.

    Raises:
        ValueError: mismatched shapes or lengths, an empty side, a source subject absent from
            the gallery, a calibration without metric or threshold.
    """
    source = np.asarray(source_embeddings, np.float32)
    anonymized = np.asarray(anonymized_embeddings, np.float32)
    gallery = np.asarray(gallery_embeddings, np.float32)
    src_subjects = np.asarray(source_subjects).astype(str)
    gal_subjects = np.asarray(gallery_subjects).astype(str)
    if source.shape != anonymized.shape:
        raise ValueError(f"source {source.shape} and anonymized {anonymized.shape} embeddings differ in shape")
    if len(source) == 0 or len(gallery) == 0:
        raise ValueError(f"need probes and a gallery, got {len(source)} probes and {len(gallery)} gallery clips")
    if len(src_subjects) != len(source) or len(gal_subjects) != len(gallery):
        raise ValueError(
            f"{len(src_subjects)} source subjects for {len(source)} clips, "
            f"{len(gal_subjects)} gallery subjects for {len(gallery)} clips"
        )
    missing = sorted(set(src_subjects.tolist()) - set(gal_subjects.tolist()))
    if missing:
        raise ValueError(f"source subjects without gallery clips (rank-1 would be understated): {missing[:10]}")
    for key in ("metric", "threshold"):
        if key not in calibration:
            raise ValueError(f"the calibration has no {key!r} (expected the judge's calibration.json)")
    metric = calibration["metric"]

    to_gallery = pairwise_distance(anonymized, gallery, metric)  # [N, G]
    ranks = rank_k_accuracy(to_gallery, src_subjects, gal_subjects, ks=(1, 5))
    to_source = np.array(
        [pairwise_distance(a[None], s[None], metric)[0, 0] for a, s in zip(anonymized, source, strict=True)]
    )
    genuine = src_subjects[:, None] == gal_subjects[None, :]  # [N, G]
    gallery_count = len(set(gal_subjects.tolist()))
    return {
        "probes": len(source),
        "gallery_clips": len(gallery),
        "gallery_subjects": gallery_count,
        **match_numbers(calibration, ranks, 100.0 / gallery_count, to_gallery, genuine, ~genuine, to_source),
    }
