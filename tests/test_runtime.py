"""Several trainings in one process (train-generator's stages, notebooks, this suite) coexist."""

from gaitdata.runtime import make_accelerator


def test_a_second_training_may_use_other_precision(monkeypatch):
    import gaitdata.runtime as runtime

    monkeypatch.setattr(runtime, "fast_bf16", lambda device_type: True)
    assert make_accelerator("bf16").mixed_precision == "bf16"
    assert make_accelerator("no").mixed_precision == "no"
    monkeypatch.setattr(runtime, "fast_bf16", lambda device_type: False)
    assert make_accelerator("bf16").mixed_precision == "no", "emulated bf16 trains in float32"


def test_bf16_where_it_is_emulated_runs_float32_instead(monkeypatch):
    import numpy as np

    import gaitdata.runtime as runtime
    import recognizers.embedding as embedding
    from recognizers import GaitBase

    assert runtime.fast_bf16("cuda") and not runtime.fast_bf16("mps")
    model = GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=3)
    clip = (np.random.default_rng(0).random((12, 64, 44)) > 0.5).astype(np.uint8) * 255
    fp32 = model.embed(clip)
    monkeypatch.setattr(embedding, "fast_bf16", lambda device_type: False)
    assert np.array_equal(model.embed(clip, bf16=True), fp32), "emulated bf16 falls back to float32"
    monkeypatch.setattr(embedding, "fast_bf16", lambda device_type: True)
    assert not np.array_equal(model.embed(clip, bf16=True), fp32), "native bf16 runs bf16"
