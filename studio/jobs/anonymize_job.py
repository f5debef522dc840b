"""The anonymize job: every clip of a dataset (or one clip) made into somebody else's walk.

`anonymize_dataset` is what `studio anonymize` runs: each source person becomes one new person
(`anon-<subject>`), retried while the judge still verifies them (`studio.jobs.anonymization`),
and a clip that still leaks is written, flagged and counted, never passed off as anonymous.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Sequence

from gaitdata import GaitDataError, GaitSequence
from gaitdata.atomic import ensure_outside
from generators.settings import ANONYMIZE
from studio.jobs.clip_inputs import input_sources, source_settings
from studio.jobs.clip_runner import ClipJob, ProgressArg
from studio.jobs.clip_tasks import (
    ClipTask,
    check_editor_settings,
    check_unique_outputs,
    clip_seed,
    editor_settings,
    person_of,
)
from studio.jobs.job_summary import AnonymizeSummary, JobSummary
from studio.jobs.sharding import BATCH_CLIPS, Shard

logger = logging.getLogger(__name__)

ANONYMOUS_PREFIX = "anon-"  # the editor's subject name for an anonymized clip


def anonymize_dataset(
    editor,
    data_root: str | os.PathLike,
    out_root: str | os.PathLike,
    *,
    strength: float = ANONYMIZE.strength,
    seed: int = 0,
    steps: int = ANONYMIZE.steps,
    subjects: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    guidance: float = ANONYMIZE.guidance,
    method: str = ANONYMIZE.method,
    max_attempts: int = ANONYMIZE.max_attempts,
    covariate_classifier="auto",
    progress: ProgressArg = None,
    batch_clips: int = BATCH_CLIPS,
    shard: Shard | None = None,
) -> dict:
    """Anonymize every clip of a dataset (or one clip): same walk, view and clothing, somebody else.

    Each source person becomes ONE novel person from the editor's identity bank (a pseudonym
    drawn from the job's seed and the subject, kept far from the person's first clip; one first
    clip per view is their reference), so `anon-<subject>` is one body in every clip; the judge
    measures what is left of the source (`studio.jobs.anonymization`). A clip the judge still verifies as its
    source after `max_attempts` is written, flagged `leaks: true` in its row, listed under
    `leaking` and counted in `counts["leaks"]`: never passed off as anonymous.

    Args:
        editor: a `GaitEditor` with a judge, its calibration and an identity bank (`load_editor()`).
        data_root, out_root, seed, subjects, conditions, views, covariate_classifier, progress:
            as in `edit_dataset`; results go to `anon-<subject>/<condition>/<view>/<view>.pkl`.
        strength, steps, guidance, method, max_attempts: the anonymizer's settings.

    Returns:
        The manifest: settings, counts (`clips`, `written`, `anonymous`, `leaks`, `skipped`, ...),
        `leaking` (output paths), `skipped`, and per clip a row with the judge `distance`,
        `threshold`, `leaks`, `attempts`, and `scores` (judge cosine similarity; the covariate
        classifier's reading against the source's covariates).

    Raises:
        ValueError: no judge / calibration / bank, bad settings, an output folder overlapping the
            input or holding another job.
    """
    check_editor_settings(strength, steps, method)
    if float(strength) == 0.0:
        raise ValueError("strength 0 would return the sources themselves, which are not anonymous")
    if editor.judge is None or editor.calibration is None:
        raise ValueError("anonymization needs the judge and its calibration to measure leakage (load_editor())")
    if editor.bank is None:
        raise ValueError("anonymization needs an identity bank to draw new identities from")
    sources, input_path, input_kind = input_sources(data_root, subjects, conditions, views)
    ensure_outside(out_root, input_path)
    tasks = [
        ClipTask(s, (f"{ANONYMOUS_PREFIX}{s.key[0]}", s.key[1], s.key[2]), "anonymize", clip_seed(seed, *s.key))
        for s in sources
    ]
    check_unique_outputs(tasks)
    settings = {
        **source_settings(data_root, input_kind, subjects, conditions, views),
        **editor_settings(strength, seed, steps, guidance, method),
        "max_attempts": int(max_attempts),
        "people": "one new person per source person",
        "judge_threshold": float(editor.calibration["threshold"]),
        "judge_metric": editor.calibration["metric"],
    }
    job = ClipJob.open(editor, out_root, "gait-studio anonymized dataset", settings, shard, covariate_classifier)
    scorer = job.scorer

    first_source = {}  # person → their first clip, the anchor their new identity keeps away from
    for task in tasks:
        first_source.setdefault(person_of(task), task.source)

    def pseudonyms(tasks: list[ClipTask], clips: list[GaitSequence]) -> list:
        """Per task its person's pseudonym, the same in whichever batch their clips fall."""
        from generators.editor import Pseudonym, unusable_source

        here = {t.source.key: c for t, c in zip(tasks, clips)}
        anchors = {}
        for person in dict.fromkeys(map(person_of, tasks)):
            source = first_source[person]
            try:
                anchor = here.get(source.key) or source.read()
            except GaitDataError:
                anchor = None
            anchors[person] = None if anchor is None or unusable_source(anchor) else anchor
        return [Pseudonym(clip_seed(seed, person_of(t)), anchors[person_of(t)]) for t in tasks]

    def make_batch(tasks: list[ClipTask], clips: list[GaitSequence]):
        """The whole batch anonymized together; only the clips the judge still verifies are retried."""
        from generators.editor import source_covariates
        from studio.jobs.anonymization import anonymize_until_unverified

        results = anonymize_until_unverified(
            editor,
            editor.judge,
            editor.calibration,
            clips,
            [t.seed for t in tasks],
            strength=strength,
            max_attempts=max_attempts,
            source_embeddings=scorer.embed_sources([t.source.key for t in tasks], clips),
            people=pseudonyms(tasks, clips),
            steps=steps,
            guidance=guidance,
            method=method,
        )
        made = []
        for clip, result in zip(clips, results):
            extra = {
                "leaks": bool(result.leaks),
                "judge_distance": round(result.source_distance, 5),
                "threshold": result.threshold,
                "attempts": result.attempts,
                "target_similarity_to_source": round(result.target_similarity_to_source, 5),
            }
            # the retry policy's judge embedding: the runner's scores reuse it
            made.append((result.sequence, extra, source_covariates(clip), result.judge_embedding))
        return made

    def complete(summary: JobSummary) -> AnonymizeSummary:
        leaking = [r["output"] for r in summary.sequences if r["leaks"]]
        counts = dataclasses.replace(
            summary.counts, leaks=len(leaking), anonymous=summary.counts.written - len(leaking)
        )
        if leaking:
            logger.warning(
                "%d of %d anonymized clips still verify as their source", len(leaking), len(summary.sequences)
            )
        return AnonymizeSummary.of(summary, counts=counts, leaking=leaking)

    return job.run(tasks, make_batch, progress, "anonymizing", batch_clips, complete)


__all__ = ["ANONYMOUS_PREFIX", "anonymize_dataset"]
