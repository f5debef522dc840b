"""Silhouette generation: frame autoencoder + latent denoiser (+ diffusers schedulers) = pipelines.

- `SilhouetteAutoencoder` — 64×44 frames ↔ 128 numbers;
- `GaitLatentDenoiser` — a temporal transformer over a clip's frame latents;
- `GaitGenerationPipeline` — conditions (identity, view, clothing, carrying, speed) in, clips out;
- `IdentityBank` — known identities and novel ones made from them.

`load_generator()` loads the bundled pipeline trained on the procedural walkers. The models load
torch on first use of one of these names, so torch-free parts (`generators.settings`) import fast
(the web app's start-up).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from gaitdata.model_folders import resolve_model_folder

# public name → the module that defines it (imported on first access, PEP 562)
_LAZY = {
    "SilhouetteAutoencoder": "generators.autoencoder",
    "GaitLatentDenoiser": "generators.denoiser",
    "IdentityBank": "generators.identity_bank",
    "GaitGenerationPipeline": "generators.pipeline",
    "GenerationCancelled": "generators.sampling",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'generators' has no attribute {name!r}")


WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
BUNDLED_GENERATOR = "walkers"


def resolve_generator(name_or_path: str | os.PathLike = BUNDLED_GENERATOR) -> Path:
    """A generator pipeline folder: an existing path, or the name of a bundled one under `generators/weights/`."""
    return resolve_model_folder(
        name_or_path, WEIGHTS_DIR, "pipeline_index.json", "generator folder (pipeline_index.json)"
    )


def load_generator(name_or_path: str | os.PathLike = BUNDLED_GENERATOR, conditioner=None, scheduler=None):
    """A generation pipeline from a folder, or the bundled one by name (default: `walkers`).

    Args:
        name_or_path: a pipeline folder, or the name of one under `generators/weights/`.
        conditioner: recognizer that embeds identity clips (default: the bundled conditioner,
            loaded on first use of a clip as identity).
        scheduler: "dpm" or "ddim" to override the saved sampler.
    """
    path = resolve_generator(name_or_path)
    if conditioner is None:
        import recognizers

        conditioner = recognizers.load_conditioner()
    from generators.pipeline import GaitGenerationPipeline

    return GaitGenerationPipeline.from_pretrained(path, conditioner=conditioner, scheduler=scheduler)


__all__ = [
    "BUNDLED_GENERATOR",
    "GaitGenerationPipeline",
    "GaitLatentDenoiser",
    "GenerationCancelled",
    "IdentityBank",
    "SilhouetteAutoencoder",
    "WEIGHTS_DIR",
    "load_generator",
    "resolve_generator",
]
