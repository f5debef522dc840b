"""Process-wide runtime set-up shared by every training loop."""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger(__name__)


def make_accelerator(mixed_precision: str = "no"):
    """An `accelerate.Accelerator` for one training run.

    accelerate keeps one process-wide state and refuses a second `Accelerator` with other
    settings ("AcceleratorState has already been initialized"); a process that trains several
    models in turn (`studio train-generator`, a notebook, the test suite) would then fail. Outside
    a distributed launch, that state is safe to reset between runs, so it is reset here.

    A config's "bf16" asks for speed: where bfloat16 is emulated (`fast_bf16`) the run trains in
    float32 instead, and says so.
    """
    import torch
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, PartialState

    device_type = "cuda" if torch.cuda.is_available() else "cpu"
    if mixed_precision == "bf16" and not fast_bf16(device_type):
        logger.info("bf16 asked for, but this %s has no native bfloat16: training in float32", device_type)
        mixed_precision = "no"
    distributed = PartialState._shared_state and PartialState().num_processes > 1
    if AcceleratorState._shared_state and not distributed:
        AcceleratorState._reset_state(reset_partial_state=True)
    return Accelerator(mixed_precision=mixed_precision)


def fast_bf16(device_type: str = "cpu") -> bool:
    """Whether bfloat16 runs natively on this device: any CUDA GPU, or a CPU with AMX or AVX512-BF16.

    Elsewhere a bfloat16 autocast is emulated and several times SLOWER than float32 (measured
    7x for the recognizers' convolutions on a 2-core CPU without AMX), so callers that ask for
    bfloat16 for speed fall back to float32.
    """
    if device_type != "cpu":
        return device_type == "cuda"
    return _cpu_has_bf16()


@functools.cache
def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False  # no way to tell: float32 is never the slow path
