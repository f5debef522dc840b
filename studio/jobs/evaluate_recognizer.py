"""Evaluate a recognizer on a dataset's test split, or a covariate classifier on its judge's features.

- a recognizer: the CASIA-B protocol (rank-1 per condition and probe view, identical views
  excluded) or the ReID protocol (rank-1, rank-5, mAP, mINP), Euclidean per part or cosine; on
  request it also stores, in its weights folder, a verification threshold at a false-accept rate
  (`calibration.json`) and templates of every subject of the dataset (for novelty checks);
- a covariate classifier: its judge embeds the clips, and view (±18° and exact), clothing and
  carrying accuracies are scored.

Embeddings come from the dataset, or from an `.npz` written by `embed_dataset_to_npz`
(`studio embed`), so that one embedding serves several protocols.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from evaluation import covariate_accuracy, get_protocol
from gaitdata import Partition
from gaitdata.atomic import atomic_write_text
from recognizers import CovariateClassifier, load_model, load_recognizer, resolve_weights
from recognizers.calibration import calibrate as calibrate_threshold
from recognizers.calibration import save_calibration
from recognizers.embedding import DEFAULT_MAX_FRAMES, embed_dataset, load_embeddings
from studio.jobs.embed_dataset import split_subjects


@dataclass
class RecognizerEvaluation:
    """What `evaluate_recognizer_job` measured. `to_dict()` is the JSON it wrote.

    Attributes:
        results: `{"weights", "data", "sequences", "skipped"}` plus, for a recognizer, the
            protocol's result under its name (`"casia-b"` or `"reid"`), `"metric"` and, when asked,
            `"calibration"` and `"reference_templates"` (`{"subjects", "threshold"}`); for a
            covariate classifier, `"covariates"` (`evaluation.covariate_accuracy`).
        table: the protocol's text table (`format_table()`); None for a covariate classifier.
        read_summary: one line on what was read ("95 sequences read, 1 skipped"); None when the
            embeddings came from an `.npz`.
        embed_seconds: time spent reading and embedding the dataset (0 with an `.npz`).
        out: the JSON written.
    """

    results: dict
    table: str | None
    read_summary: str | None
    embed_seconds: float
    out: Path

    def to_dict(self) -> dict:
        return self.results


def evaluate_recognizer_job(
    weights: str | os.PathLike,
    out: str | os.PathLike,
    data: str | os.PathLike | None = None,
    partition: str | os.PathLike | Partition | None = None,
    protocol: str = "casia-b",
    metric: str = "euc",
    max_frames: int | None = DEFAULT_MAX_FRAMES,
    bf16: bool = False,
    embeddings: str | os.PathLike | None = None,
    calibrate: bool = False,
    far: float = 0.01,
    reference_templates: bool = False,
    progress: bool = True,
) -> RecognizerEvaluation:
    """Score a recognizer (or a covariate classifier) and write the results JSON (atomically).

    Args:
        weights: a recognizer's or covariate classifier's weights folder, or a bundled name.
        out: the results JSON to write.
        data: dataset root in the OpenGait layout; not needed with `embeddings` (whose meta names
            the dataset it came from).
        partition: partition JSON path or `Partition`: its TEST_SET is evaluated; None: every
            subject of `data`.
        protocol: "casia-b" or "reid" (recognizers only).
        metric: "euc" (Euclidean per part) or "cos" (cosine).
        max_frames: frames per test sequence at most (a centred window); None keeps all.
        bf16: bfloat16 autocast while embedding.
        embeddings: read embeddings and labels from this `.npz` (`embed_dataset_to_npz`) instead
            of embedding `data`.
        calibrate: store a verification threshold at false-accept rate `far` in the weights
            folder (`calibration.json`; recognizers only).
        far: the false-accept rate of that threshold and of the reference templates' threshold.
        reference_templates: store templates of EVERY subject of `data` (nm-01..04) in the
            weights folder, for novelty checks (recognizers only).
        progress: tqdm bars while embedding.

    Returns:
        A `RecognizerEvaluation`; its `results` are what `out` holds.

    Raises:
        ValueError: neither `data` nor `embeddings`; `reference_templates` without a dataset; an
            unknown protocol or metric.
        FileNotFoundError: no weights there (the message lists the bundled ones), or no `.npz`.
        GaitDataError: the partition file is missing or malformed (the message names it).
    """
    evaluator = get_protocol(protocol, metric)  # refuses an unknown protocol before any work
    folder = resolve_weights(weights)
    model = load_model(folder)
    is_covariate = isinstance(model, CovariateClassifier)
    recognizer = load_recognizer(model.config.judge) if is_covariate else model

    # 1. the embeddings: read from an .npz, or computed from the dataset's test split
    if embeddings is None and not data:
        raise ValueError("give --data (a dataset root) or --embeddings (an .npz from `studio embed`)")
    t0 = time.perf_counter()
    read_summary, skipped = None, []
    if embeddings is not None:
        vectors, labels, meta = load_embeddings(embeddings)
        data = data or meta.get("data")
    if reference_templates and not is_covariate and not data:
        raise ValueError("--reference-templates needs --data")  # checked before the slow part
    if embeddings is None:
        subjects = split_subjects(partition, "test")
        vectors, labels, report = embed_dataset(
            recognizer, data, subjects, max_frames=max_frames, bf16=bf16, progress=progress
        )
        skipped, read_summary = report.to_dict()["skipped"], report.summary()
    embed_seconds = 0.0 if embeddings is not None else time.perf_counter() - t0
    data = None if data is None else str(data)
    results = {"weights": str(folder), "data": data, "sequences": int(len(vectors)), "skipped": skipped}

    # 2. the scores
    table = None
    if is_covariate:
        results["covariates"] = covariate_accuracy(
            model.predict(vectors), labels["condition"], labels["view"], model.config
        )
    else:
        result = evaluator.evaluate(vectors, labels)
        results[protocol] = result.to_dict()
        results["metric"] = metric
        table = result.format_table()
        if calibrate:
            calibration = calibrate_threshold(vectors, labels["subject"], metric, far)
            calibration["data"] = data
            save_calibration(folder, calibration)
            results["calibration"] = calibration

    # 3. templates of every subject of the dataset, for novelty checks
    if reference_templates and not is_covariate:
        from evaluation.novelty import ReferenceTemplates

        references = ReferenceTemplates.from_dataset(recognizer, data, far=far, progress=progress)
        references.save(folder)
        results["reference_templates"] = {"subjects": len(references.subjects), "threshold": references.threshold}
    atomic_write_text(out, json.dumps(results, indent=2) + "\n")
    return RecognizerEvaluation(results, table, read_summary, embed_seconds, Path(out))
