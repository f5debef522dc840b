"""Batch faces of the editor: edit, anonymize or augment a whole dataset (or one clip).

`studio edit`, `studio anonymize`, `studio augment`, the web app and the augmentation experiment
call these. The three jobs share one way of working:

- input: an OpenGait-layout dataset root (`scan_opengait`), or a single clip (a `.pkl`, `.npz`,
  a sequence folder or a folder of mask images, read by `read_sequence`);
- output: a NEW dataset in the OpenGait layout under `out_root` (refused when it overlaps the
  input), every file written atomically;
- `manifest.jsonl`: one row per finished clip, appended and flushed to disk as soon as the clip's
  pkl is written, so a killed job resumes where it stopped; `manifest.json`: the settings while
  the job runs, the summary (counts, skipped clips with their reason, leaks, every row) at the end;
- unreadable, too-short and empty clips are skipped and counted with the reason, never fatal;
- clips are made a batch at a time (`edit_many` / `anonymize_until_unverified`, which retries only
  the clips the judge still verifies): whole people packed into batches of at most `batch_clips`
  clips, cut from the job's clip list alone (`studio.jobs.sharding.person_batches`);
- each clip's seed is derived from the job's seed and the clip's key and its pixels depend only on
  its batch, so a resumed job writes the same bytes as an uninterrupted one (a batch a kill left
  half-written is made again whole and its missing clips written);
- under `torchrun` / `accelerate launch` every process takes a share of the people and writes
  its own rows (`manifest.shard-K-of-N.jsonl`); the main process merges them, in the job's
  order, into `manifest.jsonl`: the output is byte for byte that of one process.

Generated condition names never collide with real ones: an edit of `nm-01` into a coat is stored
as `cl-gen-nm-01` (its covariates still read off the prefix, as `CasiaBProtocol`, the covariate
classifier and `scan_opengait(conditions=["cl"])` do); an edit that changes the view also names
the source view (`nm-gen-nm-01-000`); anonymized clips belong to subject `anon-<subject>`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gaitdata import GaitDataError, GaitSequence, Partition, read_partition, write_partition, write_pkl_sequence
from gaitdata.atomic import ensure_outside
from gaitdata.opengait import SequenceEntry, read_pkl_sequence, scan_opengait, sequence_pkl_path
from gaitdata.png_folder import IMAGE_SUFFIXES
from gaitdata.readers import read_sequence
from generators.settings import ANONYMIZE, EDIT
from studio.jobs.sharding import (
    BATCH_CLIPS,
    JobFolder,
    Shard,
    current_shard,
    person_batches,
    person_groups,
)

if TYPE_CHECKING:  # the scorer loads torch models: imported where a job starts
    from evaluation.clip_scores import ClipScorer

logger = logging.getLogger(__name__)

PARTITION = "partition.json"
GENERATED_TAG = "gen"  # as `evaluate_generator` labels generated clips (`cl-gen`)
ANONYMOUS_PREFIX = "anon-"  # the editor's subject name for an anonymized clip
CONDITION_TYPES = ("nm", "bg", "cl")
LAYOUT = "OpenGait: <subject>/<condition>/<view>/<view>.pkl, uint8 [T, 64, 64]"

ProgressArg = Callable[[int, int], None] | bool | None


class EditorUnavailable(FileNotFoundError):
    """A piece the editor needs (generator, identity bank, judge, calibration) is not installed."""


# ---- the editor -----------------------------------------------------------------------------
def load_editor(with_judge: bool = True, generator: str | Path | None = None):
    """The bundled `GaitEditor`: generator, its identity bank, and the judge with its calibration.

    Args:
        generator: a generator pipeline folder or bundled name (default: the bundled generator).
        with_judge: load the judge (`recognizers.load_judge()`) and its `calibration.json`, which
            anonymization and the manifests' identity scores need. False gives an editor that
            only edits (no judge, and the identity bank only if the generator ships one), e.g. to
            make augmentation data.

    Raises:
        EditorUnavailable: the generator, its identity bank, the judge or its calibration is
            missing; the message names what and where, and how to make it.
    """
    import generators
    import recognizers
    from generators.editor import GaitEditor

    try:
        pipeline = generators.load_generator(generator or generators.BUNDLED_GENERATOR)
    except FileNotFoundError as err:
        raise EditorUnavailable(
            f"generator weights not installed ({err}); train with `studio train-generator`"
        ) from None
    where = generator or generators.WEIGHTS_DIR / generators.BUNDLED_GENERATOR
    if not with_judge:
        return GaitEditor(pipeline, bank=pipeline.identity_bank)
    if pipeline.identity_bank is None:
        raise EditorUnavailable(f"{where}: the generator ships no identity_bank/, which anonymization needs")
    try:
        judge_folder = recognizers.resolve_weights(recognizers.JUDGE)
    except FileNotFoundError as err:
        raise EditorUnavailable(
            f"the judge is not installed ({err}); train it with `studio train-recognizer --config "
            "configs/recognizers/gaitset_walkers.json ...`"
        ) from None
    calibration = recognizers.load_calibration(judge_folder)
    if calibration is None:
        raise EditorUnavailable(
            f"{judge_folder}: the judge has no calibration.json (its verification threshold); make it with "
            f"`studio eval-recognizer --weights {judge_folder} --calibrate ...`"
        )
    return GaitEditor(pipeline, bank=pipeline.identity_bank, judge=recognizers.load_judge(), calibration=calibration)


def clip_seed(seed: int, *key: str) -> int:
    """The seed of one clip: a function of the job's seed and the clip's key (order-free, stable)."""
    text = "/".join([str(int(seed)), *map(str, key)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


# ---- what to read ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Source:
    """One input clip, not yet read: its key in the layout, its path for the manifest, a reader."""

    key: tuple[str, str, str]  # (subject, condition, view)
    path: str  # relative to the input root (the file name for a single clip)
    entry: SequenceEntry | None = None  # dataset clips
    file: Path | None = None  # a single clip

    def read(self) -> GaitSequence:
        if self.entry is not None:
            return read_pkl_sequence(self.entry)
        seq = read_sequence(self.file)
        return dataclasses.replace(seq, subject=self.key[0], condition=self.key[1], view=self.key[2])


def _folder_name(text: str, fallback: str) -> str:
    """A metadata value usable as one folder name of the layout."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text)).strip("._")
    return name or fallback


def _is_single_clip(path: Path) -> bool:
    if path.is_file():
        return True
    return path.is_dir() and any(
        p.is_file() and (p.suffix.lower() == ".pkl" or p.suffix.lower() in IMAGE_SUFFIXES) for p in path.iterdir()
    )


def _single_clip_key(seq: GaitSequence, path: Path) -> tuple[str, str, str]:
    """Metadata of a clip read on its own; names taken from folders are trusted only when they look
    like a layout's (a view angle, a nm/bg/cl condition), else the file's stem names the subject."""
    from generators.conditions import covariates_from_condition, parse_view

    view = condition = "unknown"
    try:
        parse_view(seq.view)
        view = seq.view
    except ValueError:
        pass
    try:
        covariates_from_condition(seq.condition)
        condition = seq.condition
    except ValueError:
        pass
    subject = seq.subject if "unknown" not in (view, condition) else path.stem
    return _folder_name(subject, "clip"), _folder_name(condition, "unknown"), _folder_name(view, "unknown")


def _input_sources(
    data_root: str | os.PathLike, subjects=None, conditions=None, views=None
) -> tuple[list[_Source], Path, str]:
    """The clips of `data_root` (a dataset root or one clip) → (sources, the input path, its kind).

    Raises:
        GaitDataError: the input does not exist, or a single clip cannot be read at all.
    """
    path = Path(data_root)
    if not path.exists():
        raise GaitDataError(path, "does not exist")
    if _is_single_clip(path):
        seq = read_sequence(path)  # a lone clip that cannot be read is an error, not a skip
        key = _single_clip_key(seq, path)
        return [_Source(key, path.name, file=path)], path, "clip"
    entries = scan_opengait(path, subjects=subjects, conditions=conditions, views=views)
    if not entries:
        wanted = {"subjects": subjects, "conditions": conditions, "views": views}
        wanted = ", ".join(f"{k} {list(v)}" for k, v in wanted.items() if v is not None)
        raise GaitDataError(
            path, "no sequence folders (<subject>/<condition>/<view>/) " + (f"of {wanted}" if wanted else "here")
        )
    sources = [_Source(e.key, e.folder.relative_to(path).as_posix(), entry=e) for e in entries]
    return sources, path, "dataset"


# ---- what to write --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Task:
    """One output clip: made from `source` by `action` ('edit', 'anonymize' or 'copy')."""

    source: _Source
    output: tuple[str, str, str]  # (subject, condition, view) of the written clip
    action: str
    seed: int
    target: dict | None = None  # an edit's covariates: view (degrees or None), clothing, carrying

    @property
    def output_path(self) -> str:
        return sequence_pkl_path("", *self.output).as_posix()


def _covariates_of(condition: str, view: str) -> dict:
    """What a clip's names state: view degrees, clothing, carrying (None where unknown)."""
    from generators.conditions import covariates_from_condition, parse_view

    out = {"view": None, "clothing": None, "carrying": None}
    try:
        out["view"] = parse_view(view)
    except ValueError:
        pass
    try:
        cov = covariates_from_condition(condition)
        out["clothing"], out["carrying"] = cov.clothing, cov.carrying
    except ValueError:
        pass
    return out


def _edit_task(source: _Source, view, clothing, carrying, seed: int, name_view: bool, tag: str = "") -> _Task:
    """The edit of `source` into the given covariates (None keeps the source's), named so that it
    cannot collide with a real clip or another edit."""
    from generators.conditions import (
        CARRYING,
        CLOTHING,
        Covariates,
        carrying_index,
        clothing_index,
        parse_view,
        view_name,
    )

    subject, condition, source_view = source.key
    target = _covariates_of(condition, source_view)
    if view is not None:
        target["view"] = parse_view(view)
    if clothing is not None:
        target["clothing"] = CLOTHING[clothing_index(clothing)]  # validated, aliases ('cl') named in full
    if carrying is not None:
        target["carrying"] = CARRYING[carrying_index(carrying)]
    kind = Covariates(clothing=target["clothing"], carrying=target["carrying"]).condition_type()
    new_condition = f"{kind}-{GENERATED_TAG}-{condition}" + (f"-{source_view}" if name_view else "")
    new_view = view_name(target["view"]) if view is not None else source_view
    return _Task(source, (subject, new_condition, new_view), "edit", clip_seed(seed, *source.key, tag), target)


def _check_unique(tasks: list[_Task]) -> None:
    seen: dict[str, str] = {}
    for task in tasks:
        path = task.output_path
        if path in seen:
            raise ValueError(f"{task.source.path} and {seen[path]} would both be written to {path}")
        seen[path] = task.source.path


def _check_settings(strength: float, steps: int, method: str) -> None:
    """The editor's settings, checked once for the whole job rather than failing on every clip."""
    from generators.editor import METHODS

    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], got {strength}")
    if not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


# ---- the shared runner ----------------------------------------------------------------------
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


def _person(task: _Task) -> str:
    return task.source.key[0]


def _read_batch(batch: list[_Task]) -> tuple[dict, dict]:
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
    tasks: list[_Task],
    job: JobFolder,
    pipeline,
    make_batch,
    scorer: ClipScorer,
    progress: ProgressArg,
    desc: str,
    batch_clips: int,
) -> dict:
    """Do this process's share of the tasks not done yet, a batch of people at a time.

    `pipeline` is the editor's generation pipeline; `make_batch(tasks, clips)` makes a whole
    batch: per task (result GaitSequence, extra row fields, expected covariates or None). The
    batches (`person_batches`) are the same whatever the number of processes and whatever is done
    already, so each clip comes out the same in a 1-process run, a sharded one and a resumed one;
    a batch only partly written by a killed run is made again and its missing clips written.
    Unreadable, too-short and empty sources are skipped with the reason; any other error stops the job
    (naming the batch) with everything finished so far kept for a rerun. Every row is on disk as
    soon as its clip is.

    Returns:
        This process's share: `{"shard", "index", "count", "clips", "people"}`.
    """
    shard = job.shard
    groups = person_groups(person_batches(tasks, _person, batch_clips), _person)
    pending = [g for g in groups if not all(job.is_done(t.output_path) for b in g for t in b)]
    mine = shard.take(pending)
    batches = [b for g in mine for b in g]
    share = {
        "shard": str(shard),
        "index": shard.index + 1,
        "count": shard.count,
        "clips": sum(len(b) for b in batches),
        "people": len({_person(t) for b in batches for t in b}),
    }
    logger.info("%s: %d clips of %d people to make", shard, share["clips"], share["people"])
    update, close = _progress_callback(progress, desc if shard.count == 1 else f"{desc} ({shard})")
    total = share["clips"]
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
            for task, (result, _, _) in zip(runnable, made):
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
                    ),
                )
            )
            for i, (task, result, (_, extra, _)) in enumerate(zip(runnable, results, made)):
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
    job: JobFolder, tasks: list[_Task], scorer: ClipScorer, share: dict, started: float, batch_clips: int, complete=None
) -> dict:
    """Gather every process's rows, let the main process write the manifest; every process returns it.

    `complete(summary)` adds a job's own fields to the summary (main process only). The returned
    manifest also says, under "shard", what this process made (not written to the file: it
    differs from process to process).
    """
    this_run = job.gather()
    summary, rows = None, None
    if job.shard.is_main:
        order = {t.output_path: i for i, t in enumerate(tasks)}
        written = sorted((r for r in this_run if r["status"] == "done"), key=lambda r: order[r["output"]])
        skipped = sorted((r for r in this_run if r["status"] == "skipped"), key=lambda r: order[r["output"]])
        summary = _summary(job, tasks, written, skipped, time.perf_counter() - started, scorer)
        summary["batch_clips"] = int(batch_clips)
        summary["processes"] = job.shard.count
        if complete is not None:
            summary = complete(summary)
        by_output = {r["output"]: r for r in skipped} | {r["output"]: r for r in summary["sequences"]}
        rows = [by_output[t.output_path] for t in tasks if t.output_path in by_output]
    manifest = job.finish(summary, rows)
    logger.debug("%s: %s", job.root, manifest["counts"])
    return {**manifest, "shard": {**share, "main": job.shard.is_main}}


def _summary(job: JobFolder, tasks: list[_Task], written, skipped, seconds: float, scorer) -> dict:
    """Counts, skipped clips, and every finished row (this run's and earlier runs')."""
    rows = [job.rows[t.output_path] for t in tasks if job.is_done(t.output_path)]
    generated = [r for r in rows if r["action"] != "copy"]
    counts = {
        "clips": len(tasks),
        "written": len(rows),
        "written_this_run": len(written),
        "resumed": job.resumed,
        "skipped": len(skipped),
    }
    identity = [r["scores"]["identity"] for r in generated if r.get("scores")]
    if identity and "same_person" in identity[0]:
        counts["verified_as_source"] = sum(s["same_person"] for s in identity)
    covariates = [r["scores"]["covariates"] for r in generated if r.get("scores") and r["scores"]["covariates"]]
    verdicts = [c["all_match"] for c in covariates if c["all_match"] is not None]
    if verdicts:
        counts["covariates_match"] = sum(verdicts)
        counts["covariates_scored"] = len(verdicts)
    summary = {
        "counts": counts,
        "skipped": [{"source": r["source"], "output": r["output"], "reason": r["reason"]} for r in skipped],
        "mean_judge_cosine": round(float(np.mean([s["cosine"] for s in identity])), 4) if identity else None,
        "covariates_unavailable": scorer.unavailable,
        "seconds": round(seconds, 2),
        "clips_per_second": round(len(written) / seconds, 3) if written and seconds > 0 else None,
        "sequences": rows,
    }
    return summary


def _edit_maker(editor, strength, steps, guidance, method):
    """`make_batch` of edits: one `edit_many` call for the batch (copies pass through)."""
    from generators.editor import source_covariates

    def make_batch(tasks: list[_Task], clips: list[GaitSequence]):
        edits = [i for i, t in enumerate(tasks) if t.action == "edit"]
        made = {}
        if edits:
            targets = [tasks[i].target for i in edits]
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*requested covariates equal the source")
                results = editor.edit_many(
                    [clips[i] for i in edits],
                    view=[t["view"] for t in targets],
                    clothing=[t["clothing"] for t in targets],
                    carrying=[t["carrying"] for t in targets],
                    strength=strength,
                    steps=steps,
                    guidance=guidance,
                    seeds=[tasks[i].seed for i in edits],
                    method=method,
                )
            for i, result in zip(edits, results):
                extra = {"target": tasks[i].target}
                if tasks[i].target == source_covariates(clips[i]):  # the editor's no-op warning
                    extra["note"] = "covariates already as requested: re-rendered"
                made[i] = (result, extra, tasks[i].target)
        return [made.get(i, (clip, {}, None)) for i, clip in enumerate(clips)]

    return make_batch


def _source_settings(data_root, kind, subjects, conditions, views) -> dict:
    return {
        "input": str(Path(data_root).resolve()),
        "input_kind": kind,
        "subjects": None if subjects is None else sorted(map(str, subjects)),
        "conditions": None if conditions is None else list(map(str, conditions)),
        "views": None if views is None else list(map(str, views)),
    }


# ---- edit -----------------------------------------------------------------------------------
def edit_dataset(
    editor,
    data_root: str | os.PathLike,
    out_root: str | os.PathLike,
    *,
    view: float | str | None = None,
    clothing: str | None = None,
    carrying: str | None = None,
    strength: float = EDIT.strength,
    seed: int = 0,
    steps: int = EDIT.steps,
    subjects: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    guidance: float = EDIT.guidance,
    method: str = EDIT.method,
    covariate_classifier="auto",
    progress: ProgressArg = None,
    batch_clips: int = BATCH_CLIPS,
    shard: Shard | None = None,
) -> dict:
    """Edit every clip of a dataset (or one clip) into new covariates, identity and motion kept.

    Args:
        editor: a `GaitEditor` (`load_editor()`); with a judge, each row gets its scores.
        data_root: an OpenGait-layout dataset root, or one clip (`.pkl`, `.npz`, sequence or
            PNG folder).
        out_root: the new dataset (`<subject>/<kind>-gen-<condition>[-<source view>]/<view>/<view>.pkl`,
            `manifest.json`, `manifest.jsonl`); never inside `data_root`. A folder holding an
            interrupted run with the same settings is resumed.
        view, clothing, carrying: the new covariates (None keeps each clip's own); at least one.
        strength, steps, guidance, method: the editor's settings (`GaitEditor.edit`).
        seed: each clip's seed is derived from it and the clip's key (`clip_seed`).
        subjects, conditions, views: keep only these clips of a dataset (as `scan_opengait`).
        covariate_classifier: "auto" (the bundled one when installed), a `CovariateClassifier`,
            or None.
        progress: `progress(done, total)` after each clip of this process's share, or True for
            a tqdm bar.
        batch_clips: clips made together (whole people packed into batches of at most this many;
            `studio.jobs.sharding.person_batches`). A clip's pixels depend on its batch (by
            the float rounding of batched arithmetic), so runs with the same `batch_clips` write
            the same bytes, in any number of processes.
        shard: this process's share of the job; default `current_shard()` (the whole job when run
            alone, a share of the people under `torchrun` / `accelerate launch`).

    Returns:
        The manifest (also `out_root/manifest.json`): settings, counts (`clips`, `written`,
        `written_this_run`, `resumed`, `skipped`, and when scored `verified_as_source`,
        `covariates_match`), `skipped` (source, reason), and per clip a row: source and output
        paths, frames, seed, target covariates, `scores` (judge cosine similarity and
        verification verdict against the source, the covariate classifier's reading).

    Raises:
        ValueError: nothing to edit, bad covariates or settings, an output folder overlapping the
            input or holding another job.
        GaitDataError: the input does not exist (or a single clip cannot be read).
    """
    if view is None and clothing is None and carrying is None:
        raise ValueError("nothing to edit: give a view, clothing or carrying")
    _check_settings(strength, steps, method)
    sources, input_path, input_kind = _input_sources(data_root, subjects, conditions, views)
    ensure_outside(out_root, input_path)
    tasks = [_edit_task(s, view, clothing, carrying, seed, name_view=view is not None) for s in sources]
    _check_unique(tasks)
    settings = {
        **_source_settings(data_root, input_kind, subjects, conditions, views),
        "view": None if view is None else str(view),
        "clothing": clothing,
        "carrying": carrying,
        "strength": float(strength),
        "seed": int(seed),
        "steps": int(steps),
        "guidance": float(guidance),
        "method": method,
    }
    started = time.perf_counter()
    job = JobFolder(Path(out_root), "gait-studio edited dataset", settings, shard or current_shard(), layout=LAYOUT)
    from evaluation.clip_scores import ClipScorer

    scorer = ClipScorer(editor.judge, editor.calibration, covariate_classifier)
    make_batch = _edit_maker(editor, strength, steps, guidance, method)
    share = _run_tasks(tasks, job, editor.pipeline, make_batch, scorer, progress, "editing", batch_clips)
    return _finish(job, tasks, scorer, share, started, batch_clips)


# ---- anonymize ------------------------------------------------------------------------------
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
    _check_settings(strength, steps, method)
    if float(strength) == 0.0:
        raise ValueError("strength 0 would return the sources themselves, which are not anonymous")
    if editor.judge is None or editor.calibration is None:
        raise ValueError("anonymization needs the judge and its calibration to measure leakage (load_editor())")
    if editor.bank is None:
        raise ValueError("anonymization needs an identity bank to draw new identities from")
    sources, input_path, input_kind = _input_sources(data_root, subjects, conditions, views)
    ensure_outside(out_root, input_path)
    tasks = [
        _Task(s, (f"{ANONYMOUS_PREFIX}{s.key[0]}", s.key[1], s.key[2]), "anonymize", clip_seed(seed, *s.key))
        for s in sources
    ]
    _check_unique(tasks)
    settings = {
        **_source_settings(data_root, input_kind, subjects, conditions, views),
        "strength": float(strength),
        "seed": int(seed),
        "steps": int(steps),
        "guidance": float(guidance),
        "method": method,
        "max_attempts": int(max_attempts),
        "people": "one new person per source person",
        "judge_threshold": float(editor.calibration["threshold"]),
        "judge_metric": editor.calibration["metric"],
    }
    started = time.perf_counter()
    kind = "gait-studio anonymized dataset"
    job = JobFolder(Path(out_root), kind, settings, shard or current_shard(), layout=LAYOUT)
    from evaluation.clip_scores import ClipScorer

    scorer = ClipScorer(editor.judge, editor.calibration, covariate_classifier)

    first_source = {}  # person → their first clip, the anchor their new identity keeps away from
    for task in tasks:
        first_source.setdefault(_person(task), task.source)

    def pseudonyms(tasks: list[_Task], clips: list[GaitSequence]) -> list:
        """Per task its person's pseudonym, the same in whichever batch their clips fall."""
        from generators.editor import Pseudonym, unusable_source

        here = {t.source.key: c for t, c in zip(tasks, clips)}
        anchors = {}
        for person in dict.fromkeys(map(_person, tasks)):
            source = first_source[person]
            try:
                anchor = here.get(source.key) or source.read()
            except GaitDataError:
                anchor = None
            anchors[person] = None if anchor is None or unusable_source(anchor) else anchor
        return [Pseudonym(clip_seed(seed, _person(t)), anchors[_person(t)]) for t in tasks]

    def make_batch(tasks: list[_Task], clips: list[GaitSequence]):
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
        scorer.remember([r.sequence for r in results], [r.judge_embedding for r in results])
        made = []
        for clip, result in zip(clips, results):
            extra = {
                "leaks": bool(result.leaks),
                "judge_distance": round(result.source_distance, 5),
                "threshold": result.threshold,
                "attempts": result.attempts,
                "target_similarity_to_source": round(result.target_similarity_to_source, 5),
            }
            made.append((result.sequence, extra, source_covariates(clip)))
        return made

    def complete(summary: dict) -> dict:
        leaking = [r["output"] for r in summary["sequences"] if r["leaks"]]
        summary["counts"].update(leaks=len(leaking), anonymous=summary["counts"]["written"] - len(leaking))
        summary["leaking"] = leaking
        if leaking:
            logger.warning(
                "%d of %d anonymized clips still verify as their source", len(leaking), len(summary["sequences"])
            )
        return summary

    share = _run_tasks(tasks, job, editor.pipeline, make_batch, scorer, progress, "anonymizing", batch_clips)
    return _finish(job, tasks, scorer, share, started, batch_clips, complete)


# ---- augment --------------------------------------------------------------------------------
def _condition_types(add_conditions) -> list[str]:
    if isinstance(add_conditions, str):
        add_conditions = add_conditions.replace(",", " ").split()
    kinds = [str(c).lower() for c in add_conditions]
    bad = [c for c in kinds if c not in CONDITION_TYPES]
    if not kinds or bad:
        raise ValueError(
            f"add_conditions must be condition types of {', '.join(CONDITION_TYPES)}, got {add_conditions!r}"
        )
    return list(dict.fromkeys(kinds))


def augment_dataset(
    editor,
    data_root: str | os.PathLike,
    partition: str | os.PathLike | Partition,
    out_root: str | os.PathLike,
    *,
    add_conditions: Sequence[str] = ("cl",),
    views: Sequence[str] | None = None,
    strength: float = 0.8,
    seed: int = 0,
    steps: int = EDIT.steps,
    sources: str | Sequence[str] = "nm",
    include_real: bool = False,
    guidance: float = EDIT.guidance,
    method: str = EDIT.method,
    covariate_classifier="auto",
    progress: ProgressArg = None,
    batch_clips: int = BATCH_CLIPS,
    shard: Shard | None = None,
) -> dict:
    """Edit every TRAINING subject's clips into new conditions: an augmentation set for any OpenGait trainer.

    For each subject of the partition's TRAIN_SET, each source clip (by default its NM clips; the
    given views or all) is edited into each requested condition type, identity and motion kept:
    `nm-01` into a coat becomes `<subject>/cl-gen-nm-01/<view>/<view>.pkl`. The names never
    collide with real conditions and keep the type prefix the trainer's reader, the covariate
    classifier and `scan_opengait(conditions=["cl"])` read.

    Args:
        editor: a `GaitEditor` (`load_editor(with_judge=False)` is enough; with a judge each row
            gets its scores).
        data_root: the real dataset in the OpenGait layout.
        partition: its partition (a `Partition` or a partition JSON); only TRAIN_SET is used.
        out_root: the augmentation set: the generated clips, `partition.json` (TRAIN_SET = the
            training subjects written, TEST_SET empty), `manifest.json`, `manifest.jsonl`; never
            inside `data_root`; resumed like `edit_dataset`.
        add_conditions: condition types to make (`nm`, `bg`, `cl`; or "cl,bg").
        views: source views to edit (None: all); views are kept.
        strength, seed, steps, guidance, method: the editor's settings (per-clip seeds derive
            from `seed`, the clip and the condition made).
        sources: source conditions (types like "nm", names like "nm-01", or a list of them).
        include_real: also write the training subjects' real clips (of `views`, all conditions;
            read by the safe reader and rewritten, never linked), so the folder alone is a
            complete training set.
        covariate_classifier, progress: as in `edit_dataset`.

    Returns:
        The manifest, as `edit_dataset`'s, plus `conditions_added` and `subjects`.
    """
    kinds = _condition_types(add_conditions)
    _check_settings(strength, steps, method)
    from generators.conditions import CONDITION_COVARIATES

    source_conditions = sources.replace(",", " ").split() if isinstance(sources, str) else [str(s) for s in sources]
    if not source_conditions:
        raise ValueError("sources: name at least one source condition (e.g. 'nm')")
    data_root = Path(data_root)
    if not data_root.is_dir():
        raise GaitDataError(data_root, "does not exist or is not a dataset folder")
    split = partition if isinstance(partition, Partition) else read_partition(partition)
    ensure_outside(out_root, data_root)
    entries = scan_opengait(data_root, subjects=split.train, conditions=source_conditions, views=views)
    if not entries:
        raise GaitDataError(
            data_root,
            f"no {'/'.join(source_conditions)} clips of the training subjects to edit (views: {views or 'all'})",
        )
    tasks = []
    for entry in entries:
        source = _Source(entry.key, entry.folder.relative_to(data_root).as_posix(), entry=entry)
        for kind in kinds:
            clothing, carrying = CONDITION_COVARIATES[kind]
            tasks.append(_edit_task(source, None, clothing, carrying, seed, name_view=False, tag=kind))
    if include_real:
        for entry in scan_opengait(data_root, subjects=split.train, views=views):
            source = _Source(entry.key, entry.folder.relative_to(data_root).as_posix(), entry=entry)
            tasks.append(_Task(source, entry.key, "copy", 0))
    _check_unique(tasks)
    settings = {
        "input": str(data_root.resolve()),
        "train_subjects": sorted(split.train),
        "add_conditions": kinds,
        "sources": source_conditions,
        "views": None if views is None else list(map(str, views)),
        "include_real": bool(include_real),
        "strength": float(strength),
        "seed": int(seed),
        "steps": int(steps),
        "guidance": float(guidance),
        "method": method,
    }
    started = time.perf_counter()
    job = JobFolder(Path(out_root), "gait-studio augmentation set", settings, shard or current_shard(), layout=LAYOUT)
    from evaluation.clip_scores import ClipScorer

    scorer = ClipScorer(editor.judge, editor.calibration, covariate_classifier)
    make_batch = _edit_maker(editor, strength, steps, guidance, method)

    def complete(summary: dict) -> dict:
        subjects = sorted({r["subject"] for r in summary["sequences"]})
        missing = sorted(set(split.train) - {t.source.key[0] for t in tasks})
        write_partition(Path(out_root) / PARTITION, Partition(train=subjects, test=[]))
        summary.update(
            conditions_added=[f"{k}-{GENERATED_TAG}-*" for k in kinds],
            subjects=subjects,
            train_subjects_without_sources=missing,
            partition=PARTITION,
        )
        summary["counts"]["real_copied"] = sum(r["action"] == "copy" for r in summary["sequences"])
        return summary

    share = _run_tasks(tasks, job, editor.pipeline, make_batch, scorer, progress, "augmenting", batch_clips)
    return _finish(job, tasks, scorer, share, started, batch_clips, complete)


__all__ = [
    "EditorUnavailable",
    "anonymize_dataset",
    "augment_dataset",
    "clip_seed",
    "edit_dataset",
    "load_editor",
]
