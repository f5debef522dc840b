"""ONNX export of a recognizer's embedding path (clips in, part embeddings out)."""

from __future__ import annotations

import os

import torch
from torch import nn

from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH


class _EmbeddingGraph(nn.Module):
    """The recognizer with only what inference needs: `float [n, s, 64, 44]` → `float [n, c, p]`."""

    def __init__(self, recognizer: nn.Module):
        super().__init__()
        self.recognizer = recognizer

    def forward(self, silhouettes: torch.Tensor) -> torch.Tensor:
        return self.recognizer(silhouettes).embeddings


def export_onnx(recognizer: nn.Module, path: str | os.PathLike, frames: int = 30, opset: int = 17) -> None:
    """Write `recognizer` as an ONNX graph with input `silhouettes float32 [n, s, 64, 44]` (n and s
    dynamic) and output `embeddings float32 [n, c, p]`.

    Args:
        recognizer: a `GaitBase` or `GaitSet` (any module whose output has `.embeddings`).
        path: the `.onnx` file to write.
        frames: frames of the example clip used for tracing (any length runs afterwards).
        opset: ONNX opset version.
    """
    graph = _EmbeddingGraph(recognizer).eval()
    example = torch.zeros(1, frames, CANONICAL_HEIGHT, CANONICAL_WIDTH)
    # TorchScript-based exporter: needs no onnxscript and handles the dynamic axes of this graph
    torch.onnx.export(
        graph,
        (example,),
        os.fspath(path),
        input_names=["silhouettes"],
        output_names=["embeddings"],
        dynamic_axes={"silhouettes": {0: "clips", 1: "frames"}, "embeddings": {0: "clips"}},
        opset_version=opset,
        dynamo=False,
    )
