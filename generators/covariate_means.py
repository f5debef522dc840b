"""`CovariateMeans`: where the conditioner puts each condition type and view, on average, and
the shift that takes a person's embedding from the covariates it was read under to others.

Steering a clip toward its reference's embedding (`generators.identity_guidance`) also steers it
toward the reference's clothes, bag and view: an nm clip's embedding says "no coat", and steered
coat edits lost their coat (issue 12). The conditioner's mean embedding of the training people
per condition type (nm / bg / cl) and view is known, so the steering target can be moved by
`mean(target covariates) − mean(reference covariates)`: the same person, as the conditioner on
average sees people in a coat at that view. On walker test subjects (nm-05 → cl-01 at another
view, standardised) the shifted embedding is closer to the person's real cl-01 clip (cosine
0.513 → 0.586).

Means are of unit raw conditioner embeddings, one per (type, view) cell with its clip count;
an unknown type or view is the count-weighted mean over it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from gaitdata import GaitDataError
from generators.conditions import carrying_index, clothing_index, parse_view

FILE = "covariate_means.safetensors"
TYPES = ("nm", "bg", "cl")
KEYS = ("view", "clothing", "carrying")
MAX_VIEW_OFFSET = 9.0  # degrees from the nearest stored view; farther, the view is treated as unknown


def condition_type(covariates: dict) -> str | None:
    """`nm`, `bg` or `cl` for `{"clothing", "carrying"}` (names or class indices), None when
    they leave it open."""
    clothing, carrying = covariates.get("clothing"), covariates.get("carrying")
    if clothing is not None and clothing_index(clothing):
        return "cl"
    if clothing is None or carrying is None:
        return None
    return "bg" if carrying_index(carrying) else "nm"


class CovariateMeans:
    """Mean unit conditioner embeddings per (condition type, view) cell.

    Args:
        means: `{(type, view angle): float32 [E]}`.
        counts: `{(type, view angle): clips}` behind each mean.
    """

    def __init__(self, means: dict[tuple[str, int], np.ndarray], counts: dict[tuple[str, int], int]):
        if not means or set(means) != set(counts):
            raise ValueError("need one count per (type, view) mean, and at least one mean")
        self.means = {key: np.asarray(value, np.float32) for key, value in means.items()}
        self.counts = {key: int(value) for key, value in counts.items()}

    @classmethod
    def from_embeddings(cls, embeddings: np.ndarray, conditions, views) -> CovariateMeans:
        """Per-clip embeddings `[M, E]` with their condition names (`nm-01`… or just the type) and
        views (`'090'` or degrees); clips of another type or no view (None) are left out."""
        unit = np.asarray(embeddings, np.float32).reshape(len(embeddings), -1)
        unit = unit / np.linalg.norm(unit, axis=1, keepdims=True).clip(min=1e-12)
        keys = [
            None if v is None else (str(c).split("-")[0].lower(), int(round(parse_view(v))) % 360)
            for c, v in zip(conditions, views)
        ]
        means, counts = {}, {}
        for key in sorted({k for k in keys if k is not None and k[0] in TYPES}):
            rows = [i for i, k in enumerate(keys) if k == key]
            means[key], counts[key] = unit[rows].mean(0), len(rows)
        return cls(means, counts)

    def mean(self, kind: str | None, view: float | None) -> np.ndarray:
        """The mean embedding of a type and view; None for either = count-weighted over it."""
        angle = None if view is None else self._stored_view(view)
        cells = [k for k in self.means if (kind is None or k[0] == kind) and (angle is None or k[1] == angle)]
        if not cells:  # a type or view never seen: the mean over what was seen
            cells = [k for k in self.means if angle is None or k[1] == angle] or list(self.means)
        weights = np.array([self.counts[k] for k in cells], np.float64)
        return (np.stack([self.means[k] for k in cells]) * (weights / weights.sum())[:, None]).sum(0)

    def _stored_view(self, view: float) -> int | None:
        angles = sorted({k[1] for k in self.means})
        offsets = [abs((float(view) - a + 180.0) % 360.0 - 180.0) for a in angles]
        best = int(np.argmin(offsets))
        return angles[best] if offsets[best] <= MAX_VIEW_OFFSET else None

    def shift(self, reference: dict, target: dict) -> np.ndarray:
        """`[E]` to add to a unit embedding read under `reference` covariates to get it under
        `target` ones (`{"view", "clothing", "carrying"}`; what the target leaves None stays
        as the reference's)."""
        merged = {key: reference.get(key) if target.get(key) is None else target[key] for key in KEYS}
        views = [None if c.get("view") is None else parse_view(c["view"]) for c in (reference, merged)]
        start = self.mean(condition_type(reference), views[0])
        return (self.mean(condition_type(merged), views[1]) - start).astype(np.float32)

    # ---- files ----------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> None:
        keys = sorted(self.means)
        tensors = {f"{kind}/{angle:03d}": self.means[(kind, angle)] for kind, angle in keys}
        counts = {f"{kind}/{angle:03d}": self.counts[(kind, angle)] for kind, angle in keys}
        save_file(tensors, str(Path(folder) / FILE), metadata={"counts": json.dumps(counts)})

    @classmethod
    def load(cls, folder: str | os.PathLike) -> CovariateMeans | None:
        """The means saved in `folder`, None when it has none."""
        path = Path(folder) / FILE
        if not path.exists():
            return None
        try:
            with safe_open(str(path), "numpy") as f:  # one read: the counts ride in the header
                counts = json.loads(f.metadata()["counts"])
                tensors = {name: f.get_tensor(name) for name in f.keys()}
            keys = {name: (name.split("/")[0], int(name.split("/")[1])) for name in tensors}
            return cls({keys[n]: v for n, v in tensors.items()}, {keys[n]: counts[n] for n in tensors})
        except (OSError, KeyError, ValueError, TypeError, IndexError, SafetensorError) as err:
            raise GaitDataError(path, f"not a covariate-means file: {err}") from None


__all__ = ["FILE", "MAX_VIEW_OFFSET", "TYPES", "CovariateMeans", "condition_type"]
