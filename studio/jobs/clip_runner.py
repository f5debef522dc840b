"""The runner the edit, anonymize and augment jobs share: resumable, batched, sharded.

`ClipJob.open` makes the job's output folder (`JobFolder`: resumed when it holds the same job)
and the judge's scorer of its results; `ClipJob.run` makes this process's share of the tasks a
batch of people at a time (`person_batches`), writes each clip and its manifest row as soon as it
is made, skips unreadable and unusable sources with the reason, then gathers every process's rows
and lets the main process write the manifest (`studio.jobs.job_summary`).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gaitdata import GaitDataError, write_pkl_sequence
from studio.jobs.clip_tasks import ClipTask, person_of
from studio.jobs.job_summary import JobShare, JobSummary, summarize
from studio.jobs.sharding import OPENGAIT_LAYOUT, JobFolder, Shard, current_shard, person_batches, person_groups

if TYPE_CHECKING:  # the scorer loads torch models: imported where a job starts
    from evaluation.clip_scores import ClipScorer

logger = logging.getLogger(__name__)

LAYOUT = OPENGAIT_LAYOUT

ProgressArg = Callable[[int, int], None] | bool | None


def _progress_callback(progress: ProgressArg, desc: str):
    """`progress` as `(callback(done, total), close())`: a callable as is, True → a tqdm bar."""
    if callable(progress):
        return progress, lambda: None
    if not progress:
        return (lambda done, total: None), lambda: None
    from tqdm.auto import tqdm

    bars = []  # made on the first call, when the total is known

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc=desc, unit="clip"))
        bars[0].update(done - bars[0].n)

    return update, lambda: bars and bars[0].close()


def _read_batch(batch: list[ClipTask]) -> tuple[dict, dict]:
    """The batch's sources read once each → ({source key: clip}, {output path: why it is skipped})."""
    from generators.editor import unusable_source

    clips, unreadable, reasons = {}, {}, {}
    for task in batch:
        key = task.source.key
        if key not in clips and key not in unreadable:
            try:
                clips[key] = task.source.read()
            except GaitDataError as err:
                unreadable[key] = f"unreadable: {err.problem}"
        if key in unreadable:
            reasons[task.output_path] = unreadable[key]
        elif task.action != "copy" and (problem := unusable_source(clips[key])) is not None:
            reasons[task.output_path] = problem
    return clips, reasons


def _run_tasks(
    tasks: list[ClipTask],
    job: JobFolder,
    make_batch,
    scorer: ClipScorer,
    progress: ProgressArg,
    desc: str,
    batch_clips: int,
) -> JobShare:
    """Do this process's share of the tasks not done yet, a batch of people at a time.

    `make_batch(tasks, clips)` makes a whole batch: per task (result GaitSequence, extra row
    fields, expected covariates or None[, the result's judge embedding when the job has it,
    which the scorer then uses instead of embedding the result again]). The
    batches (`person_batches`) are the same whatever the number of processes and whatever is done
    already, so each clip comes out the same in a 1-process run, a sharded one and a resumed one;
    a batch only partly written by a killed run is made again and its missing clips written.
    Unreadable, too-short and empty sources are skipped with the reason; any other error stops the job
    (naming the batch) with everything finished so far kept for a rerun. Every row is on disk as
    soon as its clip is.

    Returns:
        This process's share.
    """
    shard = job.shard
    groups = person_groups(person_batches(tasks, person_of, batch_clips), person_of)
    pending = [g for g in groups if not all(job.is_done(t.output_path) for b in g for t in b)]
    mine = shard.take(pending)
    batches = [b for g in mine for b in g]
    share = JobShare(
        shard=str(shard),
        index=shard.index + 1,
        count=shard.count,
        clips=sum(len(b) for b in batches),
        people=len({person_of(t) for b in batches for t in b}),
    )
    logger.info("%s: %d clips of %d people to make", shard, share.clips, share.people)
    update, close = _progress_callback(progress, desc if shard.count == 1 else f"{desc} ({shard})")
    total = share.clips
    done = sum(job.is_done(t.output_path) for b in batches for t in b)
    update(done, total)
    try:
        for batch in batches:
            clips, reasons = _read_batch(batch)
            for task in batch:
                if task.output_path in reasons:
                    row = {"source": task.source.path, "output": task.output_path}
                    job.append({**row, "status": "skipped", "reason": reasons[task.output_path]})
                    logger.warning("skipped %s: %s", task.source.path, reasons[task.output_path])
                    done += 1
                    update(done, total)
            runnable = [t for t in batch if t.output_path not in reasons]
            if all(job.is_done(t.output_path) for t in runnable):
                continue
            # the whole batch, finished clips too: each clip's result depends on its batch
            sources = [clips[t.source.key] for t in runnable]
            try:
                made = make_batch(runnable, sources)
            except ValueError as err:
                names = ", ".join(t.source.path for t in runnable[:3]) + (", ..." if len(runnable) > 3 else "")
                raise ValueError(f"{names}: {err}") from err
            results = []
            for task, (result, *_) in zip(runnable, made):
                subject, condition, view = task.output
                results.append(dataclasses.replace(result, subject=subject, condition=condition, view=view))
            scored = [i for i, t in enumerate(runnable) if t.action != "copy"]
            scores = dict(
                zip(
                    scored,
                    scorer.many(
                        [runnable[i].source.key for i in scored],
                        [sources[i] for i in scored],
                        [results[i] for i in scored],
                        [made[i][2] for i in scored],
                        result_embeddings=[made[i][3] if len(made[i]) > 3 else None for i in scored],
                    ),
                )
            )
            for i, (task, result, (_, extra, *_)) in enumerate(zip(runnable, results, made)):
                if job.is_done(task.output_path):
                    continue
                write_pkl_sequence(job.root, result)
                row = {
                    "source": task.source.path,
                    "output": task.output_path,
                    "status": "done",
                    "action": task.action,
                    "subject": result.subject,
                    "condition": result.condition,
                    "view": result.view,
                    "frames": result.num_frames,
                    "seed": task.seed,
                    **extra,
                }
                if scores.get(i) is not None:
                    row["scores"] = scores[i]
                job.append(row)
                done += 1
                update(done, total)
    finally:
        close()
        job.close()
    return share


def _finish(
    job: JobFolder,
    tasks: list[ClipTask],
    scorer: ClipScorer,
    share: JobShare,
    started: float,
    batch_clips: int,
    complete: Callable[[JobSummary], JobSummary] | None = None,
) -> dict:
    """Gather every process's rows, let the main process write the manifest; every process returns it.

    `complete(summary)` returns the `JobSummary` with the job's own fields added (main process
    only). The returned manifest also says, under "shard", what this process made (not written to
    the file: it differs from process to process).
    """
    this_run = job.gather()
    summary, rows = None, None
    if job.shard.is_main:
        order = {t.output_path: i for i, t in enumerate(tasks)}
        written = sorted((r for r in this_run if r["status"] == "done"), key=lambda r: order[r["output"]])
        skipped = sorted((r for r in this_run if r["status"] == "skipped"), key=lambda r: order[r["output"]])
        summary = summarize(job, tasks, written, skipped, time.perf_counter() - started, scorer, batch_clips)
        if complete is not None:
            summary = complete(summary)
        by_output = {r["output"]: r for r in skipped} | {r["output"]: r for r in summary.sequences}
        rows = [by_output[t.output_path] for t in tasks if t.output_path in by_output]
    manifest = job.finish(None if summary is None else summary.to_dict(), rows)
    logger.debug("%s: %s", job.root, manifest["counts"])
    return {**manifest, "shard": share.to_dict(main=job.shard.is_main)}


def _generator_setting(editor) -> str | None:
    """The generator folder a job's manifest names: None for the bundled one (or an editor built
    in memory), so that one job folder is never resumed with another generator."""
    import generators

    folder = getattr(editor.pipeline, "name_or_path", None)
    if folder is None:
        return None
    try:
        if Path(folder).resolve() == generators.resolve_generator(generators.BUNDLED_GENERATOR).resolve():
            return None
    except FileNotFoundError:  # no bundled generator installed
        pass
    return str(Path(folder).resolve())


@dataclass
class ClipJob:
    """A running edit, anonymize or augment job: its output folder, the scorer of its results
    (the editor's judge and calibration, and the covariate classifier), and when it started."""

    folder: JobFolder
    scorer: ClipScorer
    started: float

    @classmethod
    def open(cls, editor, out_root, kind: str, settings: dict, shard: Shard | None, covariate_classifier) -> ClipJob:
        """The job writing `out_root` (resumed when it holds an unfinished job of `kind` and
        `settings`), as this process's `shard` of it (default `current_shard()`).

        Raises:
            ValueError: `out_root` holds another job.
        """
        started = time.perf_counter()
        generator = _generator_setting(editor)
        if generator is not None:  # only when not the bundled one: older job folders resume as before
            settings = {**settings, "generator": generator}
        folder = JobFolder(Path(out_root), kind, settings, shard or current_shard(), layout=LAYOUT)
        from evaluation.clip_scores import ClipScorer

        return cls(folder, ClipScorer(editor.judge, editor.calibration, covariate_classifier), started)

    def run(
        self,
        tasks: list[ClipTask],
        make_batch,
        progress: ProgressArg,
        desc: str,
        batch_clips: int,
        complete: Callable[[JobSummary], JobSummary] | None = None,
    ) -> dict:
        """Make this process's share of `tasks` (`make_batch` as in `_run_tasks`), then finish the
        job (`complete` as in `_finish`) → the manifest, as every process returns it."""
        share = _run_tasks(tasks, self.folder, make_batch, self.scorer, progress, desc, batch_clips)
        return _finish(self.folder, tasks, self.scorer, share, self.started, batch_clips, complete)


__all__ = ["LAYOUT", "ClipJob", "ProgressArg"]
