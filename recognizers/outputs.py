"""What a recognizer's `forward` returns."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.utils import BaseOutput


@dataclass
class RecognizerOutput(BaseOutput):
    """Output of `GaitBase` and `GaitSet`.

    Attributes:
        embeddings: `float [n, c, p]`, one `c`-vector per horizontal part; the identity feature
            compared at test time (Euclidean per part averaged over parts, or cosine).
        logits: `float [n, class_num, p]`, per-part identity logits of the BNNeck classifier
            (used by the cross-entropy loss during training only).
    """

    # defaults let accelerate rebuild the output from a dict (its mixed-precision wrapper does)
    embeddings: torch.Tensor | None = None
    logits: torch.Tensor | None = None
