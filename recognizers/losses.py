"""Training losses, as modules (after OpenGait's `modeling/losses`), summed by `LossAggregator`."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recognizers.outputs import RecognizerOutput


class TripletLoss(nn.Module):
    """Batch-all triplet loss per part, averaged over the triplets that still violate the margin.

    Args:
        margin: required gap between the negative and positive distances (0.2 in OpenGait).
    """

    def __init__(self, margin: float = 0.2):
        super().__init__()
        self.margin = margin

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """`embeddings float [n, c, p]`, `labels int64 [n]` → (loss, {"triplet_active": share of non-zero triplets})."""
        x = embeddings.float().permute(2, 0, 1)  # [p, n, c]
        dist = torch.cdist(x, x).clamp_min(1e-12)  # [p, n, n]
        same = labels[:, None] == labels[None, :]  # [n, n]
        positive = same & ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
        # every (anchor, positive, negative): d(a, p) - d(a, n) + margin
        triplets = dist[:, :, :, None] - dist[:, :, None, :] + self.margin  # [p, a, pos, neg]
        valid = positive[:, :, None] & ~same[:, None, :]  # [a, pos, neg]
        losses = F.relu(triplets[:, valid])  # [p, triplets]
        active = (losses > 0).float().sum(-1)  # [p]
        loss = (losses.sum(-1) / active.clamp_min(1)).mean()
        return loss, {"triplet_active": float(active.mean() / max(losses.shape[1], 1))}


class PartCrossEntropyLoss(nn.Module):
    """Cross-entropy per part on scaled cosine logits, with label smoothing.

    Args:
        scale: multiplies the cosine logits (OpenGait: 16) so softmax can become confident.
        label_smoothing: weight moved from the true class to the others (0.1 in GaitBase).
    """

    def __init__(self, scale: float = 16.0, label_smoothing: float = 0.1):
        super().__init__()
        self.scale = scale
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """`logits float [n, class_num, p]`, `labels int64 [n]` → (loss, {"accuracy": train-batch accuracy})."""
        logits = logits.float() * self.scale
        p = logits.shape[-1]
        loss = F.cross_entropy(logits, labels[:, None].expand(-1, p), label_smoothing=self.label_smoothing)
        accuracy = (logits.mean(-1).argmax(1) == labels).float().mean()
        return loss, {"accuracy": float(accuracy)}


class LossAggregator(nn.Module):
    """Weighted sum of the recognizer losses.

    Args:
        triplet_margin: margin of `TripletLoss`; `triplet_weight` its weight (0 switches it off).
        ce_weight: weight of `PartCrossEntropyLoss` (0 switches it off); `label_smoothing` and
            `ce_scale` are passed to it.
    """

    def __init__(
        self,
        triplet_margin: float = 0.2,
        triplet_weight: float = 1.0,
        ce_weight: float = 1.0,
        label_smoothing: float = 0.1,
        ce_scale: float = 16.0,
    ):
        super().__init__()
        self.weights = {"triplet": triplet_weight, "ce": ce_weight}
        self.triplet = TripletLoss(triplet_margin)
        self.ce = PartCrossEntropyLoss(ce_scale, label_smoothing)

    def forward(self, output: RecognizerOutput, labels: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Returns (total loss, {name: float} with every loss term and its diagnostics)."""
        total = 0.0
        logs = {}
        if self.weights["triplet"]:
            loss, info = self.triplet(output.embeddings, labels)
            total = total + self.weights["triplet"] * loss
            logs.update(triplet=loss.item(), **info)
        if self.weights["ce"]:
            loss, info = self.ce(output.logits, labels)
            total = total + self.weights["ce"] * loss
            logs.update(ce=loss.item(), **info)
        logs["loss"] = float(total.item()) if torch.is_tensor(total) else float(total)
        return total, logs
