"""The augment job: every training subject's clips edited into new conditions, for any trainer.

`augment_dataset` is what `studio augment` and the augmentation experiment run: the result is an
OpenGait-layout training set (`<subject>/cl-gen-nm-01/<view>/<view>.pkl`, its `partition.json`),
the real clips optionally copied alongside.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from gaitdata import GaitDataError, Partition, read_partition, write_partition
from gaitdata.atomic import ensure_outside
from gaitdata.casia_b import CONDITION_TYPES
from gaitdata.opengait import scan_opengait
from generators.settings import EDIT
from studio.jobs.clip_inputs import dataset_source
from studio.jobs.clip_runner import ClipJob, ProgressArg
from studio.jobs.clip_tasks import (
    GENERATED_TAG,
    ClipTask,
    check_editor_settings,
    check_unique_outputs,
    edit_task,
    editor_settings,
)
from studio.jobs.edit_job import edit_batch_maker
from studio.jobs.job_summary import AugmentSummary, JobSummary
from studio.jobs.sharding import BATCH_CLIPS, Shard

PARTITION = "partition.json"


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
    check_editor_settings(strength, steps, method)
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
        source = dataset_source(data_root, entry)
        for kind in kinds:
            clothing, carrying = CONDITION_COVARIATES[kind]
            tasks.append(edit_task(source, None, clothing, carrying, seed, name_view=False, tag=kind))
    if include_real:
        for entry in scan_opengait(data_root, subjects=split.train, views=views):
            tasks.append(ClipTask(dataset_source(data_root, entry), entry.key, "copy", 0))
    check_unique_outputs(tasks)
    settings = {
        "input": str(data_root.resolve()),
        "train_subjects": sorted(split.train),
        "add_conditions": kinds,
        "sources": source_conditions,
        "views": None if views is None else list(map(str, views)),
        "include_real": bool(include_real),
        **editor_settings(strength, seed, steps, guidance, method),
    }
    job = ClipJob.open(editor, out_root, "gait-studio augmentation set", settings, shard, covariate_classifier)
    make_batch = edit_batch_maker(editor, strength, steps, guidance, method)

    def complete(summary: JobSummary) -> AugmentSummary:
        subjects = sorted({r["subject"] for r in summary.sequences})
        missing = sorted(set(split.train) - {t.source.key[0] for t in tasks})
        write_partition(Path(out_root) / PARTITION, Partition(train=subjects, test=[]))
        real_copied = sum(r["action"] == "copy" for r in summary.sequences)
        return AugmentSummary.of(
            summary,
            counts=dataclasses.replace(summary.counts, real_copied=real_copied),
            conditions_added=[f"{k}-{GENERATED_TAG}-*" for k in kinds],
            subjects=subjects,
            train_subjects_without_sources=missing,
            partition=PARTITION,
        )

    return job.run(tasks, make_batch, progress, "augmenting", batch_clips, complete)


__all__ = ["CONDITION_TYPES", "PARTITION", "augment_dataset"]
