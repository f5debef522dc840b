"""Several trainings in one process (train-generator's stages, notebooks, this suite) coexist."""

from gaitdata.runtime import make_accelerator


def test_a_second_training_may_use_other_precision():
    assert make_accelerator("bf16").mixed_precision == "bf16"
    assert make_accelerator("no").mixed_precision == "no"
