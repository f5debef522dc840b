"""What the editor evaluation's parts share: the sources' views, the real split (`_RealSplit`: the
judge's embeddings of the real clips, gallery and probes), reading, rank-1 and rounding."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from evaluation.covariates import covariate_accuracy
from evaluation.protocols import CASIA_B_GALLERY, CASIA_B_PROBES, CasiaBProtocol
from gaitdata import GaitDataError, GaitSequence
from gaitdata.opengait import read_pkl_sequence
from generators.conditions import parse_view, view_name

logger = logging.getLogger(__name__)

# edit kind → the editor's arguments (VIEW's target is per source), its probe label, the real
# probes it is compared with, and the covariate head that must read the requested attribute
EDITS = {
    "BG": {
        "args": {"carrying": "bag"},
        "label": "bg-edit",
        "real": CASIA_B_PROBES["BG"],
        "head": "carrying",
        "change": "carrying",
    },
    "CL": {
        "args": {"clothing": "coat"},
        "label": "cl-edit",
        "real": CASIA_B_PROBES["CL"],
        "head": "clothing",
        "change": "clothing",
    },
    "VIEW": {
        "args": {},
        "label": "nm-edit",
        "real": CASIA_B_PROBES["NM"],
        "head": "view_within_tolerance",
        "change": "view",
    },
}


def source_views(index: int, views: Sequence[str], per_subject: int) -> list[str]:
    """The views of subject number `index`: `per_subject` consecutive ones, rotating over `views`."""
    k = min(per_subject, len(views))
    return [views[(index * k + j) % len(views)] for j in range(k)]


def shifted_view(view: str, shift: float) -> str:
    """The view `shift` degrees away, folded back into 0–180° (`'036'`, 54 → `'090'`; `'162'` → `'108'`)."""
    deg = parse_view(view)
    target = deg + shift if deg + shift <= 180.0 else deg - shift
    return view_name(max(target, 0.0))


def _labels(sequences: list[GaitSequence]) -> dict[str, np.ndarray]:
    return {
        "subject": np.array([s.subject for s in sequences]),
        "condition": np.array([s.condition for s in sequences]),
        "view": np.array([s.view for s in sequences]),
    }


def _read(entries) -> tuple[list[GaitSequence], list[dict]]:
    """Read sequence folders; unreadable ones are skipped and listed with the reason."""
    sequences, skipped = [], []
    for entry in entries:
        try:
            sequences.append(read_pkl_sequence(entry))
        except GaitDataError as err:
            logger.warning("skipped %s", err)
            skipped.append({"path": str(err.path or entry.folder), "problem": err.problem})
    return sequences, skipped


def _bar(items, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="clip")


def _rank1(protocol: CasiaBProtocol, gallery_emb, gallery_labels, probe_emb, probe_labels) -> dict[str, float]:
    emb = np.concatenate([gallery_emb, probe_emb])
    labels = {k: np.concatenate([gallery_labels[k], probe_labels[k]]) for k in gallery_labels}
    return protocol.evaluate(emb, labels).mean


def _subset(labels: dict, rows: np.ndarray) -> dict:
    return {k: v[rows] for k, v in labels.items()}


def _pair_rows(labels: dict, conditions, pairs: set) -> np.ndarray:
    """Rows of the given conditions whose (subject, view) is among `pairs`."""
    keyed = [(s, v) in pairs for s, v in zip(labels["subject"], labels["view"], strict=True)]
    return np.isin(labels["condition"], conditions) & np.asarray(keyed, bool)


def _rounded(values: dict, digits: int = 2) -> dict:
    return {k: _round(v, digits) if isinstance(v, float) else v for k, v in values.items()}


def _round(value, digits: int = 3):
    return None if value is None or not np.isfinite(value) else round(float(value), digits)


@dataclass
class _RealSplit:
    """The real test clips read for the evaluation, their judge embeddings, and the scorers."""

    judge: object
    calibration: dict
    classifier: object
    sequences: list[GaitSequence]
    embeddings: np.ndarray
    labels: dict[str, np.ndarray]
    is_source: np.ndarray
    source_pairs: set

    @property
    def sources(self) -> list[GaitSequence]:
        return [s for s, src in zip(self.sequences, self.is_source, strict=True) if src]

    @property
    def gallery(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        rows = np.isin(self.labels["condition"], CASIA_B_GALLERY)
        return self.embeddings[rows], _subset(self.labels, rows)

    def covariates(self, embeddings: np.ndarray, conditions, views) -> dict:
        return covariate_accuracy(self.classifier.predict(embeddings), conditions, views, self.classifier.config)
