"""The typed summary of an edit, anonymize or augment job: what its `manifest.json` says.

`summarize` builds a `JobSummary` (counts, skipped clips, the judge's mean score, every finished
row) from a finished `JobFolder`; the anonymize and augment jobs extend it with their own fields
(`AnonymizeSummary`, `AugmentSummary`). `to_dict()` is exactly the JSON-ready dict the manifest
holds, keys in the order it lists them; `JobShare` is what one process made of the job.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from studio.jobs.clip_tasks import ClipTask
from studio.jobs.sharding import JobFolder

if TYPE_CHECKING:  # the scorer loads torch models: imported where a job starts
    from evaluation.clip_scores import ClipScorer


@dataclass
class JobCounts:
    """The manifest's `counts`; a count the job did not measure (None) is left out of `to_dict()`.

    Attributes:
        clips: tasks of the job; written: finished clips (this run's and earlier runs');
        written_this_run, resumed (finished by earlier runs), skipped (unreadable, too short, empty).
        verified_as_source: clips the judge still verifies as their source (when it scored them).
        covariates_match, covariates_scored: clips whose covariates read as requested, of those read.
        leaks, anonymous: anonymized clips still verified as their source, and the others.
        real_copied: real clips an augmentation set copied alongside the generated ones.
    """

    clips: int
    written: int
    written_this_run: int
    resumed: int
    skipped: int
    verified_as_source: int | None = None
    covariates_match: int | None = None
    covariates_scored: int | None = None
    leaks: int | None = None
    anonymous: int | None = None
    real_copied: int | None = None

    def to_dict(self) -> dict:
        return {f.name: value for f in dataclasses.fields(self) if (value := getattr(self, f.name)) is not None}


@dataclass
class JobSummary:
    """What an edit, anonymize or augment job wrote (`manifest.json` less kind, layout, status, settings).

    Attributes:
        counts: the job's `JobCounts`.
        skipped: per skipped clip `{"source", "output", "reason"}`.
        mean_judge_cosine: the judge's mean cosine similarity of results to sources (None unscored).
        covariates_unavailable: why the covariate classifier did not score (None when it did).
        seconds, clips_per_second: this run's time and rate (None when it wrote nothing).
        sequences: every finished row, in the job's order.
        batch_clips: the most clips made together; processes: how many shared the job.
    """

    counts: JobCounts
    skipped: list[dict]
    mean_judge_cosine: float | None
    covariates_unavailable: str | None
    seconds: float
    clips_per_second: float | None
    sequences: list[dict]
    batch_clips: int
    processes: int

    @classmethod
    def of(cls, summary: JobSummary, **fields) -> JobSummary:
        """`summary` as this (sub)class, with `fields` set or added."""
        return cls(**{f.name: getattr(summary, f.name) for f in dataclasses.fields(summary)} | fields)

    def to_dict(self) -> dict:
        """The manifest's summary, keys in the order `manifest.json` lists them."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)} | {"counts": self.counts.to_dict()}


@dataclass
class AnonymizeSummary(JobSummary):
    """An anonymization's summary, plus `leaking`: the output paths the judge still verifies."""

    leaking: list[str]


@dataclass
class AugmentSummary(JobSummary):
    """An augmentation set's summary, plus the condition names added (`cl-gen-*`), the subjects
    written, the training subjects that had no source clip, and the partition file written."""

    conditions_added: list[str]
    subjects: list[str]
    train_subjects_without_sources: list[str]
    partition: str


@dataclass(frozen=True)
class JobShare:
    """One process's share of a job: its shard (`"K/N"`), index, count, and the clips and people it made."""

    shard: str
    index: int
    count: int
    clips: int
    people: int

    def to_dict(self, main: bool) -> dict:
        """The manifest's `shard`, with whether this process is the main one."""
        return {**dataclasses.asdict(self), "main": main}


def summarize(
    job: JobFolder, tasks: list[ClipTask], written, skipped, seconds: float, scorer: ClipScorer, batch_clips: int
) -> JobSummary:
    """Counts, skipped clips, and every finished row (this run's and earlier runs')."""
    rows = [job.rows[t.output_path] for t in tasks if job.is_done(t.output_path)]
    generated = [r for r in rows if r["action"] != "copy"]
    counts = JobCounts(
        clips=len(tasks), written=len(rows), written_this_run=len(written), resumed=job.resumed, skipped=len(skipped)
    )
    identity = [r["scores"]["identity"] for r in generated if r.get("scores")]
    if identity and "same_person" in identity[0]:
        counts.verified_as_source = sum(s["same_person"] for s in identity)
    covariates = [r["scores"]["covariates"] for r in generated if r.get("scores") and r["scores"]["covariates"]]
    verdicts = [c["all_match"] for c in covariates if c["all_match"] is not None]
    if verdicts:
        counts.covariates_match = sum(verdicts)
        counts.covariates_scored = len(verdicts)
    return JobSummary(
        counts=counts,
        skipped=[{"source": r["source"], "output": r["output"], "reason": r["reason"]} for r in skipped],
        mean_judge_cosine=round(float(np.mean([s["cosine"] for s in identity])), 4) if identity else None,
        covariates_unavailable=scorer.unavailable,
        seconds=round(seconds, 2),
        clips_per_second=round(len(written) / seconds, 3) if written and seconds > 0 else None,
        sequences=rows,
        batch_clips=int(batch_clips),
        processes=job.shard.count,
    )


__all__ = ["AnonymizeSummary", "AugmentSummary", "JobCounts", "JobShare", "JobSummary", "summarize"]
