"""ONNX export: onnxruntime gives what torch gives, for clips of any length."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from recognizers import GaitBase, GaitSet
from recognizers.export import export_onnx

onnxruntime = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize(
    "model",
    [
        GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=3),
        GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=3),
    ],
    ids=["gaitbase", "gaitset"],
)
def test_onnx_matches_torch(tmp_path, model):
    model.eval()
    path = tmp_path / "model.onnx"
    export_onnx(model, path, frames=30)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for shape in [(1, 30, 64, 44), (3, 17, 64, 44)]:  # batch and frame count are dynamic
        x = np.random.default_rng(0).random(shape, dtype=np.float32)
        (got,) = session.run(None, {"silhouettes": x})
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).embeddings.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
