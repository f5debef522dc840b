"""What the edit, anonymize and augment jobs write: one `ClipTask` per output clip, and its seed.

A task names its output clip so that it cannot collide with a real one (`edit_task`: an edit of
`nm-01` into a coat is `cl-gen-nm-01`), carries its seed (`clip_seed`: a function of the job's
seed and the clip's key alone, so a resumed or sharded job makes the same clip). Here too: the
checks run once for the whole job (`check_unique_outputs`, `check_editor_settings`) and the
editor's settings as a manifest records them (`editor_settings`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from gaitdata.opengait import sequence_pkl_path
from studio.jobs.clip_inputs import ClipSource

GENERATED_TAG = "gen"  # as `evaluate_generator` labels generated clips (`cl-gen`)


def clip_seed(seed: int, *key: str) -> int:
    """The seed of one clip: a function of the job's seed and the clip's key (order-free, stable)."""
    text = "/".join([str(int(seed)), *map(str, key)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


@dataclass(frozen=True)
class ClipTask:
    """One output clip: made from `source` by `action` ('edit', 'anonymize' or 'copy')."""

    source: ClipSource
    output: tuple[str, str, str]  # (subject, condition, view) of the written clip
    action: str
    seed: int
    target: dict | None = None  # an edit's covariates: view (degrees or None), clothing, carrying

    @property
    def output_path(self) -> str:
        return sequence_pkl_path("", *self.output).as_posix()


def person_of(task: ClipTask) -> str:
    """The source person of a task: the unit batches and shards are cut by."""
    return task.source.key[0]


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


def edit_task(source: ClipSource, view, clothing, carrying, seed: int, name_view: bool, tag: str = "") -> ClipTask:
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
    return ClipTask(source, (subject, new_condition, new_view), "edit", clip_seed(seed, *source.key, tag), target)


def check_unique_outputs(tasks: list[ClipTask]) -> None:
    """Refuse a job whose tasks would write two clips to one path."""
    seen: dict[str, str] = {}
    for task in tasks:
        path = task.output_path
        if path in seen:
            raise ValueError(f"{task.source.path} and {seen[path]} would both be written to {path}")
        seen[path] = task.source.path


def check_editor_settings(strength: float, steps: int, method: str) -> None:
    """The editor's settings, checked once for the whole job rather than failing on every clip."""
    from generators.editor import METHODS

    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], got {strength}")
    if not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def editor_settings(strength: float, seed: int, steps: int, guidance: float, method: str) -> dict:
    """The editor's settings as every job's manifest records them (after the input's)."""
    return {
        "strength": float(strength),
        "seed": int(seed),
        "steps": int(steps),
        "guidance": float(guidance),
        "method": method,
    }


__all__ = [
    "GENERATED_TAG",
    "ClipTask",
    "check_editor_settings",
    "check_unique_outputs",
    "clip_seed",
    "edit_task",
    "editor_settings",
    "person_of",
]
