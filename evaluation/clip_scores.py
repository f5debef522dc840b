"""Scores of one edited or anonymized clip against its source, for people looking at a single result.

Two questions, both answered by the JUDGE (never the conditioner that steered the generator):

- Is it still the same person? The judge's cosine similarity of the two clips, and — with the
  judge's calibration — its verification verdict at the calibrated false-accept rate. An edit
  should keep the person (verified); an anonymization should lose them (not verified).
- Did the covariates come out as asked? The covariate classifier's reading of the result
  (view, clothing, carrying) beside what was requested.

The web studio's Edit and Anonymize tabs show these; `clip_scores` is the one call.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recognizers.calibration import verify
from recognizers.covariates import angular_error
from recognizers.distance import pairwise_distance

HEADS = ("view", "clothing", "carrying")


def identity_similarity(source_embedding: np.ndarray, result_embedding: np.ndarray, calibration: dict | None) -> dict:
    """How alike two clips are to the judge.

    Args:
        source_embedding, result_embedding: judge embeddings `float [c, p]` of one clip each.
        calibration: the judge's verification calibration (`metric`, `threshold`, `far`), or None.

    Returns:
        `{"cosine"}` — cosine similarity of the flattened embeddings in [-1, 1] — and, with a
        calibration, `{"distance", "metric", "threshold", "far", "same_person"}`: the distance in
        the calibration's metric and whether it is within the verification threshold.
    """
    a = np.asarray(source_embedding, np.float64).ravel()
    b = np.asarray(result_embedding, np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(f"embeddings of sizes {a.size} and {b.size} cannot be compared")
    cosine = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))
    out: dict = {"cosine": cosine}
    if calibration is not None:
        metric = calibration["metric"]
        pair = np.asarray(source_embedding)[None], np.asarray(result_embedding)[None]
        out.update(
            distance=float(pairwise_distance(*pair, metric)[0, 0]),
            metric=metric,
            threshold=float(calibration["threshold"]),
            far=float(calibration.get("far", calibration.get("target_far", float("nan")))),
            same_person=bool(verify(*pair, calibration)[0]),
        )
    return out


def covariate_verdict(
    classifier, embedding: np.ndarray, expected: Mapping | None = None, view_tolerance: float = 18
) -> dict:
    """The covariate classifier's reading of one clip, and whether it matches what was expected.

    Args:
        classifier: a `CovariateClassifier` reading the judge's embeddings.
        embedding: the clip's judge embedding `float [c, p]`.
        expected: `{"view": degrees or None, "clothing": name or None, "carrying": name or None}`
            (e.g. an edit's target); None or a missing/None entry = no expectation.
        view_tolerance: a view matches within this many degrees (18 = one CASIA-B step).

    Returns:
        Per head `{"predicted", "confidence" (its softmax probability), "expected", "match"}`
        (`match` None where nothing was expected), plus `"all_match"` (True / False, or None
        when nothing was expected at all).

    Raises:
        ValueError: the embedding is not of the shape the classifier reads (another judge's).
    """
    expected = dict(expected or {})
    embedding = np.asarray(embedding)
    reads = (classifier.config.in_channels, classifier.config.parts_num)
    if embedding.shape != reads:
        raise ValueError(
            f"the covariate classifier reads judge embeddings of shape {reads}, this judge gives {embedding.shape}: "
            f"it was trained on another judge ({classifier.config.judge})"
        )
    pred = classifier.predict(embedding[None])
    out: dict = {}
    for head in HEADS:
        probabilities = pred[f"{head}_probability"][0]
        predicted = pred[head][0]
        want = expected.get(head)
        if want is None:
            match = None
        elif head == "view":
            match = bool(angular_error(float(predicted), float(want)) <= view_tolerance)
        else:
            match = bool(str(predicted) == str(want))
        out[head] = {
            "predicted": int(predicted) if head == "view" else str(predicted),
            "confidence": float(probabilities.max()),
            "expected": (float(want) if head == "view" else str(want)) if want is not None else None,
            "match": match,
        }
    verdicts = [out[h]["match"] for h in HEADS if out[h]["match"] is not None]
    out["all_match"] = all(verdicts) if verdicts else None
    out["view_tolerance_degrees"] = view_tolerance
    return out


def clip_scores(
    judge,
    source,
    result,
    calibration: dict | None = None,
    covariate_classifier=None,
    expected: Mapping | None = None,
) -> dict:
    """Judge similarity of `result` to `source`, and the covariate classifier's verdict on `result`.

    Args:
        judge: a recognizer with `embed(clip) -> float [c, p]` (the JUDGE, not the conditioner).
        source, result: `GaitSequence`s (or `uint8 [T, H, W]` frames).
        calibration: the judge's calibration, for the same-person verdict (None: cosine only).
        covariate_classifier: reads the judge's embeddings (None: no covariate verdict).
        expected: the covariates the result should show (see `covariate_verdict`).

    Returns:
        `{"identity": identity_similarity(...), "covariates": covariate_verdict(...) or None}`.
    """
    source_embedding = judge.embed(source)
    result_embedding = judge.embed(result)
    scores = {"identity": identity_similarity(source_embedding, result_embedding, calibration), "covariates": None}
    if covariate_classifier is not None:
        scores["covariates"] = covariate_verdict(covariate_classifier, result_embedding, expected)
    return scores


__all__ = ["clip_scores", "covariate_verdict", "identity_similarity"]
