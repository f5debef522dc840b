"""Work in flight per browser session and tab, so that Cancel (or a closed page) stops it.

Gradio's `cancels=` drops a queued request and stops waiting for a running one, but a
callback running in a worker thread cannot be interrupted from outside: it has to look. Each
long callback registers a `Work` here and calls `Work.check()` at every step boundary it
controls (and hands `check` to library calls that take a `cancel` callable, which then look
between denoising steps); the page's Cancel button and the session's unload (the browser tab
closed, reloaded or gone) set its flag, and the next check raises `RequestCancelled`.

`StudioRequests` is the bookkeeping every tab shares: the callbacks of the Cancel buttons and
the page's unload, a fresh folder per request for its files (old ones pruned), and what a
request that failed or was cancelled says.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import gradio as gr

from studio.app import AppConfig

logger = logging.getLogger(__name__)

CANCELLED_NOTE = "**Cancelled.** It stops at its next step and nothing of it is kept."
WITHDRAWN_NOTE = "**Cancelled.** The request was still waiting its turn in the queue; it is withdrawn."
NOTHING_RUNNING_NOTE = "Nothing is running to cancel: the results shown stay as they are."
UNEXPECTED = "unexpected error (details in the server log)"


class RequestCancelled(Exception):
    """The request was cancelled (its Cancel button, or its browser gone): it stops, keeping nothing."""


class Work:
    """One request's cancel flag."""

    def __init__(self):
        self._cancelled = threading.Event()
        self.started = False

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def check(self) -> bool:
        """Raise `RequestCancelled` when cancelled; else False. Fits a library's `cancel` argument
        (a callable asked between steps whether to stop): the exception is what stops it."""
        if self._cancelled.is_set():
            raise RequestCancelled()
        return False


class RunningWork:
    """The `Work` of every (session, tab): submitted (waiting in the queue), then running."""

    def __init__(self):
        self._lock = threading.Lock()
        self._work: dict[tuple[str, str], list[Work]] = {}

    def submit(self, session: str, tab: str) -> Work:
        """A request of `tab` was sent (it may wait in the queue before it starts)."""
        work = Work()
        with self._lock:
            self._work.setdefault((session, tab), []).append(work)
        return work

    @contextmanager
    def running(self, session: str | None, tab: str) -> Iterator[Work]:
        """The context of one request's run: its `Work` (the oldest one submitted, else a new one),
        forgotten when the run ends. Raises `RequestCancelled` at once when it was cancelled already."""
        session = session or ""
        with self._lock:
            waiting = [w for w in self._work.get((session, tab), []) if not w.started]
            work = waiting[0] if waiting else None
            if work is None:  # an API call: nothing was submitted through the page
                work = Work()
                self._work.setdefault((session, tab), []).append(work)
            work.started = True
        try:
            work.check()
            yield work
        finally:
            with self._lock:
                works = self._work.get((session, tab), [])
                if work in works:
                    works.remove(work)
                if not works:
                    self._work.pop((session, tab), None)

    def cancel(self, session: str | None, tab: str) -> list[Work]:
        """Cancel every request of `tab` in `session`; returns them (empty: nothing was running or waiting)."""
        with self._lock:
            works = self._work.pop((session or "", tab), [])
        for work in works:
            work.cancel()
        return works

    def cancel_session(self, session: str | None) -> int:
        """Cancel everything of a session (its page was closed); returns how many requests."""
        with self._lock:
            keys = [k for k in self._work if k[0] == (session or "")]
            works = [w for k in keys for w in self._work.pop(k)]
        for work in works:
            work.cancel()
        return len(works)

    def count(self) -> int:
        """Requests submitted or running, all sessions together."""
        with self._lock:
            return sum(len(v) for v in self._work.values())


def session_of(request: gr.Request | None) -> str:
    """The browser session a request belongs to ("" when Gradio gives none, e.g. a direct call)."""
    return (getattr(request, "session_hash", None) or "") if request is not None else ""


@contextmanager
def removed_if_cancelled(folder: Path) -> Iterator[Path]:
    """`folder`, deleted when the request is cancelled inside the block: a cancelled request keeps no files."""
    try:
        yield folder
    except RequestCancelled:
        shutil.rmtree(folder, ignore_errors=True)
        raise


class StudioRequests:
    """The requests of one app: their work in flight (`work`) and their files (under `outputs`)."""

    def __init__(self, config: AppConfig, outputs: Path):
        self.config = config
        self.outputs = outputs
        self.outputs.mkdir(parents=True, exist_ok=True)
        self.work = RunningWork()  # what Cancel and a closed page stop
        self._pruned_at = 0.0
        self._prune_lock = threading.Lock()

    def folder(self) -> Path:
        """A fresh folder per request: concurrent users never overwrite each other's files."""
        self._prune()
        path = self.outputs / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def _prune(self) -> None:
        """Delete request folders older than `config.keep_outputs_hours` (checked at most every 10 minutes),
        so that a long-running app does not fill the disk with previews and downloads."""
        now = time.time()
        with self._prune_lock:
            if now - self._pruned_at < 600:
                return
            self._pruned_at = now
        cutoff = now - self.config.keep_outputs_hours * 3600
        for folder in self.outputs.iterdir():
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:  # gone already (another request pruned it)
                continue

    def running(self, request: gr.Request | None, tab: str):
        """`RunningWork.running` for the session of `request`."""
        return self.work.running(session_of(request), tab)

    def run(self, request: gr.Request | None, tab: str, cancelled: tuple, body: Callable[..., tuple], *inputs) -> tuple:
        """`body(work, *inputs)`'s outputs, run as `request` of `tab`; `cancelled` (the status last) when
        it is cancelled."""
        try:
            with self.running(request, tab) as work:
                return body(work, *inputs)
        except RequestCancelled:
            return cancelled

    def submitted(self, tab: str):
        """The callback run when a tab's button is pressed, before its request joins the queue:
        records it, so that Cancel knows something of this tab is waiting or running."""

        def submit(request: gr.Request):
            self.work.submit(session_of(request), tab)

        return submit

    def cancel(self, tab: str, outputs: int):
        """The callback of `tab`'s Cancel button (the tab has `outputs` outputs, the status last).

        Something waiting or running: it is told to stop at its next step, the results are
        cleared and the status says so. Nothing: the results stay and the status says that
        nothing was running.
        """

        def cancel(request: gr.Request):
            works = self.work.cancel(session_of(request), tab)
            if not works:
                return *[gr.skip()] * (outputs - 1), NOTHING_RUNNING_NOTE
            note = CANCELLED_NOTE if any(w.started for w in works) else WITHDRAWN_NOTE
            return *[None] * (outputs - 1), note

        return cancel

    def session_closed(self, request: gr.Request):
        """The page was closed (or reloaded, or its browser went away): stop its work at the next step."""
        count = self.work.cancel_session(session_of(request))
        if count:
            logger.info("a page closed with %d request(s) in flight: cancelled", count)
