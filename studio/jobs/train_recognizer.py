"""Train a recognizer (GaitBase / GaitSet / GEINet) or the covariate classifier on a dataset's TRAIN_SET.

The config's `model.type` says which:

- a recognizer trains with triplet + cross-entropy losses (`recognizers.training.train_recognizer`,
  resumable); rank-1 on (part of) the TEST_SET, as the config's `evaluator` section asks, is
  logged every `trainer.eval_every` steps and at the end, and drawn in `curves.png`;
- the covariate classifier ("CovariateClassifier") trains heads on a frozen judge's features
  (`recognizers.training.train_covariate_classifier`), then its view / clothing / carrying
  accuracies on the TEST_SET are written to `results.json`.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from evaluation import covariate_accuracy, get_protocol
from gaitdata import Partition, read_partition
from gaitdata.atomic import atomic_write_text
from recognizers import load_recognizer
from recognizers.augment import ClipAugment
from recognizers.data import load_clip_store
from recognizers.training import (
    RECOGNIZER_TYPES,
    read_config,
    read_log,
    train_covariate_classifier,
    train_recognizer,
)

logger = logging.getLogger(__name__)

MODEL_TYPES = (*sorted(RECOGNIZER_TYPES), "CovariateClassifier")
COVARIATE_MAX_FRAMES = 300  # frames per sequence read for the covariate classifier (a centred window)


def _training_config(config: str | os.PathLike | dict) -> tuple[dict, str]:
    """A private copy of the config, checked, and what to call it in error messages."""
    if isinstance(config, dict):
        config, source = copy.deepcopy(config), "the config"
    else:
        source = str(config)
        try:
            config = read_config(config)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{source}: not valid JSON: {err}") from None
    model = config.get("model") if isinstance(config, dict) else None
    kind = model.get("type") if isinstance(model, dict) else None
    if kind not in MODEL_TYPES:
        raise ValueError(f"{source}: 'model.type' must be one of {list(MODEL_TYPES)}, got {kind!r}")
    transform = config.get("transform", {})
    try:  # a misspelt or out-of-range augmentation is refused now, not after minutes of reading
        ClipAugment.from_config(transform)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{source}: bad 'transform' section: {err}") from None
    return config, source


def rank1_evaluator(
    config: dict, data: str | os.PathLike, test_subjects: list[str], progress: bool = True
) -> Callable | None:
    """Rank-1 on (part of) the test split, for the training curves.

    Args:
        config: a recognizer training config; its `evaluator` section reads `eval_every_enabled`
            (default true), `subjects` (the first that many test subjects; default all),
            `max_frames` (default 30), `protocol` ("casia-b" or "reid") and `metric`; its
            `trainer.mixed_precision` "bf16" embeds under bfloat16.
        data: dataset root in the OpenGait layout.
        test_subjects: the partition's TEST_SET.
        progress: a tqdm bar while reading the clips (read once, here).

    Returns:
        `evaluate(model) -> {name: number}` (rank-1 per condition for CASIA-B, rank-1 and mAP for
        ReID; in %, 2 decimals), as `train_recognizer(evaluate_fn=...)` takes it; None when the
        config asks for no evaluation or there are no test subjects.
    """
    evaluator = config.get("evaluator", {})
    if not evaluator.get("eval_every_enabled", True) or not test_subjects:
        return None
    subjects = test_subjects[: evaluator.get("subjects", len(test_subjects))]
    max_frames = evaluator.get("max_frames", 30)
    store = load_clip_store(data, subjects=subjects, max_frames=max_frames, progress=progress)
    protocol = get_protocol(evaluator.get("protocol", "casia-b"), evaluator.get("metric", "euc"))
    bf16 = config.get("trainer", {}).get("mixed_precision") == "bf16"

    def evaluate(model) -> dict:
        embeddings = model.embed(store.frames, max_frames=max_frames, bf16=bf16)
        result = protocol.evaluate(embeddings, store.labels)
        if hasattr(result, "mean"):
            return {k: round(v, 2) for k, v in result.mean.items()}
        return {"rank1": round(result.rank1, 2), "mAP": round(result.mAP, 2)}

    return evaluate


def _train_covariates(
    config: dict, source: str, data, partition: Partition, out: Path, steps, seed, judge, progress: bool
) -> dict:
    """The covariate classifier on the judge's features, scored on the TEST_SET (`results.json`)."""
    judge_name = str(judge) if judge else config.get("judge")
    if not judge_name:
        raise ValueError(f"{source}: the covariate classifier needs a judge: set 'judge' in the config or pass --judge")
    config["judge"] = judge_name
    started = time.perf_counter()
    judge_model = load_recognizer(judge_name)
    train = load_clip_store(data, subjects=partition.train, max_frames=COVARIATE_MAX_FRAMES, progress=progress)
    seed = seed if seed is not None else config.get("seed", 0)
    if steps:
        config["steps"] = steps
    classifier = train_covariate_classifier(judge_model, train, out, config, seed=seed, progress=progress)
    test = load_clip_store(data, subjects=partition.test, max_frames=COVARIATE_MAX_FRAMES, progress=progress)
    features = judge_model.embed(test.frames, bf16=config.get("bf16", True), progress=progress)
    scores = covariate_accuracy(classifier.predict(features), test.conditions, test.views, classifier.config)
    atomic_write_text(out / "results.json", json.dumps({"test": scores, "config": config}, indent=2) + "\n")
    return {
        "kind": "covariate-classifier",
        "out": str(out),
        "weights": str(out / "model"),
        "results": str(out / "results.json"),
        "judge": judge_name,
        "train_sequences": len(train),
        "test_sequences": len(test),
        "test": scores,
        "seconds": round(time.perf_counter() - started, 1),
    }


def train_recognizer_job(
    config: str | os.PathLike | dict,
    data: str | os.PathLike,
    partition: str | os.PathLike | Partition,
    out: str | os.PathLike,
    steps: int | None = None,
    seed: int | None = None,
    resume: bool = False,
    judge: str | os.PathLike | None = None,
    progress: bool = True,
    init: str | os.PathLike | None = None,
) -> dict:
    """Train what the config names on the partition's TRAIN_SET and score it on its TEST_SET.

    Args:
        config: a training config: a JSON path (`configs/recognizers/*.json`) or its dict (copied,
            never changed). `model.type` is "GaitBase", "GaitSet", "GEINet" or "CovariateClassifier".
        data: dataset root in the OpenGait layout.
        partition: partition JSON path (`{"TRAIN_SET": [...], "TEST_SET": [...]}`) or `Partition`.
        out: run folder. A recognizer writes `config.json`, `log.jsonl`, `checkpoints/`,
            `curves.png` and `model/`; the covariate classifier `log.jsonl`, `model/` and
            `results.json` (`{"test": accuracies, "config": the config as trained}`).
        steps: total training steps (overrides `trainer.total_steps`, or the classifier's `steps`).
        seed: overrides `trainer.seed` (the classifier: the config's `seed`, default 0).
        resume: continue from the latest checkpoint in `out` (recognizers only).
        judge: the covariate classifier's judge, a weights folder or bundled name (overrides the
            config's `judge`); recognizers ignore it.
        progress: tqdm bars.
        init: fine-tune a recognizer from trained weights (a bundled name, e.g. the walker-trained
            "gaitbase-walkers", or a model folder): every weight but a new classifier head for the
            training identities. Checked against the config before any data is read.

    Returns:
        JSON-ready. A recognizer: `{"kind": "recognizer", "model_type", "out", "weights" (the
        model folder), "curves", "log", "train": {"sequences", "subjects", "read"}, "steps",
        "eval" (the last logged rank-1 metrics, or None), "data_seconds", "seconds"}`. The
        covariate classifier: `{"kind": "covariate-classifier", "out", "weights", "results",
        "judge", "train_sequences", "test_sequences", "test" (its accuracies in %), "seconds"}`.

    Raises:
        ValueError: the config is not valid JSON or has no known `model.type` (the message names
            the file); the covariate classifier has no judge; `init` is another architecture or
            size than the config builds (both named), or is given for the covariate classifier.
        FileNotFoundError: no config file; no judge by that name; `resume` without a checkpoint.
        GaitDataError: the partition file is missing or malformed (the message names it).
        FileExistsError: `out` is not empty and `resume` is False (recognizers).
    """
    config, source = _training_config(config)
    partition = partition if isinstance(partition, Partition) else read_partition(partition)
    out = Path(out)
    if config["model"]["type"] == "CovariateClassifier":
        if init is not None:
            raise ValueError(f"{source}: --init fine-tunes a recognizer, not the covariate classifier")
        return _train_covariates(config, source, data, partition, out, steps, seed, judge, progress)
    if init is not None and not resume:  # a wrong --init is refused before minutes of reading
        from recognizers import load_recognizer
        from recognizers.training import build_recognizer, initialise_from

        initialise_from(build_recognizer(config["model"], class_num=2), config["model"], load_recognizer(init), init)

    # 1. the training clips, and the rank-1 evaluator's test clips (read once)
    started = time.perf_counter()
    max_frames = config.get("sampler", {}).get("max_frames", 500)  # bounds RAM on very long sequences
    train = load_clip_store(data, subjects=partition.train, max_frames=max_frames, progress=progress)
    subjects = len(set(train.subjects))
    logger.info("training set: %d sequences of %d subjects (%s)", len(train), subjects, train.report.summary())
    evaluate = rank1_evaluator(config, data, partition.test, progress)
    data_seconds = time.perf_counter() - started
    logger.info("data ready in %.0f s", data_seconds)

    # 2. training (checkpointed; the evaluator logs rank-1 on the way and at the end)
    train_recognizer(
        config, train, out, steps=steps, seed=seed, resume=resume, evaluate_fn=evaluate, progress=progress, init=init
    )
    log = read_log(out / "log.jsonl")
    evals = [record["eval"] for record in log if "eval" in record]
    return {
        "kind": "recognizer",
        "model_type": config["model"]["type"],
        "init": None if init is None else str(init),
        "out": str(out),
        "weights": str(out / "model"),
        "curves": str(out / "curves.png"),
        "log": str(out / "log.jsonl"),
        "train": {"sequences": len(train), "subjects": subjects, "read": train.report.to_dict()},
        "steps": max((record.get("step", 0) for record in log), default=0),
        "eval": evals[-1] if evals else None,
        "data_seconds": round(data_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
