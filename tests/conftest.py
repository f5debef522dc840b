"""Shared fixtures: where the real data lives, and small synthetic datasets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GAIT_STUDIO_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real recorded data (`../shared/data`); tests that need it skip, saying why, if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent (set GAIT_STUDIO_SHARED_DATA to point at it)")
    return SHARED_DATA
