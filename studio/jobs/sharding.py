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

`JobFolder` is the output root of such a job: `manifest.json` (settings while running, the
summary at the end) and `manifest.jsonl` (one row per clip). One process appends its rows to
`manifest.jsonl` as each clip is written; with several, each appends to its own
`manifest.shard-K-of-N.jsonl`, and at the end the main process merges every row, in the job's own
order, into `manifest.jsonl` and removes the shard files. A job killed anywhere (any process,
`kill -9`) is resumed by running it again, with any number of processes: the main process first
gathers the rows of every earlier process, then the unfinished batches are shared out.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gaitdata import GaitDataError
from gaitdata.atomic import atomic_write_text
from gaitdata.json_values import json_ready

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_ROWS = "manifest.jsonl"
SHARD_ROWS = "manifest.shard-{index}-of-{count}.jsonl"  # index counted from 1
SHARD_ROWS_GLOB = "manifest.shard-*-of-*.jsonl"
BATCH_CLIPS = 64  # clips made together (their windows denoise in shared batches)
# `manifest.json`'s "layout" line of a job that writes OpenGait clips (`JobFolder(layout=...)`)
OPENGAIT_LAYOUT = "OpenGait: <subject>/<condition>/<view>/<view>.pkl, uint8 [T, 64, 64]"
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
def _whole_rows(path: Path) -> list[dict]:
    """The rows of a rows file; the half-written last line of a killed process is left out."""
    rows = []
    try:
        lines = path.read_text().splitlines()
    except (FileNotFoundError, UnicodeDecodeError):
        return rows
    for line in lines:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


class JobFolder:
    """`out_root` of one batch job, shared by the job's processes: settings, finished clips, rows.

    A folder holding a job of the same kind and settings is resumed; anything else that is not
    empty is refused, so two jobs never mix in one dataset.

    Args:
        out_root: the output root.
        kind: what the job makes (`manifest.json`'s "kind").
        settings: everything that decides the output (compared on resume).
        shard: this process's place (`current_shard()`).
        key: the row field naming the clip's file (relative to `out_root`); a clip is finished
            when a "done" row names it and the file is there.
        layout: `manifest.json`'s "layout" line.
    """

    def __init__(self, out_root: Path, kind: str, settings: dict, shard: Shard, key: str = "output", layout: str = ""):
        self.root, self.kind, self.shard, self.key, self.layout = Path(out_root), kind, shard, key, layout
        self.settings = json_ready(json.loads(json.dumps(settings)))  # as it reads back from JSON
        self._check_folder()  # every process, before any writes
        shard.wait()
        if shard.is_main:
            self.root.mkdir(parents=True, exist_ok=True)
            rows = self._earlier_rows()
            # every earlier process's rows in one file, then their files go (a kill in between only repeats rows)
            atomic_write_text(self.root / MANIFEST_ROWS, "".join(json.dumps(r) + "\n" for r in rows))
            for path in self.root.glob(SHARD_ROWS_GLOB):
                path.unlink(missing_ok=True)
            self._write_manifest({"status": "running"})
        shard.wait()
        self.rows = {r[key]: r for r in _whole_rows(self.root / MANIFEST_ROWS)}
        self.resumed = len(self.rows)
        name = MANIFEST_ROWS if shard.count == 1 else SHARD_ROWS.format(index=shard.index + 1, count=shard.count)
        self._rows_path = self.root / name
        self._appended: list[dict] = []  # this process's rows of this run
        self._file = None  # opened on the first row

    def _check_folder(self) -> None:
        manifest = self.root / MANIFEST
        if manifest.is_file():
            try:
                previous = json.loads(manifest.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise GaitDataError(manifest, f"not valid JSON ({err}); choose another output folder") from None
            if previous.get("kind") != self.kind or previous.get("settings") != self.settings:
                raise ValueError(f"{self.root}: {self._differences(previous)}; choose another output folder")
        elif self.root.exists() and any(self.root.iterdir()):
            raise ValueError(f"{self.root}: folder is not empty and holds no {MANIFEST} of an earlier run")

    def _differences(self, previous: dict) -> str:
        if previous.get("kind") != self.kind:
            return f"holds a {previous.get('kind')!r} job, not a {self.kind!r} one"
        old = previous.get("settings", {})
        changed = sorted(k for k in set(old) | set(self.settings) if old.get(k) != self.settings.get(k))
        detail = ", ".join(f"{k}: {old.get(k)!r} then, {self.settings.get(k)!r} now" for k in changed[:4])
        return f"holds an earlier run with other settings ({detail})"

    def _earlier_rows(self) -> list[dict]:
        """Rows of clips written by earlier runs (any process) whose file is still there; skips are retried."""
        rows: dict[str, dict] = {}
        for path in [self.root / MANIFEST_ROWS, *sorted(self.root.glob(SHARD_ROWS_GLOB))]:
            for row in _whole_rows(path):
                name = row.get(self.key)
                if row.get("status") == "done" and isinstance(name, str) and (self.root / name).is_file():
                    rows.setdefault(name, row)
        return list(rows.values())

    def _write_manifest(self, body: dict) -> None:
        data = {"kind": self.kind, "layout": self.layout, **body, "settings": self.settings}
        atomic_write_text(self.root / MANIFEST, json.dumps(json_ready(data), indent=1, allow_nan=False) + "\n")

    def is_done(self, name: str) -> bool:
        return name in self.rows

    def append(self, row: dict) -> None:
        """Record a finished (or skipped) clip; on disk before the next clip starts."""
        row = json_ready(row)
        if row["status"] == "done":
            self.rows[row[self.key]] = row
        self._appended.append(row)
        if self._file is None:
            self._file = open(self._rows_path, "a")  # noqa: SIM115 (closed by close())
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def gather(self) -> list[dict] | None:
        """Once every process has done its share: to the main process, every row of this run
        (all processes'), with `rows` updated to every finished clip; None to the others."""
        self.close()
        self.shard.wait()
        if not self.shard.is_main:
            return None
        if self.shard.count == 1:
            return list(self._appended)
        this_run = []
        for index in range(self.shard.count):
            this_run += _whole_rows(self.root / SHARD_ROWS.format(index=index + 1, count=self.shard.count))
        for row in this_run:
            if row["status"] == "done":
                self.rows[row[self.key]] = row
        return this_run

    def finish(self, summary: dict | None, rows: Sequence[dict] | None) -> dict:
        """The main process writes `rows` (in the job's order) as `manifest.jsonl` and the summary
        as `manifest.json`, then every process returns the finished manifest."""
        if self.shard.is_main:
            atomic_write_text(self.root / MANIFEST_ROWS, "".join(json.dumps(r) + "\n" for r in rows))
            for path in self.root.glob(SHARD_ROWS_GLOB):
                path.unlink(missing_ok=True)
            self._write_manifest({"status": "complete", **summary})
        self.shard.wait()
        return json.loads((self.root / MANIFEST).read_text())


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
