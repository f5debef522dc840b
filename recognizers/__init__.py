"""Bundled gait recognizers: clips in, identity embeddings out.

- `GaitBase` — the CONDITIONER (its embeddings condition the generators);
- `GaitSet` — the JUDGE (an independent architecture and seed, scores what was generated);
- `CovariateClassifier` — view / clothing / carrying heads over the judge's embeddings;
- `GEINet` — an ATTACKER (GEI + 2-D CNN, another architecture and seed): measures what identity
  anonymized clips keep, at its own threshold; the anonymizer never consults it.

Each is a model folder (`config.json` + `model.safetensors`, optionally `calibration.json` and a
model card), loaded by `from_pretrained(folder)`; the bundled ones by `load_conditioner()`,
`load_judge()`, `load_covariate_classifier()` and `load_attacker()`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from gaitdata.model_folders import resolve_model_folder
from recognizers.calibration import calibrate, load_calibration, save_calibration, threshold_at_far, verify
from recognizers.covariates import CovariateClassifier
from recognizers.distance import pairwise_distance
from recognizers.gaitbase import GaitBase
from recognizers.gaitset import GaitSet
from recognizers.geinet import GEINet
from recognizers.outputs import RecognizerOutput

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
CONDITIONER = "gaitbase-walkers"
JUDGE = "gaitset-walkers"
COVARIATE_CLASSIFIER = "covariates-walkers"
ATTACKER = "geinet-attacker-walkers"

_MODEL_CLASSES = {
    "GaitBase": GaitBase,
    "GaitSet": GaitSet,
    "GEINet": GEINet,
    "CovariateClassifier": CovariateClassifier,
}
_RECOGNIZERS = (GaitBase, GaitSet, GEINet)


def resolve_weights(name_or_path: str | os.PathLike) -> Path:
    """A weights folder: an existing path, or the name of a bundled folder under `recognizers/weights/`."""
    return resolve_model_folder(name_or_path, WEIGHTS_DIR, "config.json", "model folder (config.json + *.safetensors)")


def load_model(name_or_path: str | os.PathLike):
    """Any model folder written by `save_pretrained` here: the class is read from its config.json."""
    folder = resolve_weights(name_or_path)
    class_name = json.loads((folder / "config.json").read_text()).get("_class_name")
    if class_name not in _MODEL_CLASSES:
        raise ValueError(f"{folder}: config.json names class {class_name!r}, expected one of {sorted(_MODEL_CLASSES)}")
    model = _MODEL_CLASSES[class_name].from_pretrained(folder)
    return model.eval()


def load_recognizer(name_or_path: str | os.PathLike) -> GaitBase | GaitSet | GEINet:
    """A recognizer (GaitBase, GaitSet or GEINet) from a folder or bundled name, in eval mode."""
    model = load_model(name_or_path)
    if not isinstance(model, _RECOGNIZERS):
        raise ValueError(f"{name_or_path}: holds a {type(model).__name__}, not a recognizer")
    return model


def load_conditioner() -> GaitBase:
    """The bundled GaitBase trained on the walker dataset (conditions the generators)."""
    return load_recognizer(CONDITIONER)


def load_judge() -> GaitSet:
    """The bundled GaitSet trained on the walker dataset (scores identity; never the conditioner)."""
    return load_recognizer(JUDGE)


def load_attacker() -> GEINet:
    """The bundled GEINet attacker trained on the walker training subjects (never consulted by the
    anonymizer); its own FAR-1% threshold: `load_calibration(resolve_weights(ATTACKER))`."""
    return load_recognizer(ATTACKER)


def load_covariate_classifier() -> CovariateClassifier:
    """The bundled covariate classifier; feed it `load_judge().embed(...)` features."""
    return load_model(COVARIATE_CLASSIFIER)


__all__ = [
    "ATTACKER",
    "COVARIATE_CLASSIFIER",
    "CONDITIONER",
    "JUDGE",
    "WEIGHTS_DIR",
    "CovariateClassifier",
    "GEINet",
    "GaitBase",
    "GaitSet",
    "RecognizerOutput",
    "calibrate",
    "load_attacker",
    "load_calibration",
    "load_conditioner",
    "load_covariate_classifier",
    "load_judge",
    "load_model",
    "load_recognizer",
    "pairwise_distance",
    "resolve_weights",
    "save_calibration",
    "threshold_at_far",
    "verify",
]
