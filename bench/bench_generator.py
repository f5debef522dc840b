"""Generation speed: clips/s for 30-frame 64×44 clips, 20 sampler steps, batched, decoder included.

Beside it: achieved GFLOP/s against the fp32 / bf16 sgemm peak measured in the same run, and
the naive baseline, a diffusers `UNet3DConditionModel` of similar size run in pixel space (one
timed batch). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler
from torch.utils.flop_counter import FlopCounterMode

from generators.autoencoder import SilhouetteAutoencoder
from generators.denoiser import GaitLatentDenoiser
from generators.pipeline import GaitGenerationPipeline


def sgemm_peak(dtype: torch.dtype, n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def load_pipeline(weights: str | None) -> tuple[GaitGenerationPipeline, str]:
    if weights:
        return GaitGenerationPipeline.from_pretrained(weights), weights
    try:
        from generators import load_generator

        return load_generator(), "bundled"
    except (ImportError, FileNotFoundError, OSError):
        scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
        return GaitGenerationPipeline(SilhouetteAutoencoder(), GaitLatentDenoiser(), scheduler), "untrained (same size)"


def identity_for(pipe: GaitGenerationPipeline):
    """What a user generates a person from: a clip of them (reference pathway) or their embedding."""
    from gaitdata.walkers import identity_for as walker
    from gaitdata.walkers import render_walker_sequence, walk_for

    person = walker(0, "001")
    clip = render_walker_sequence(person, walk_for(0, person, "nm-01"), view_deg=36, num_frames=40)
    if pipe.denoiser.config.reference_frames:
        if pipe.conditioner is None:
            import recognizers

            pipe.conditioner = recognizers.load_conditioner()
        return clip
    return np.random.default_rng(0).normal(size=pipe.denoiser.config.identity_dim).astype(np.float32)


def count_flops(pipe: GaitGenerationPipeline, clips: int, steps: int, guidance: float) -> float:
    identity = pipe.encode_identity(identity_for(pipe))
    reference = pipe.encode_reference(identity_for(pipe))
    conditions = pipe.condition_tensors(clips, identity, 90, "normal", "none", None, reference=reference)
    latents = torch.randn(clips, 30, pipe.denoiser.config.latent_dim)
    with FlopCounterMode(display=False) as counter:
        clean = pipe.denoise_latents(latents, conditions, steps, guidance, torch.Generator().manual_seed(0))
        pipe.decode_clips(clean)
    return counter.get_total_flops()


def count_steered_flops(pipe: GaitGenerationPipeline, clips: int, steps: int, guidance: float, steering: float):
    """FLOPs of one steered call (denoising, the conditioner's forward and backward pass per steered
    step, decoding), everything a user's call does."""
    with FlopCounterMode(display=False) as counter:
        pipe(identity=identity_for(pipe), guidance=guidance, view=90, seed=0, num_clips=clips, steps=steps,
             conditioner_guidance=steering)  # fmt: skip
    return counter.get_total_flops()


def time_generation(pipe, clips: int, steps: int, guidance: float, bf16: bool, steering: float = 0.0) -> float:
    """Seconds for `clips` clips of one person from one clip of them (its embedding taken once, included)."""
    identity = identity_for(pipe)
    kwargs = dict(identity=identity, guidance=guidance, view=90, seed=0, conditioner_guidance=steering)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        pipe(num_clips=2, steps=2, **kwargs)  # warm-up
        start = time.perf_counter()
        pipe(num_clips=clips, steps=steps, batch_size=clips, **kwargs)
    return time.perf_counter() - start


def time_unet3d_baseline(frames: int = 30) -> dict:
    from diffusers import UNet3DConditionModel

    unet = UNet3DConditionModel(
        sample_size=(64, 48),
        in_channels=1,
        out_channels=1,
        block_out_channels=(32, 64, 128),
        down_block_types=("CrossAttnDownBlock3D", "CrossAttnDownBlock3D", "DownBlock3D"),
        up_block_types=("UpBlock3D", "CrossAttnUpBlock3D", "CrossAttnUpBlock3D"),
        layers_per_block=1,
        cross_attention_dim=64,
        attention_head_dim=8,
        norm_num_groups=8,
    ).eval()
    params = sum(p.numel() for p in unet.parameters())
    x = torch.randn(1, 1, frames, 64, 48)
    ctx = torch.randn(1, 1, 64)
    with torch.no_grad():
        with FlopCounterMode(display=False) as counter:
            unet(x, 500, encoder_hidden_states=ctx)
        start = time.perf_counter()
        unet(x, 500, encoder_hidden_states=ctx)
        seconds = time.perf_counter() - start
    flops = counter.get_total_flops()
    return {
        "parameters_m": round(params / 1e6, 2),
        "forward_seconds_per_clip": round(seconds, 3),
        "clips_per_s_20_steps_cfg": round(1.0 / (seconds * 40), 4),
        "gflops_per_s": round(flops / seconds / 1e9, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--weights", help="pipeline folder (default: bundled, else an untrained one of the same size)")
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--no-baseline", action="store_true", help="skip the UNet3D baseline")
    parser.add_argument("--compare", help="another pipeline folder timed in the same run (e.g. the previous generator)")
    parser.add_argument(
        "--conditioner-guidance",
        type=float,
        default=0.2,
        help="also time steered generation (bf16) at this scale, as the identity figures are made; 0 = skip (0.2)",
    )
    args = parser.parse_args()
    torch.set_num_threads(torch.get_num_threads())
    pipe, source = load_pipeline(args.weights)
    flops = count_flops(pipe, 2, args.steps, args.guidance) / 2  # per clip
    result = {
        "benchmark": "generation",
        "weights": source,
        "threads": torch.get_num_threads(),
        "clips": args.clips,
        "frames": 30,
        "steps": args.steps,
        "guidance": args.guidance,
        "gflop_per_clip": round(flops / 1e9, 2),
        "sgemm_peak_gflops_fp32": round(sgemm_peak(torch.float32), 1),
        "sgemm_peak_gflops_bf16": round(sgemm_peak(torch.bfloat16), 1),
    }
    for name, bf16 in (("fp32", False), ("bf16", True)):
        seconds = time_generation(pipe, args.clips, args.steps, args.guidance, bf16)
        result[f"clips_per_s_{name}"] = round(args.clips / seconds, 2)
        result[f"gflops_per_s_{name}"] = round(flops * args.clips / seconds / 1e9, 1)
        peak = result[f"sgemm_peak_gflops_{name}"]
        result[f"share_of_peak_{name}"] = round(result[f"gflops_per_s_{name}"] / peak, 3)
    if args.conditioner_guidance and pipe.denoiser.config.reference_frames:
        steered_flops = count_steered_flops(pipe, 2, args.steps, args.guidance, args.conditioner_guidance) / 2
        seconds = time_generation(pipe, args.clips, args.steps, args.guidance, True, args.conditioner_guidance)
        gflops = steered_flops * args.clips / seconds / 1e9
        result["steered_bf16"] = {
            "conditioner_guidance": args.conditioner_guidance,
            "clips_per_s": round(args.clips / seconds, 2),
            "gflop_per_clip": round(steered_flops / 1e9, 2),
            "gflops_per_s": round(gflops, 1),
            "share_of_peak": round(gflops / result["sgemm_peak_gflops_bf16"], 3),
            "vs_plain_bf16": round(args.clips / seconds / result["clips_per_s_bf16"], 3),
        }
    if args.compare:
        other, _ = load_pipeline(args.compare)
        seconds = time_generation(other, args.clips, args.steps, args.guidance, True)
        result["compare"] = {"weights": args.compare, "clips_per_s_bf16": round(args.clips / seconds, 2)}
    if not args.no_baseline:
        result["unet3d_baseline"] = time_unet3d_baseline()
    print(json.dumps(result))


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
