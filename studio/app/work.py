"""Work in flight per browser session and tab, so that Cancel (or a closed page) stops it.

Gradio's `cancels=` drops a queued request and stops waiting for a running one, but a
callback running in a worker thread cannot be interrupted from outside: it has to look. Each
long callback registers a `Work` here and calls `Work.check()` at every step boundary it
controls (and hands `check` to library calls that take a `cancel` callable, which then look
between denoising steps); the page's Cancel button and the session's unload (the browser tab
closed, reloaded or gone) set its flag, and the next check raises `RequestCancelled`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


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
