"""Errors raised when input data cannot be used."""

from __future__ import annotations

import os


class GaitDataError(ValueError):
    """A file or folder could not be read as gait data.

    The message always names the offending path and the problem, so a user can find it.
    """

    def __init__(self, path: str | os.PathLike | None, problem: str):
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class UnsafePickleError(GaitDataError):
    """A pickle asked to build something other than a numpy array (possible code execution)."""
