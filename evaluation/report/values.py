"""What the fidelity report's parts share: JSON-ready values, condition types, small summaries,
and `Section`, the base of every typed section (its `to_dict()` is the JSON the report holds)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from gaitdata.json_values import json_ready

Key = tuple[str, str, str]  # (subject, condition, view)


class Section:
    """A typed part of the report; `to_dict()` gives the JSON-ready dict that part is in the report."""

    def fields(self) -> dict:
        """The section's entries, in the report's order (values not yet JSON-ready); by default the
        dataclass's fields as declared."""
        return dict(vars(self))

    def to_dict(self) -> dict:
        return json_ready(self.fields(), significant=6)  # what JSON (and the page) holds


class MaybeSection(Section):
    """A section that may be missing: when its `reason` field is set it is only `{FLAG: False, "reason"}`,
    else `{FLAG: True, <its other fields>, **TAIL}`."""

    FLAG = "defined"
    TAIL: ClassVar[dict] = {}

    def fields(self) -> dict:
        if self.reason is not None:
            return {self.FLAG: False, "reason": self.reason}
        return {self.FLAG: True, **{k: v for k, v in vars(self).items() if k != "reason"}, **self.TAIL}


def condition_group(condition: str) -> str:
    """`"cl-01"` → `"CL"`: the probe set a condition belongs to (its type)."""
    return str(condition).split("-")[0].upper()


def unit_rows(embeddings: np.ndarray) -> np.ndarray:
    """Embeddings flattened per clip and scaled to unit length, `float64 [N, c·p]`."""
    x = np.asarray(embeddings, np.float64).reshape(len(embeddings), -1)
    return x / np.linalg.norm(x, axis=1, keepdims=True).clip(min=1e-12)


def percent(fraction: float | None) -> float | None:
    return None if fraction is None else 100 * fraction


def calibrated_far(calibration: dict) -> float | None:
    """The FAR the threshold was set for (`target_far`), else the one it achieved (`far`)."""
    return calibration.get("target_far", calibration.get("far"))


def summary(values) -> dict:
    """`{"mean", "median", "count"}` of some numbers (None, None, 0 when there are none)."""
    values = np.asarray(values, np.float64)
    if not len(values):
        return {"mean": None, "median": None, "count": 0}
    return {"mean": float(values.mean()), "median": float(np.median(values)), "count": int(len(values))}
