"""The anonymizer's retry policy: anonymize, let the judge measure what is left, try again harder.

`GaitEditor.anonymize_many` makes one anonymization of each clip and knows nothing of judges.
Here the JUDGE (never the conditioner) scores each result against its source
(`evaluation.clip_scores.identity_similarity`, at the judge's calibrated FAR-1% threshold); only
the clips it still verifies as their source are made again, all of them in one batch, with more
strength and another target person (with pseudonyms: the pseudonym's next person, so the
retried clips of one source person stay one person); a clip that still leaks after
`max_attempts` is returned flagged, never passed off as anonymous.

The verdict uses only what a user has (the judge and its calibration). Attackers the policy never
consulted are for the evaluation (`studio eval-editor`, `studio evaluate --kind anonymized`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from evaluation.clip_scores import identity_similarity
from gaitdata import GaitSequence
from generators.settings import ANONYMIZE

logger = logging.getLogger(__name__)

STRENGTH_STEP = 0.1  # each retry regenerates this much more of the schedule (up to all of it)


@dataclass
class AnonymizationResult:
    """An anonymized clip and the identity the judge still finds in it.

    Attributes:
        sequence: the anonymized clip.
        source_distance: judge distance between source and result (the calibration's metric).
        threshold: the judge's verification threshold at its calibrated FAR.
        leaks: True when the judge still verifies the result as the source person.
        attempts: tries made (each retry raises the strength and picks another target).
        target_similarity_to_source: cosine of the target identity to the source's, in the
            conditioner's space.
        judge_embedding: the judge's embedding of `sequence` (`[c, p]`), for callers that score
            it further without embedding it again.
    """

    sequence: GaitSequence
    source_distance: float
    threshold: float
    leaks: bool
    attempts: int
    target_similarity_to_source: float
    judge_embedding: np.ndarray | None = None


def anonymize_until_unverified(
    editor,
    judge,
    calibration: dict,
    sequences: Sequence[GaitSequence],
    seeds: Sequence[int],
    strength: float = ANONYMIZE.strength,
    max_attempts: int = ANONYMIZE.max_attempts,
    source_embeddings: np.ndarray | None = None,
    cancel=None,
    people: Sequence | None = None,
    **settings,
) -> list[AnonymizationResult]:
    """Anonymize `sequences`, retrying those the judge still verifies as their source.

    Args:
        editor: a `GaitEditor` with an identity bank.
        judge, calibration: the judge recognizer (`embed`) and its `calibration.json`
            (`metric`, `threshold`).
        sequences, seeds: the source clips and one seed per clip (attempt k uses seed + k).
        strength: the first attempt's strength; each retry adds `STRENGTH_STEP` (at most 1).
        max_attempts: tries per clip before it is flagged as leaking (≥ 1).
        source_embeddings: the judge's embeddings of the sources, when the caller has them.
        cancel: a callable checked between attempts and denoising steps (True stops with
            `generators.GenerationCancelled`).
        people: per clip a `generators.editor.Pseudonym` (clips sharing one become one new
            person; attempt k uses the pseudonym's seed + k), or None: each clip its own person.
        settings: passed to `GaitEditor.anonymize_many` (steps, guidance, method,
            identity_guidance, batch_size).

    Returns:
        One `AnonymizationResult` per source, in order.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
    if judge is None or calibration is None:
        raise ValueError("anonymization needs the judge and its calibration to measure what identity is left")
    if judge is getattr(editor.pipeline, "conditioner", None):
        raise ValueError("the judge must not be the conditioner: it would measure nothing")
    sequences, seeds = list(sequences), [int(s) for s in seeds]
    if len(seeds) != len(sequences):
        raise ValueError(f"{len(seeds)} seeds for {len(sequences)} clips")
    if people is not None and len(people) != len(sequences):
        raise ValueError(f"{len(people)} people for {len(sequences)} clips")
    if source_embeddings is None:
        source_embeddings = judge.embed(sequences) if sequences else np.zeros((0,))
    results: list[AnonymizationResult | None] = [None] * len(sequences)
    pending = list(range(len(sequences)))
    for attempt in range(max_attempts):
        if not pending:
            break
        if cancel is not None and cancel():
            from generators import GenerationCancelled

            raise GenerationCancelled("anonymization cancelled")
        made = editor.anonymize_many(
            [sequences[i] for i in pending],
            min(1.0, strength + STRENGTH_STEP * attempt),
            [seeds[i] + attempt for i in pending],
            cancel=cancel,
            people=None if people is None else [replace(people[i], seed=people[i].seed + attempt) for i in pending],
            **settings,
        )
        embeddings = judge.embed(made)
        still = []
        for i, clip, embedding in zip(pending, made, embeddings):
            score = identity_similarity(source_embeddings[i], embedding, calibration)
            leaks = bool(score["same_person"])
            clip.extra["leakage"] = {
                "judge_distance": score["distance"],
                "threshold": score["threshold"],
                "leaks": leaks,
            }
            results[i] = AnonymizationResult(
                clip,
                float(score["distance"]),
                float(score["threshold"]),
                leaks,
                attempt + 1,
                float(clip.extra["anonymize"]["target_similarity_to_source"]),
                embedding,
            )
            if leaks:
                still.append(i)
        if still and attempt + 1 < max_attempts:
            logger.info(
                "attempt %d: %d of %d clips still verify as their source; retrying",
                attempt + 1,
                len(still),
                len(pending),
            )
        pending = still
    for i in pending:
        logger.warning("%s: still verified as its source after %d attempts", sequences[i].source, max_attempts)
    return results
