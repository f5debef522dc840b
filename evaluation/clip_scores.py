"""Scores of one edited or anonymized clip against its source, for people looking at a single result.

Two questions, both answered by the JUDGE (never the conditioner that steered the generator):

- Is it still the same person? The judge's cosine similarity of the two clips, and — with the
  judge's calibration — its verification verdict at the calibrated false-accept rate. An edit
  should keep the person (verified); an anonymization should lose them (not verified).
- Did the covariates come out as asked? The covariate classifier's reading of the result
  (view, clothing, carrying) beside what was requested.

`ClipScorer` answers both for many results at once (each source and each result embedded once,
in batches): the batch jobs write its scores in their manifests and the web studio's Edit and
Anonymize tabs show `ClipScorer.one`; `clip_scores` is the plain call for one pair.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gaitdata import GaitSequence
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


class ClipScorer:
    """The judge's scores of results against their sources, and the covariate classifier's
    reading of the results: what the batch jobs write in each manifest row and the web studio
    shows beside one result.

    Args:
        judge, calibration: the editor's (None: no identity scores).
        covariate_classifier: a `CovariateClassifier`, None for none, or "auto" for the bundled
            one when it is installed and reads this judge's embeddings.
        unavailable: why there is no covariate classifier, when the caller knows better than
            "not requested" (e.g. the app's "not installed: ...").

    A classifier trained on another judge's embeddings is dropped at the first result it cannot
    read, and `unavailable` says why: the identity scores go on.
    """

    def __init__(self, judge, calibration, covariate_classifier="auto", unavailable: str | None = None):
        self.judge, self.calibration = judge, calibration
        self.classifier, self.unavailable = None, None
        if judge is None:
            self.unavailable = "no judge"
        elif covariate_classifier == "auto":
            import recognizers

            try:
                self.classifier = recognizers.load_covariate_classifier()
            except FileNotFoundError as err:
                self.unavailable = f"not installed: {err}"
        else:
            self.classifier = covariate_classifier
            self.unavailable = None if covariate_classifier is not None else unavailable or "not requested"
        self._last = None  # (keys, embeddings) of the last batch: the retry policy and the scores share them

    def embed_sources(self, keys: list, sources: list[GaitSequence]) -> np.ndarray:
        """Judge embeddings `[N, c, p]` of a batch's sources, each distinct source embedded once
        (one source often makes several results, in augmentation), in one call."""
        if self._last is not None and self._last[0] == list(keys):
            return self._last[1]
        index = {key: i for i, key in reversed(list(enumerate(keys)))}
        distinct = sorted(set(index.values()))
        embeddings = self.judge.embed([sources[i] for i in distinct])
        where = {i: k for k, i in enumerate(distinct)}
        embeddings = embeddings[[where[index[key]] for key in keys]]
        self._last = (list(keys), embeddings)
        return embeddings

    def _embed_results(self, results: list[GaitSequence], known: list | None) -> np.ndarray:
        """Judge embeddings `[N, c, p]` of `results`: `known[i]` where the caller gave one, the
        others embedded here in one call."""
        known = [None] * len(results) if known is None else list(known)
        if len(known) != len(results):
            raise ValueError(f"{len(known)} result embeddings for {len(results)} results")
        missing = [r for r, e in zip(results, known) if e is None]
        fresh = iter(self.judge.embed(missing)) if missing else iter(())
        return np.stack([next(fresh) if e is None else np.asarray(e) for e in known])

    def many(
        self, keys, sources, results, expected, source_embeddings=None, result_embeddings=None
    ) -> list[dict | None]:
        """Per result `{"identity": {cosine, distance, threshold, same_person, ...}, "covariates": {...} or None}`
        (None without a judge).

        Args:
            keys, sources: per result its source's key and clip (`embed_sources`).
            results: the results to score.
            expected: per result the covariates it should show, or None.
            source_embeddings: the sources' judge embeddings `[N, c, p]`, when the caller has them.
            result_embeddings: per result its judge embedding `[c, p]` when the caller has it
                already (e.g. the anonymization retry policy's `AnonymizationResult.judge_embedding`),
                None where it has not: those are embedded here, in one batch.
        """
        if self.judge is None or not results:
            return [None] * len(results)
        if source_embeddings is None:
            source_embeddings = self.embed_sources(keys, sources)
        embeddings = self._embed_results(results, result_embeddings)
        out = []
        for source_embedding, embedding, wanted in zip(source_embeddings, embeddings, expected):
            scores = {
                "identity": identity_similarity(source_embedding, embedding, self.calibration),
                "covariates": None,
            }
            if self.classifier is not None:
                config = self.classifier.config
                if tuple(embedding.shape) != (config.in_channels, config.parts_num):
                    self.unavailable = (
                        f"the covariate classifier reads [{config.in_channels}, {config.parts_num}] embeddings of "
                        f"{config.judge}, this judge gives {list(embedding.shape)}"
                    )
                    self.classifier = None
                else:
                    wanted = {k: v for k, v in (wanted or {}).items() if k in ("view", "clothing", "carrying")}
                    scores["covariates"] = covariate_verdict(self.classifier, embedding, wanted)
            out.append(scores)
        return out

    def one(self, source: GaitSequence, result: GaitSequence, expected: Mapping | None = None) -> dict:
        """`many` of one result: `{"identity", "covariates", "covariates_unavailable"}` (identity
        None without a judge)."""
        if self.judge is None:
            return {"identity": None, "covariates": None, "covariates_unavailable": "the editor has no judge"}
        (scores,) = self.many([None], [source], [result], [expected], source_embeddings=self.judge.embed([source]))
        return {**scores, "covariates_unavailable": self.unavailable}


__all__ = ["ClipScorer", "clip_scores", "covariate_verdict", "identity_similarity"]
