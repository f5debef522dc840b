"""Benchmark: embedding throughput of the bundled recognizers on this machine, as JSON.

For each recognizer: clips/s for 30-frame 64×44 clips (batches of `--batch` clips) in fp32 and
bfloat16 autocast, with and without channels_last; FLOPs per clip (torch's FlopCounterMode);
achieved GFLOP/s against the sgemm peak measured in the same run (a large fp32 / bf16 matmul);
and how far bf16 embeddings drift from fp32 (cosine similarity, and whether nearest neighbours
agree). Falls back to untrained models of the training configs' widths when no bundled weights
exist (throughput does not depend on the weights).

    python bench/bench_recognizers.py --threads 2 --out bench/results_recognizers.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH, STORED_SIZE

REPO = Path(__file__).resolve().parents[1]


def matmul_peak(dtype: torch.dtype, n: int = 2048, seconds: float = 2.0) -> float:
    """GFLOP/s of an n×n×n matmul in `dtype` (best of repeated timings)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    best, spent = float("inf"), 0.0
    while spent < seconds:
        t = time.perf_counter()
        a @ b
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
    return 2 * n**3 / best / 1e9


def load_models() -> dict:
    import recognizers
    from recognizers.training import build_recognizer, read_config

    models = {}
    for role, name, config in (
        ("conditioner", recognizers.CONDITIONER, "gaitbase_walkers.json"),
        ("judge", recognizers.JUDGE, "gaitset_walkers.json"),
    ):
        try:
            models[role] = (recognizers.load_recognizer(name), name)
        except FileNotFoundError:
            cfg = read_config(REPO / "configs" / "recognizers" / config)
            models[role] = (build_recognizer(cfg["model"], class_num=74).eval(), f"untrained {config}")
    return models


def clips_per_second(model, x: torch.Tensor, bf16: bool, channels_last: bool, seconds: float) -> float:
    model = model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        model(x)
        runs, spent = 0, 0.0
        while spent < seconds or runs < 3:
            t = time.perf_counter()
            model(x)
            spent += time.perf_counter() - t
            runs += 1
    model.to(memory_format=torch.contiguous_format)
    return runs * len(x) / spent


def bf16_drift(model) -> dict:
    """fp32 vs bf16 embeddings of random walker-like clips: mean cosine and nearest-neighbour agreement."""
    rng = np.random.default_rng(0)
    clips = []
    for _ in range(32):  # moving blobs: a stand-in with silhouette statistics, not noise
        yy, xx = np.mgrid[0:CANONICAL_HEIGHT, 0:CANONICAL_WIDTH]
        h, w, f = rng.uniform(20, 28), rng.uniform(5, 10), rng.uniform(0.2, 0.5)
        clips.append(
            np.stack(
                [(((xx - 22 - 3 * np.sin(f * t)) / w) ** 2 + ((yy - 32) / h) ** 2 <= 1) * 255 for t in range(30)]
            ).astype(np.uint8)
        )
    fp32 = model.embed(clips)
    bf16 = model.embed(clips, bf16=True)
    a, b = fp32.reshape(len(fp32), -1), bf16.reshape(len(bf16), -1)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    from recognizers.distance import pairwise_distance

    d32, d16 = pairwise_distance(fp32, fp32), pairwise_distance(bf16, bf16)
    np.fill_diagonal(d32, np.inf)
    np.fill_diagonal(d16, np.inf)
    agreement = float((d32.argmin(1) == d16.argmin(1)).mean())
    return {"mean_cosine": float(cos.mean()), "nearest_neighbour_agreement": agreement}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="clips per forward call")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=4.0, help="timing budget per setting")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    result = {
        "machine": {"cpu": platform.machine(), "threads": args.threads, "torch": torch.__version__},
        "sgemm_peak_gflops": {
            "fp32": round(matmul_peak(torch.float32), 1),
            "bf16": round(matmul_peak(torch.bfloat16), 1),
        },
        "clip": {"frames": args.frames, "height": CANONICAL_HEIGHT, "width": CANONICAL_WIDTH, "batch": args.batch},
        "models": {},
    }
    x = torch.rand(args.batch, args.frames, CANONICAL_HEIGHT, CANONICAL_WIDTH)
    for role, (model, source) in load_models().items():
        with FlopCounterMode(display=False) as counter:
            with torch.no_grad():
                model(x[:1])
        gflop = counter.get_total_flops() / 1e9
        entry = {"weights": source, "parameters": sum(p.numel() for p in model.parameters()), "gflop_per_clip": gflop}
        for bf16 in (False, True):
            for channels_last in (False, True):
                key = ("bf16" if bf16 else "fp32") + ("_channels_last" if channels_last else "")
                rate = clips_per_second(model, x, bf16, channels_last, args.seconds)
                peak = result["sgemm_peak_gflops"]["bf16" if bf16 else "fp32"]
                entry[key] = {
                    "clips_per_second": round(rate, 1),
                    "achieved_gflops": round(rate * gflop, 1),
                    "share_of_sgemm_peak": round(rate * gflop / peak, 3),
                }
        # the whole embed() path (cropping, batching by frames) on 30-frame uint8 clips, default settings
        clips = [np.zeros((args.frames, STORED_SIZE, STORED_SIZE), np.uint8) for _ in range(64)]
        for bf16 in (False, True):
            model.embed(clips[:4], bf16=bf16)
            t = time.perf_counter()
            model.embed(clips, bf16=bf16)
            entry[f"embed_api_{'bf16' if bf16 else 'fp32'}_clips_per_second"] = round(64 / (time.perf_counter() - t), 1)
        entry["bf16_vs_fp32"] = bf16_drift(model)
        result["models"][role] = entry
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
