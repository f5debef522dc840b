"""Single sequences as `.npz`: `frames` plus metadata, loadable without pickle."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from gaitdata.atomic import atomic_open
from gaitdata.errors import GaitDataError
from gaitdata.sequence import GaitSequence


def write_npz(path: str | os.PathLike, seq: GaitSequence) -> Path:
    """Write `frames` and a JSON `meta` string (no pickled objects) atomically."""
    path = Path(path)
    meta = {"subject": seq.subject, "condition": seq.condition, "view": seq.view, "fps": seq.fps, "extra": seq.extra}
    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, frames=seq.frames, meta=np.array(json.dumps(meta)))
    return path


def read_npz(path: str | os.PathLike) -> GaitSequence:
    """Read a `.npz` holding `frames` `[T, H, W]` (and optionally our `meta`), pickle disabled."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            if "frames" not in data.files:
                names = ", ".join(data.files) or "nothing"
                raise GaitDataError(path, f"no 'frames' array (holds {names})")
            frames = data["frames"]
            meta = json.loads(str(data["meta"])) if "meta" in data.files else {}
    except FileNotFoundError:
        raise GaitDataError(path, "file does not exist") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as err:
        if isinstance(err, GaitDataError):
            raise
        raise GaitDataError(path, f"not a readable .npz: {err}") from None
    if frames.ndim not in (2, 3):
        raise GaitDataError(path, f"expected frames [T, H, W], got shape {frames.shape}")
    return GaitSequence(
        frames,
        subject=meta.get("subject", path.stem),
        condition=meta.get("condition", "unknown"),
        view=meta.get("view", "unknown"),
        source=str(path),
        fps=float(meta.get("fps", 25.0)),
        extra=meta.get("extra", {}),
    )
