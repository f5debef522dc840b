"""Covariate classifier: view, clothing and carrying read off the JUDGE's embeddings.

Used to score generated and edited clips ("is this clip really at 054° in a coat?"). It is a
small head over frozen judge features, saved as its own model folder; its config names the
judge it reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.utils import BaseOutput
from torch import nn

from gaitdata.casia_b import CARRYING, CLOTHING, CONDITION_COVARIATES, VIEW_ANGLES
from recognizers.modules import SeparateFCs


@dataclass
class CovariateOutput(BaseOutput):
    """Logits of each head: `view [n, len(view_angles)]`, `clothing [n, 2+]`, `carrying [n, 2+]`."""

    view: torch.Tensor | None = None
    clothing: torch.Tensor | None = None
    carrying: torch.Tensor | None = None


def covariate_targets(
    conditions, views, view_angles, clothing_classes, carrying_classes, condition_map=None
) -> dict[str, np.ndarray]:
    """Class indices of each head for sequences named by condition (`"cl-01"`) and view (`"054"`).

    Returns `{"view", "clothing", "carrying"}` → `int64 [N]`; -1 where the name is not covered
    (a view not in `view_angles`, a condition prefix not in `condition_map`).
    """
    condition_map = condition_map or CONDITION_COVARIATES  # CASIA-B's naming
    view_index = {int(a): i for i, a in enumerate(view_angles)}
    out = {"view": [], "clothing": [], "carrying": []}
    for condition, view in zip(conditions, views, strict=True):
        try:
            out["view"].append(view_index.get(int(view), -1))
        except ValueError:
            out["view"].append(-1)
        pair = condition_map.get(str(condition).split("-")[0])
        out["clothing"].append(clothing_classes.index(pair[0]) if pair else -1)
        out["carrying"].append(carrying_classes.index(pair[1]) if pair else -1)
    return {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}


def angular_error(predicted_degrees: np.ndarray, true_degrees: np.ndarray) -> np.ndarray:
    """Absolute angle difference in degrees, on the circle (0…180)."""
    diff = np.abs(np.asarray(predicted_degrees, float) - np.asarray(true_degrees, float)) % 360
    return np.minimum(diff, 360 - diff)


class CovariateClassifier(ModelMixin, ConfigMixin):
    """Three heads over judge part embeddings `[n, c, p]`: per-part reduction → shared MLP → heads.

    Args:
        in_channels, parts_num: shape of the judge's embeddings (`c`, `p`).
        part_channels: each part is first mapped to this many channels (keeps the head small).
        hidden: width of the shared layer.
        view_angles: the view classes, in degrees.
        clothing_classes, carrying_classes: class names of the two other heads.
        condition_map: condition prefix → [clothing, carrying] names (how training labels were read).
        judge: the judge weights folder whose embeddings this classifier reads (a name under
            `recognizers/weights/`, or a path).
    """

    @register_to_config
    def __init__(
        self,
        in_channels: int = 128,
        parts_num: int = 62,
        part_channels: int = 16,
        hidden: int = 128,
        dropout: float = 0.2,
        view_angles: tuple[int, ...] = VIEW_ANGLES,
        clothing_classes: tuple[str, ...] = CLOTHING,
        carrying_classes: tuple[str, ...] = CARRYING,
        condition_map: dict | None = None,
        judge: str = "gaitset-walkers",
    ):
        super().__init__()
        self.reduce = SeparateFCs(parts_num, in_channels, part_channels)
        self.trunk = nn.Sequential(
            nn.BatchNorm1d(parts_num * part_channels),
            nn.Linear(parts_num * part_channels, hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
        )
        self.view_head = nn.Linear(hidden, len(view_angles))
        self.clothing_head = nn.Linear(hidden, len(clothing_classes))
        self.carrying_head = nn.Linear(hidden, len(carrying_classes))

    def forward(self, embeddings: torch.Tensor) -> CovariateOutput:
        """`embeddings float [n, c, p]` from the judge → `CovariateOutput` of logits."""
        x = self.reduce(embeddings)  # [n, part_channels, p]
        x = self.trunk(x.flatten(1))  # [n, hidden]
        return CovariateOutput(view=self.view_head(x), clothing=self.clothing_head(x), carrying=self.carrying_head(x))

    @torch.no_grad()
    def predict(self, embeddings: np.ndarray) -> dict[str, np.ndarray]:
        """Judge embeddings `[N, c, p]` → `{"view": degrees int [N], "clothing": names [N], "carrying": names [N],
        "view_probability", "clothing_probability", "carrying_probability": float [N, classes]}`."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        out = self(torch.as_tensor(np.asarray(embeddings), dtype=torch.float32, device=device))
        self.train(was_training)
        probs = {k: getattr(out, k).float().softmax(-1).cpu().numpy() for k in ("view", "clothing", "carrying")}
        cfg = self.config
        return {
            "view": np.asarray(cfg.view_angles)[probs["view"].argmax(-1)],
            "clothing": np.asarray(cfg.clothing_classes)[probs["clothing"].argmax(-1)],
            "carrying": np.asarray(cfg.carrying_classes)[probs["carrying"].argmax(-1)],
            **{f"{k}_probability": v for k, v in probs.items()},
        }
