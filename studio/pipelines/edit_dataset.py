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
- unreadable and too-short clips are skipped and counted with the reason, never fatal;
- each clip's seed is derived from the job's seed and the clip's key, so a resumed job writes the
  same clips as an uninterrupted one, in any order.

Generated condition names never collide with real ones: an edit of `nm-01` into a coat is stored
as `cl-gen-nm-01` (its covariates still read off the prefix, as `CasiaBProtocol`, the covariate
classifier and `scan_opengait(conditions=["cl"])` do); an edit that changes the view also names
the source view (`nm-gen-nm-01-000`); anonymized clips belong to subject `anon-<subject>`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from studio.data import GaitDataError, GaitSequence, Partition, read_partition, write_partition, write_pkl_sequence
from studio.data.atomic import atomic_write_text, ensure_outside
from studio.data.opengait import SequenceEntry, read_pkl_sequence, scan_opengait, sequence_pkl_path
from studio.data.png_folder import IMAGE_SUFFIXES
from studio.data.readers import read_sequence

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_ROWS = "manifest.jsonl"
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


# ---- the output folder: settings, rows, resume ----------------------------------------------
def _json_ready(value):
    """Plain JSON (no NaN / Infinity, which strict readers refuse): non-finite floats become None."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


class _JobFolder:
    """`out_root` of one batch job: its settings, the clips finished so far, and rows that survive a kill.

    A folder holding a job of the same kind and settings is resumed; anything else that is not
    empty is refused, so two jobs never mix in one dataset.
    """

    def __init__(self, out_root: Path, kind: str, settings: dict):
        self.root = out_root
        self.kind = kind
        self.settings = _json_ready(json.loads(json.dumps(settings)))  # as it reads back from JSON
        manifest = out_root / MANIFEST
        if manifest.is_file():
            try:
                previous = json.loads(manifest.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise GaitDataError(manifest, f"not valid JSON ({err}); choose another output folder") from None
            if previous.get("kind") != kind or previous.get("settings") != self.settings:
                raise ValueError(f"{out_root}: {self._differences(previous)}; choose another output folder")
        elif out_root.exists() and any(out_root.iterdir()):
            raise ValueError(f"{out_root}: folder is not empty and holds no {MANIFEST} of an earlier run")
        out_root.mkdir(parents=True, exist_ok=True)
        self.rows = self._finished_rows()
        self.resumed = len(self.rows)
        # a kill can leave half a line: keep the whole rows, then append after them
        atomic_write_text(out_root / MANIFEST_ROWS, "".join(json.dumps(r) + "\n" for r in self.rows.values()))
        self._write_manifest({"status": "running"})
        self._file = None  # opened on the first row

    def _differences(self, previous: dict) -> str:
        if previous.get("kind") != self.kind:
            return f"holds a {previous.get('kind')!r} job, not a {self.kind!r} one"
        old = previous.get("settings", {})
        changed = sorted(k for k in set(old) | set(self.settings) if old.get(k) != self.settings.get(k))
        detail = ", ".join(f"{k}: {old.get(k)!r} then, {self.settings.get(k)!r} now" for k in changed[:4])
        return f"holds an earlier run with other settings ({detail})"

    def _finished_rows(self) -> dict[str, dict]:
        """Rows of clips written by earlier runs whose pkl is still there (skips are retried)."""
        path = self.root / MANIFEST_ROWS
        rows: dict[str, dict] = {}
        if not path.is_file():
            return rows
        for line in path.read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # the half-written last line of a killed run
            if isinstance(row, dict) and row.get("status") == "done" and (self.root / row["output"]).is_file():
                rows[row["output"]] = row
        return rows

    def _write_manifest(self, body: dict) -> None:
        data = {"kind": self.kind, "layout": LAYOUT, **body, "settings": self.settings}
        atomic_write_text(self.root / MANIFEST, json.dumps(data, indent=1) + "\n")

    def is_done(self, task: _Task) -> bool:
        return task.output_path in self.rows

    def append(self, row: dict) -> None:
        """Record a finished (or skipped) clip; on disk before the next clip starts."""
        row = _json_ready(row)
        if row["status"] == "done":
            self.rows[row["output"]] = row
        if self._file is None:
            self._file = open(self.root / MANIFEST_ROWS, "a")  # noqa: SIM115 (closed by close())
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def finish(self, summary: dict) -> dict:
        self.close()
        manifest = {"kind": self.kind, "layout": LAYOUT, "status": "complete", **summary, "settings": self.settings}
        manifest = _json_ready(manifest)
        atomic_write_text(self.root / MANIFEST, json.dumps(manifest, indent=1, allow_nan=False) + "\n")
        return manifest

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# ---- scores ---------------------------------------------------------------------------------
class _Scorer:
    """The judge's scores of a result against its source, and the covariate classifier's reading.

    Args:
        judge, calibration: the editor's (None: no identity scores).
        covariate_classifier: a `CovariateClassifier`, None for none, or "auto" for the bundled
            one when it is installed and reads this judge's embeddings.
    """

    def __init__(self, judge, calibration, covariate_classifier="auto"):
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
            self.unavailable = None if covariate_classifier is not None else "not requested"
        self._source_key, self._source_embedding = None, None

    def embed_source(self, key, seq: GaitSequence) -> np.ndarray:
        if self._source_key != key:  # one source often makes several results (augmentation)
            self._source_key, self._source_embedding = key, self.judge.embed(seq)
        return self._source_embedding

    def __call__(self, key, source: GaitSequence, result: GaitSequence, expected: dict | None) -> dict | None:
        """`{"identity": {cosine, distance, threshold, same_person, ...}, "covariates": {...} or None}`."""
        if self.judge is None:
            return None
        from evaluation.clip_scores import covariate_verdict, identity_similarity

        source_embedding = self.embed_source(key, source)
        embedding = self.judge.embed(result)
        scores = {"identity": identity_similarity(source_embedding, embedding, self.calibration), "covariates": None}
        if self.classifier is not None:
            config = self.classifier.config
            if tuple(embedding.shape) != (config.in_channels, config.parts_num):
                self.unavailable = (
                    f"the covariate classifier reads [{config.in_channels}, {config.parts_num}] embeddings of "
                    f"{config.judge}, this judge gives {list(embedding.shape)}"
                )
                self.classifier = None
            else:
                expected = {k: v for k, v in (expected or {}).items() if k in ("view", "clothing", "carrying")}
                scores["covariates"] = covariate_verdict(self.classifier, embedding, expected)
        return scores


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


def _run_tasks(tasks: list[_Task], job: _JobFolder, run_one, scorer, progress: ProgressArg, desc: str):
    """Do every task not done yet; returns (rows written now, skipped rows, seconds spent).

    `run_one(task, seq) -> (result GaitSequence, extra row fields)` makes one result. Unreadable
    and too-short sources are skipped with the reason; any other error stops the job (naming the
    clip) with everything finished so far kept for a rerun.
    """
    from generators.editor import MIN_FRAMES

    update, close = _progress_callback(progress, desc)
    total, done = len(tasks), sum(job.is_done(t) for t in tasks)
    written, skipped = [], []
    started = time.perf_counter()
    update(done, total)
    by_source: dict[tuple, list[_Task]] = {}
    for task in tasks:
        by_source.setdefault(task.source.key, []).append(task)
    try:
        for group in by_source.values():
            pending = [t for t in group if not job.is_done(t)]
            if not pending:
                continue
            source = pending[0].source
            seq, unreadable = None, None
            try:
                seq = source.read()
            except GaitDataError as err:
                unreadable = f"unreadable: {err.problem}"
            for task in pending:
                row = {"source": source.path, "output": task.output_path}
                reason = unreadable
                if seq is not None and task.action != "copy" and seq.num_frames < MIN_FRAMES:
                    reason = f"too short: {seq.num_frames} frames, at least {MIN_FRAMES} are needed"
                if reason is not None:
                    row.update(status="skipped", reason=reason)
                    skipped.append(row)
                    logger.warning("skipped %s: %s", source.path, reason)
                else:
                    clip_started = time.perf_counter()
                    try:
                        result, extra = run_one(task, seq)
                    except ValueError as err:
                        raise ValueError(f"{source.path}: {err}") from err
                    subject, condition, view = task.output
                    result = dataclasses.replace(result, subject=subject, condition=condition, view=view)
                    write_pkl_sequence(job.root, result)
                    expected = task.target if task.action == "edit" else extra.pop("expected", None)
                    scores = None if task.action == "copy" else scorer(source.key, seq, result, expected)
                    row.update(
                        status="done",
                        action=task.action,
                        subject=subject,
                        condition=condition,
                        view=view,
                        frames=result.num_frames,
                        seed=task.seed,
                        **extra,
                    )
                    if scores is not None:
                        row["scores"] = scores
                    row["seconds"] = round(time.perf_counter() - clip_started, 3)  # making, writing, scoring
                    written.append(row)
                job.append(row)
                done += 1
                update(done, total)
    finally:
        close()
        job.close()
    return written, skipped, time.perf_counter() - started


def _summary(job: _JobFolder, tasks: list[_Task], written, skipped, seconds: float, scorer) -> dict:
    """Counts, skipped clips, and every finished row (this run's and earlier runs')."""
    rows = [job.rows[t.output_path] for t in tasks if job.is_done(t)]
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


def _edit_runner(editor, strength, steps, guidance, method):
    def run_one(task: _Task, seq: GaitSequence):
        target = task.target
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = editor.edit(
                seq,
                view=target["view"],
                clothing=target["clothing"],
                carrying=target["carrying"],
                strength=strength,
                steps=steps,
                guidance=guidance,
                seed=task.seed,
                method=method,
            )
        extra = {"target": target}
        if any("equal the source" in str(w.message) for w in caught):
            extra["note"] = "covariates already as requested: re-rendered"
        return result, extra

    return run_one


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
    strength: float = 0.7,
    seed: int = 0,
    steps: int = 20,
    subjects: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    guidance: float = 2.0,
    method: str = "invert",
    covariate_classifier="auto",
    progress: ProgressArg = None,
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
        progress: `progress(done, total)` after each clip, or True for a tqdm bar.

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
    job = _JobFolder(Path(out_root), "gait-studio edited dataset", settings)
    scorer = _Scorer(editor.judge, editor.calibration, covariate_classifier)
    run_one = _edit_runner(editor, strength, steps, guidance, method)
    written, skipped, seconds = _run_tasks(tasks, job, run_one, scorer, progress, "editing")
    manifest = job.finish(_summary(job, tasks, written, skipped, seconds, scorer))
    logger.debug("%s: %s", out_root, manifest["counts"])
    return manifest


# ---- anonymize ------------------------------------------------------------------------------
def anonymize_dataset(
    editor,
    data_root: str | os.PathLike,
    out_root: str | os.PathLike,
    *,
    strength: float = 0.9,
    seed: int = 0,
    steps: int = 20,
    subjects: Sequence[str] | None = None,
    conditions: Sequence[str] | None = None,
    views: Sequence[str] | None = None,
    guidance: float = 2.0,
    method: str = "invert",
    max_attempts: int = 3,
    covariate_classifier="auto",
    progress: ProgressArg = None,
) -> dict:
    """Anonymize every clip of a dataset (or one clip): same walk, view and clothing, somebody else.

    Each clip's identity is replaced by a novel one from the editor's identity bank and the
    judge measures what is left (`studio.pipelines.anonymization`). A clip the judge still verifies as its
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
        "judge_threshold": float(editor.calibration["threshold"]),
        "judge_metric": editor.calibration["metric"],
    }
    job = _JobFolder(Path(out_root), "gait-studio anonymized dataset", settings)
    scorer = _Scorer(editor.judge, editor.calibration, covariate_classifier)

    def run_one(task: _Task, seq: GaitSequence):
        from generators.editor import source_covariates
        from studio.pipelines.anonymization import anonymize_until_unverified

        (result,) = anonymize_until_unverified(
            editor,
            editor.judge,
            editor.calibration,
            [seq],
            [task.seed],
            strength=strength,
            max_attempts=max_attempts,
            source_embeddings=scorer.embed_source(task.source.key, seq)[None],
            steps=steps,
            guidance=guidance,
            method=method,
        )
        return result.sequence, {
            "leaks": bool(result.leaks),
            "judge_distance": round(result.source_distance, 5),
            "threshold": result.threshold,
            "attempts": result.attempts,
            "target_similarity_to_source": round(result.target_similarity_to_source, 5),
            "expected": source_covariates(seq),
        }

    written, skipped, seconds = _run_tasks(tasks, job, run_one, scorer, progress, "anonymizing")
    summary = _summary(job, tasks, written, skipped, seconds, scorer)
    leaking = [r["output"] for r in summary["sequences"] if r["leaks"]]
    summary["counts"].update(leaks=len(leaking), anonymous=summary["counts"]["written"] - len(leaking))
    summary["leaking"] = leaking
    manifest = job.finish(summary)
    if leaking:
        logger.warning(
            "%d of %d anonymized clips still verify as their source", len(leaking), len(summary["sequences"])
        )
    return manifest


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
    steps: int = 20,
    sources: str | Sequence[str] = "nm",
    include_real: bool = False,
    guidance: float = 2.0,
    method: str = "invert",
    covariate_classifier="auto",
    progress: ProgressArg = None,
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
    job = _JobFolder(Path(out_root), "gait-studio augmentation set", settings)
    scorer = _Scorer(editor.judge, editor.calibration, covariate_classifier)
    edit_one = _edit_runner(editor, strength, steps, guidance, method)

    def run_one(task: _Task, seq: GaitSequence):
        if task.action == "copy":
            return seq, {}
        return edit_one(task, seq)

    written, skipped, seconds = _run_tasks(tasks, job, run_one, scorer, progress, "augmenting")
    summary = _summary(job, tasks, written, skipped, seconds, scorer)
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
    return job.finish(summary)


__all__ = [
    "EditorUnavailable",
    "anonymize_dataset",
    "augment_dataset",
    "clip_seed",
    "edit_dataset",
    "load_editor",
]
