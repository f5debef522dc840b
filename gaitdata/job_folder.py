"""One resumable output folder, with one manifest format, for every batch job of the studio.

What a job writes beside its own files (OpenGait sequences, previews, ...) in its output root:

- `manifest.json`: `{"kind", "layout", "status", ..., "settings"}`: what made the folder (the
  job's kind and every setting that decides its output, compared on resume), "running" while it
  runs, "complete" and the job's summary once it has finished;
- `manifest.jsonl`: one row per unit of work (a clip, a sequence, a video): a JSON object naming
  the unit under the job's key (`"output"`, `"path"`, `"stem"`) with its `"status"` (`"done"`,
  or `"skipped"` and the `"reason"`), appended and flushed to disk as soon as the unit is
  finished, so a job killed anywhere (`kill -9`) is resumed by running it again;
- `manifest.shard-K-of-N.jsonl`: the rows of process K of N, when a job is shared between
  processes (`studio.jobs.sharding`), so no two processes write one file; the main process
  merges them, in the job's own order, into `manifest.jsonl` at the end (and a rerun after a
  kill at its start) and removes them.

`JobFolder` is that folder. It refuses a folder holding another job (or files but no
manifest, unless the job adds to any dataset folder), reads the rows of every earlier run and
process, and writes every file atomically or append-only. This module knows nothing of
processes: `studio.jobs.sharding.JobFolder` gives it the process's place and a barrier.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from gaitdata.atomic import atomic_write_text
from gaitdata.errors import GaitDataError
from gaitdata.json_values import json_ready

MANIFEST = "manifest.json"
MANIFEST_ROWS = "manifest.jsonl"
SHARD_ROWS = "manifest.shard-{index}-of-{count}.jsonl"  # index counted from 1
SHARD_ROWS_GLOB = "manifest.shard-*-of-*.jsonl"
# `manifest.json`'s "layout" line of a job that writes OpenGait clips
OPENGAIT_LAYOUT = "OpenGait: <subject>/<condition>/<view>/<view>.pkl, uint8 [T, 64, 64]"


def read_rows(path: str | os.PathLike) -> list[dict]:
    """The rows of a rows file (none when it is missing); the half-written last line of a killed
    process is left out."""
    rows = []
    try:
        lines = Path(path).read_text().splitlines()
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


def write_rows(path: str | os.PathLike, rows: Sequence[dict]) -> None:
    """`rows` as a rows file, one JSON object a line, replacing it in one rename."""
    atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


class JobFolder:
    """The output root of one batch job, as one of its processes sees it: settings, rows, summary.

    A folder holding a job of the same kind and settings is resumed; anything else that is not
    empty is refused, so two jobs never mix in one folder.

    Args:
        out_root: the output root (created).
        kind: what the job makes (`manifest.json`'s "kind").
        settings: everything that decides the output (compared on resume).
        key: the row field naming a unit of work. By default a unit is finished when a "done"
            row names it and the file it names (relative to `out_root`) is there.
        layout: `manifest.json`'s "layout" line.
        index, count: this process's place among the job's processes (0-based); each process
            appends to its own `manifest.shard-K-of-N.jsonl` when `count` > 1.
        wait: a barrier of the job's processes (`count` > 1), called where all must meet.
        keep: `keep(row)`: whether an earlier row still counts (default: "done" and its file is
            there; skipped units are tried again). A job deciding itself what to redo keeps all.
        settings_defaults: settings an earlier version did not record, with the values it meant.
        foreign_files: the job adds to any dataset folder: files without a manifest are not refused.
        earlier: `earlier(out_root)`, for a folder without `manifest.json`: what an earlier
            manifest format there says, as `{"kind", "settings", "rows", "files"}` (its rows in
            this format; its files, removed once converted), or None when there is none.
    """

    def __init__(
        self,
        out_root: str | os.PathLike,
        kind: str,
        settings: dict,
        key: str = "output",
        layout: str = "",
        index: int = 0,
        count: int = 1,
        wait: Callable[[], None] = lambda: None,
        keep: Callable[[dict], bool] | None = None,
        settings_defaults: dict | None = None,
        foreign_files: bool = False,
        earlier: Callable[[Path], dict | None] | None = None,
    ):
        self.root, self.kind, self.key, self.layout = Path(out_root), kind, key, layout
        self.index, self.count, self._wait = index, count, wait
        self.settings = json_ready(json.loads(json.dumps(settings)))  # as it reads back from JSON
        self._keep = keep or self._file_is_there
        self._defaults, self._foreign_files = dict(settings_defaults or {}), foreign_files
        self._earlier = None
        if earlier is not None and not (self.root / MANIFEST).is_file() and self.root.is_dir():
            self._earlier = earlier(self.root)
        self._check_folder()  # every process, before any writes
        wait()
        if self.is_main:
            self.root.mkdir(parents=True, exist_ok=True)
            rows = self._earlier_rows()
            # every earlier process's rows in one file, then their files go (a kill in between only repeats rows)
            write_rows(self.root / MANIFEST_ROWS, rows)
            for path in self.root.glob(SHARD_ROWS_GLOB):
                path.unlink(missing_ok=True)
            self._write_manifest({"status": "running"})
            for path in (self._earlier or {}).get("files", []):  # converted: the new manifest is on disk
                Path(path).unlink(missing_ok=True)
        wait()
        self.rows = {r[key]: r for r in read_rows(self.root / MANIFEST_ROWS)}  # unit → its row
        self.resumed = len(self.rows)
        name = MANIFEST_ROWS if count == 1 else SHARD_ROWS.format(index=index + 1, count=count)
        self._rows_path = self.root / name
        self._appended: list[dict] = []  # this process's rows of this run
        self._file = None  # opened on the first row

    @property
    def is_main(self) -> bool:
        return self.index == 0

    def _file_is_there(self, row: dict) -> bool:
        name = row.get(self.key)
        return row.get("status") == "done" and isinstance(name, str) and (self.root / name).is_file()

    def _check_folder(self) -> None:
        manifest = self.root / MANIFEST
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"{self.root}: is a file; choose a folder for the job's output")
        if manifest.is_file():
            try:
                previous = json.loads(manifest.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise GaitDataError(manifest, f"not valid JSON ({err}); choose another output folder") from None
            if not isinstance(previous, dict):
                raise GaitDataError(manifest, "is not a job's manifest; choose another output folder")
        elif self._earlier is not None:
            previous = self._earlier
        elif self.root.exists() and any(self.root.iterdir()) and not self._foreign_files:
            raise ValueError(f"{self.root}: folder is not empty and holds no {MANIFEST} of an earlier run")
        else:
            return
        previous = {**previous, "settings": {**self._defaults, **previous.get("settings", {})}}
        if previous.get("kind") != self.kind or previous["settings"] != self.settings:
            raise ValueError(f"{self.root}: {self._differences(previous)}; choose another output folder")

    def _differences(self, previous: dict) -> str:
        if previous.get("kind") != self.kind:
            return f"holds a {previous.get('kind')!r} job, not a {self.kind!r} one"
        old = previous["settings"]
        changed = sorted(k for k in set(old) | set(self.settings) if old.get(k) != self.settings.get(k))
        detail = ", ".join(f"{k}: {old.get(k)!r} then, {self.settings.get(k)!r} now" for k in changed[:4])
        return f"holds an earlier run with other settings ({detail}); rerun with the same settings to resume"

    def _earlier_rows(self) -> list[dict]:
        """The rows of earlier runs (any process, an earlier format first) that still count, the
        last row of a unit winning."""
        rows: dict[str, dict] = {}
        files = [self.root / MANIFEST_ROWS, *sorted(self.root.glob(SHARD_ROWS_GLOB))]
        for row in [*(self._earlier or {}).get("rows", []), *(r for path in files for r in read_rows(path))]:
            if isinstance(row.get(self.key), str) and self._keep(row):
                rows[row[self.key]] = row
        return list(rows.values())

    def _write_manifest(self, body: dict) -> None:
        data = {"kind": self.kind, "layout": self.layout, **body, "settings": self.settings}
        atomic_write_text(self.root / MANIFEST, json.dumps(json_ready(data), indent=1, allow_nan=False) + "\n")

    def is_done(self, name: str) -> bool:
        return name in self.rows

    def append(self, row: dict) -> None:
        """Record a finished (or skipped) unit; on disk before the next one starts."""
        row = json_ready(row)
        if self._keep(row):
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
        (all processes'), with `rows` updated to every finished unit; None to the others."""
        self.close()
        self._wait()
        if not self.is_main:
            return None
        if self.count == 1:
            return list(self._appended)
        this_run = []
        for index in range(self.count):
            this_run += read_rows(self.root / SHARD_ROWS.format(index=index + 1, count=self.count))
        for row in this_run:
            if self._keep(row):
                self.rows[row[self.key]] = row
        return this_run

    def finish(self, summary: dict | None, rows: Sequence[dict] | None) -> dict:
        """The main process writes `rows` (in the job's order) as `manifest.jsonl` and the summary
        into `manifest.json` (status "complete"), then every process returns the finished manifest."""
        if self.is_main:
            write_rows(self.root / MANIFEST_ROWS, rows)
            for path in self.root.glob(SHARD_ROWS_GLOB):
                path.unlink(missing_ok=True)
            self._write_manifest({"status": "complete", **summary})
        self._wait()
        return json.loads((self.root / MANIFEST).read_text())


__all__ = [
    "MANIFEST",
    "MANIFEST_ROWS",
    "OPENGAIT_LAYOUT",
    "SHARD_ROWS",
    "SHARD_ROWS_GLOB",
    "JobFolder",
    "read_rows",
    "write_rows",
]
