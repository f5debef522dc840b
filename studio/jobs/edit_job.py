"""The edit job: every clip of a dataset (or one clip) edited into new covariates.

`edit_dataset` is what `studio edit` (and the demo) runs; `edit_batch_maker` makes a
batch of edits with one `edit_many` call, for it and for the augmentation job.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

from gaitdata import GaitSequence
from gaitdata.atomic import ensure_outside
from generators.settings import EDIT, SHIFT_SCALE
from studio.jobs.clip_inputs import input_sources, source_settings
from studio.jobs.clip_runner import ClipJob, ProgressArg
from studio.jobs.clip_tasks import ClipTask, check_editor_settings, check_unique_outputs, edit_task, editor_settings
from studio.jobs.sharding import BATCH_CLIPS, Shard


def edit_batch_maker(
    editor, strength, steps, guidance, method, conditioner_guidance: float = 0.0, covariate_shift: float = SHIFT_SCALE
):
    """`make_batch` of edits: one `edit_many` call for the batch (copies pass through)."""
    from generators.editor import source_covariates

    def make_batch(tasks: list[ClipTask], clips: list[GaitSequence]):
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
                    conditioner_guidance=conditioner_guidance,
                    covariate_shift=covariate_shift,
                )
            for i, result in zip(edits, results):
                extra = {"target": tasks[i].target}
                if tasks[i].target == source_covariates(clips[i]):  # the editor's no-op warning
                    extra["note"] = "covariates already as requested: re-rendered"
                made[i] = (result, extra, tasks[i].target)
        return [made.get(i, (clip, {}, None)) for i, clip in enumerate(clips)]

    return make_batch


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
    conditioner_guidance: float = EDIT.conditioner_guidance,
    covariate_shift: float = EDIT.covariate_shift,
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
        conditioner_guidance: steer each edit toward its source person along the conditioner's
            gradient (`GaitEditor.edit`; 0 = off; `generators.settings.faithful_edit` gives the
            measured setting per kind of change).
        covariate_shift: how far that steering moves its target to the new covariates.

    Returns:
        The manifest (also `out_root/manifest.json`; its summary is a `JobSummary`'s `to_dict()`):
        settings, counts (`clips`, `written`, `written_this_run`, `resumed`, `skipped`, and when
        scored `verified_as_source`, `covariates_match`), `skipped` (source, reason), and per clip
        a row: source and output paths, frames, seed, target covariates, `scores` (judge cosine
        similarity and verification verdict against the source, the covariate classifier's reading).

    Raises:
        ValueError: nothing to edit, bad covariates or settings, an output folder overlapping the
            input or holding another job.
        GaitDataError: the input does not exist (or a single clip cannot be read).
    """
    if view is None and clothing is None and carrying is None:
        raise ValueError("nothing to edit: give a view, clothing or carrying")
    check_editor_settings(strength, steps, method)
    sources, input_path, input_kind = input_sources(data_root, subjects, conditions, views)
    ensure_outside(out_root, input_path)
    tasks = [edit_task(s, view, clothing, carrying, seed, name_view=view is not None) for s in sources]
    check_unique_outputs(tasks)
    settings = {
        **source_settings(data_root, input_kind, subjects, conditions, views),
        "view": None if view is None else str(view),
        "clothing": clothing,
        "carrying": carrying,
        **editor_settings(strength, seed, steps, guidance, method),
    }
    if conditioner_guidance:  # only when steered: older job folders resume as before
        settings["conditioner_guidance"] = float(conditioner_guidance)
        settings["covariate_shift"] = float(covariate_shift)
    job = ClipJob.open(editor, out_root, "gait-studio edited dataset", settings, shard, covariate_classifier)
    make_batch = edit_batch_maker(editor, strength, steps, guidance, method, conditioner_guidance, covariate_shift)
    return job.run(tasks, make_batch, progress, "editing", batch_clips)


__all__ = ["edit_batch_maker", "edit_dataset"]
