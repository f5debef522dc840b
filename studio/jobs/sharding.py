"""Batch jobs shared between processes: each takes its share of the people, the main one merges.

Started plainly, a job is one process (`shard 1/1`). Started by `torchrun` or `accelerate launch`,
`current_shard()` joins the processes through accelerate's `PartialState` and each process takes
a deterministic share of the work (`Shard.take`, `split_between_processes`). The work is cut the
same way whatever the number of processes, so the clips come out byte for byte the same:

- `person_batches`: the tasks of whole people packed into batches of at most `batch_clips`
  clips (a person with more is cut into batches of their own); the batches depend only on the
  job's tasks, never on the processes, and each clip's output depends only on its batch;
- `person_groups`: the batches that share a person, which one process makes together: a person
  is never split between processes.

`JobFolder` is the output root of such a job, in the one format of every batch job
(`gaitdata.job_folder`): `manifest.json` (settings while running, the summary at the end) and
`manifest.jsonl` (one row per clip). One process appends its rows to `manifest.jsonl` as each
clip is written; with several, each appends to its own `manifest.shard-K-of-N.jsonl`, and at the
end the main process merges every row, in the job's own order, into `manifest.jsonl` and removes
the shard files. A job killed anywhere (any process, `kill -9`) is resumed by running it again,
with any number of processes: the main process first gathers the rows of every earlier process,
then the unfinished batches are shared out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gaitdata import job_folder
from gaitdata.job_folder import OPENGAIT_LAYOUT

logger = logging.getLogger(__name__)

BATCH_CLIPS = 64  # clips made together (their windows denoise in shared batches)
# a process that finished its share waits at the end for the others: allow for uneven shares
BARRIER_TIMEOUT = timedelta(hours=24)
_SIZE_VARIABLES = ("WORLD_SIZE", "PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")


# ---- the processes --------------------------------------------------------------------------
@dataclass(frozen=True)
class Shard:
    """Which process of a job this is: `index` of `count` (0-based), with accelerate's state when shared."""

    index: int = 0
    count: int = 1
    state: object = None  # accelerate's PartialState when count > 1

    @property
    def is_main(self) -> bool:
        return self.index == 0

    def take(self, items: Sequence) -> list:
        """This process's share of `items`: a contiguous block (`split_between_processes`), the
        same in every process that asks with the same items."""
        if self.state is None:
            return list(items)
        with self.state.split_between_processes(list(items)) as mine:
            return list(mine)

    def wait(self) -> None:
        """Wait until every process of the job gets here."""
        if self.state is not None:
            self.state.wait_for_everyone()

    def __str__(self) -> str:
        return f"shard {self.index + 1}/{self.count}"


def launched_with_several_processes() -> bool:
    """True when a launcher (torchrun, accelerate launch, mpirun) started this process as one of several."""
    return any(int(os.environ.get(name, "1") or 1) > 1 for name in _SIZE_VARIABLES)


def current_shard(cpu: bool = True) -> Shard:
    """This process's place in the job: `Shard()` when run alone, else from accelerate's `PartialState`.

    Args:
        cpu: join the processes over gloo and keep them on the CPU (`PartialState(cpu=True)`),
            where the studio's generator and judge run; False lets accelerate choose (NCCL and
            one GPU per process under `accelerate launch --multi_gpu`).
    """
    from accelerate import PartialState

    if not launched_with_several_processes() and not PartialState._shared_state:
        return Shard()  # never touches torch.distributed in a plain run
    state = PartialState(cpu=cpu, timeout=BARRIER_TIMEOUT)
    if state.num_processes == 1:
        return Shard()
    return Shard(state.process_index, state.num_processes, state)


# ---- the work -------------------------------------------------------------------------------
def person_batches(tasks: Sequence, person: Callable, batch_clips: int = BATCH_CLIPS) -> list[list]:
    """`tasks` (in the job's order) in batches of whole people, at most `batch_clips` tasks each.

    A person's tasks are gathered (in order of their first task); consecutive people are packed
    into one batch while they fit; a person with more than `batch_clips` tasks gets batches of
    their own. The result depends on `tasks` alone.
    """
    if int(batch_clips) < 1:
        raise ValueError(f"batch_clips must be a positive number of clips, got {batch_clips!r}")
    people: dict = {}
    for task in tasks:
        people.setdefault(person(task), []).append(task)
    batches, current = [], []
    for mine in people.values():
        if len(mine) > batch_clips:
            if current:
                batches.append(current)
                current = []
            batches.extend(mine[i : i + batch_clips] for i in range(0, len(mine), batch_clips))
        elif len(current) + len(mine) > batch_clips:
            batches.append(current)
            current = list(mine)
        else:
            current.extend(mine)
    if current:
        batches.append(current)
    return batches


def person_groups(batches: Sequence[list], person: Callable) -> list[list[list]]:
    """Consecutive batches that share a person, grouped: the unit one process takes."""
    groups: list[list[list]] = []
    last = None
    for batch in batches:
        first = person(batch[0])
        if groups and first == last:
            groups[-1].append(batch)
        else:
            groups.append([batch])
        last = person(batch[-1])
    return groups


# ---- the output folder ----------------------------------------------------------------------
class JobFolder(job_folder.JobFolder):
    """`gaitdata.job_folder.JobFolder` shared by the job's processes: `shard` says which this is.

    Every process checks the folder; the main one merges the rows of every earlier run and
    process before any process reads them; each process appends to its own rows file; `gather`
    and `finish` wait for all (`Shard.wait`).

    Args:
        out_root, kind, settings, key, layout: as `gaitdata.job_folder.JobFolder`'s.
        shard: this process's place (`current_shard()`).
        options: the other keywords of `gaitdata.job_folder.JobFolder` (keep, settings_defaults,
            foreign_files, earlier).
    """

    def __init__(
        self, out_root: Path, kind: str, settings: dict, shard: Shard, key: str = "output", layout: str = "", **options
    ):
        self.shard = shard
        super().__init__(
            out_root, kind, settings, key=key, layout=layout, index=shard.index, count=shard.count, wait=shard.wait,
            **options,
        )  # fmt: skip


__all__ = [
    "BATCH_CLIPS",
    "OPENGAIT_LAYOUT",
    "JobFolder",
    "Shard",
    "current_shard",
    "launched_with_several_processes",
    "person_batches",
    "person_groups",
]
