"""A generation pipeline as a folder: what `save_pretrained` writes and `from_pretrained` reads.

The folder holds one sub-folder per part, each written by the part's own `save_pretrained`
(`autoencoder/`, `denoiser/`, `scheduler/`, and `identity_bank/` when the pipeline has one), and
`pipeline_index.json` naming the class of each, in the manner of diffusers' `model_index.json`.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, SchedulerMixin

from gaitdata import GaitDataError
from generators.autoencoder import SilhouetteAutoencoder
from generators.denoiser import GaitLatentDenoiser
from generators.identity_bank import IdentityBank

SCHEDULERS = {"ddim": DDIMScheduler, "dpm": DPMSolverMultistepScheduler}
INDEX_FILE = "pipeline_index.json"


def save_pipeline_folder(
    folder: str | os.PathLike,
    autoencoder: SilhouetteAutoencoder,
    denoiser: GaitLatentDenoiser,
    scheduler: SchedulerMixin,
    identity_bank: IdentityBank | None = None,
    half: bool = False,
) -> None:
    """Write the parts of a pipeline to `folder`; `half` stores weights in float16 (half the size; loads as float32)."""
    folder = Path(folder)
    for name, model in (("autoencoder", autoencoder), ("denoiser", denoiser)):
        (copy.deepcopy(model).half() if half else model).save_pretrained(folder / name)
    scheduler.save_pretrained(folder / "scheduler")
    if identity_bank is not None:
        identity_bank.save(folder / "identity_bank")
    index = {"autoencoder": "SilhouetteAutoencoder", "denoiser": "GaitLatentDenoiser"}
    index["scheduler"] = type(scheduler).__name__
    (folder / INDEX_FILE).write_text(json.dumps(index, indent=1) + "\n")


def load_pipeline_folder(
    folder: str | os.PathLike, scheduler: str | None = None
) -> tuple[SilhouetteAutoencoder, GaitLatentDenoiser, SchedulerMixin, IdentityBank | None]:
    """The parts of a pipeline folder: (autoencoder, denoiser, scheduler, identity bank or None),
    the models in float32; `scheduler` ('ddim' or 'dpm') overrides the saved one.

    Raises:
        GaitDataError: the folder or one of its parts is missing or corrupt.
        ValueError: an unknown `scheduler` name.
    """
    folder = Path(folder)
    for part in ("autoencoder", "denoiser", "scheduler"):
        if not (folder / part).is_dir():
            raise GaitDataError(folder, f"not a generator folder: '{part}/' is missing")
    try:
        autoencoder = SilhouetteAutoencoder.from_pretrained(folder / "autoencoder", torch_dtype=torch.float32)
        denoiser = GaitLatentDenoiser.from_pretrained(folder / "denoiser", torch_dtype=torch.float32)
        index = json.loads((folder / INDEX_FILE).read_text())
    except (OSError, ValueError, RuntimeError, json.JSONDecodeError) as err:
        raise GaitDataError(folder, f"cannot load generator weights: {err}") from None
    name = scheduler or {"DDIMScheduler": "ddim"}.get(index.get("scheduler"), "dpm")
    if name not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {name!r}; allowed: {', '.join(SCHEDULERS)}")
    sched = SCHEDULERS[name].from_pretrained(folder / "scheduler")
    bank = None
    if (folder / "identity_bank").is_dir():
        bank = IdentityBank.load(folder / "identity_bank")
    return autoencoder, denoiser, sched, bank


__all__ = ["INDEX_FILE", "SCHEDULERS", "load_pipeline_folder", "save_pipeline_folder"]
