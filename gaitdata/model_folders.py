"""Model folders given as "a bundled name or a folder": the one rule recognizers and generators share.

A model is a folder (`config.json` + `*.safetensors` for a recognizer, `pipeline_index.json` and
its parts for a generator); the bundled ones live under their package's `weights/`. Torch-free,
so the app can name what is installed without loading any model.
"""

from __future__ import annotations

import os
from pathlib import Path


def _holds(folder: Path, marker: str) -> bool:
    """`marker` names a file in `folder`, or a sub-folder when it ends with "/"."""
    return (folder / marker).is_dir() if marker.endswith("/") else (folder / marker).is_file()


def bundled_names(weights_dir: Path, marker: str) -> list[str]:
    """The names of the bundled folders under `weights_dir` that hold `marker`, sorted."""
    return sorted(p.name for p in Path(weights_dir).glob("*") if _holds(p, marker))


def resolve_model_folder(name_or_path: str | os.PathLike, weights_dir: Path, marker: str, what: str) -> Path:
    """The folder `name_or_path` names: itself when it holds `marker`, else the bundled one of that name.

    Args:
        name_or_path: a folder, or the name of one under `weights_dir`.
        weights_dir: where the bundled folders live (`recognizers/weights/`, `generators/weights/`).
        marker: the file a folder of this kind holds (`config.json`), or a sub-folder (`autoencoder/`).
        what: the kind of folder, for the error (e.g. "model folder (config.json + *.safetensors)").

    Raises:
        FileNotFoundError: neither is there; the message lists what is bundled.
    """
    path = Path(name_or_path)
    if _holds(path, marker):
        return path
    bundled = Path(weights_dir) / str(name_or_path)
    if _holds(bundled, marker):
        return bundled
    raise FileNotFoundError(
        f"{name_or_path}: no {what} there, nor bundled; bundled: {bundled_names(weights_dir, marker)}"
    )


__all__ = ["bundled_names", "resolve_model_folder"]
