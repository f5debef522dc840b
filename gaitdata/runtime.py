"""Process-wide runtime set-up shared by every training loop."""

from __future__ import annotations


def make_accelerator(mixed_precision: str = "no"):
    """An `accelerate.Accelerator` for one training run.

    accelerate keeps one process-wide state and refuses a second `Accelerator` with other
    settings ("AcceleratorState has already been initialized"); a process that trains several
    models in turn (`studio train-generator`, a notebook, the test suite) would then fail. Outside
    a distributed launch, that state is safe to reset between runs, so it is reset here.
    """
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState

    distributed = PartialState._shared_state and PartialState().num_processes > 1
    if AcceleratorState._shared_state and not distributed:
        AcceleratorState._reset_state(reset_partial_state=True)
    return Accelerator(mixed_precision=mixed_precision)
