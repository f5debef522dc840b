"""Benchmark and realism report of the procedural walkers; prints one JSON object.

- throughput: pretreated frames per second rendered by one process and by `--workers`
  processes (a mix of views and nm/bg/cl walks, 30-60 frames each, 64x64 output), and the
  whole dataset writer (pkls written to a temporary folder);
- casia_b: silhouette statistics of rendered clips per view group and condition, beside the
  CASIA-B reference figures (`walkers.realism.CASIA_B_REFERENCE`);
- calibration: gait figures of the procedural cycle and of the CMU motion capture (if
  `../shared/data/cmu-walk` is there).

    python bench/bench_walkers.py [--sequences 120] [--workers 2] [--quick]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import numpy as np

from gaitdata.silhouette_stats import silhouette_stats
from gaitdata.walkers import (
    CASIA_B_VIEWS,
    camera_for,
    identity_for,
    render_walker_dataset,
    render_walker_sequence,
    walk_for,
)
from gaitdata.walkers.realism import CASIA_B_REFERENCE, mocap_gait_figures, procedural_gait_figures

MOCAP = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cmu-walk"
CONDITIONS = ("nm-01", "nm-05", "bg-01", "cl-01")


def _jobs(count: int) -> list[tuple[str, str, str]]:
    return [
        (f"{1 + i % 24:03d}", CONDITIONS[i % len(CONDITIONS)], CASIA_B_VIEWS[i % len(CASIA_B_VIEWS)])
        for i in range(count)
    ]


def _render(job: tuple[str, str, str]) -> int:
    subject, condition, view = job
    identity = identity_for(0, subject)
    camera = camera_for(0, subject, condition, view)
    return render_walker_sequence(identity, walk_for(0, identity, condition), camera.view_deg, camera=camera).num_frames


def throughput(sequences: int, workers: int) -> dict:
    jobs = _jobs(sequences)
    _render(jobs[0])  # warm-up: imports, caches
    start = time.perf_counter()
    frames = sum(map(_render, jobs))
    single = frames / (time.perf_counter() - start)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(_render, jobs[:workers])
        start = time.perf_counter()
        frames = sum(pool.map(_render, jobs, chunksize=4))
        parallel = frames / (time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as tmp:
        summary = render_walker_dataset(
            Path(tmp) / "walkers", num_subjects=6, views=CASIA_B_VIEWS[::2], workers=workers
        )
    return {
        "frames_per_s_1_process": round(single),
        f"frames_per_s_{workers}_workers": round(parallel),
        f"dataset_writer_frames_per_s_{workers}_workers": summary["frames_per_second"],
        "sequences": sequences,
        "frames_per_sequence": "30-60, 64x64 (64x44 model input)",
    }


def casia_b_stats(per_cell: int) -> dict:
    groups = {"front_back": ("000", "180"), "oblique": ("036", "144"), "side": ("090",)}
    out = {}
    for group, views in groups.items():
        for condition in ("nm-01", "bg-01", "cl-01"):
            stats = []
            for i in range(per_cell):
                subject = f"{i + 1:03d}"
                identity = identity_for(0, subject)
                walk = walk_for(0, identity, condition)
                for view in views:
                    camera = camera_for(0, subject, condition, view)
                    seq = render_walker_sequence(identity, walk, camera.view_deg, camera=camera)
                    stats.append(silhouette_stats(seq.frames))
            out[f"{group}/{condition[:2]}"] = {k: round(float(np.nanmean([s[k] for s in stats])), 4) for k in stats[0]}
        out[f"{group}/casia_b"] = CASIA_B_REFERENCE[group]
    return out


def calibration() -> dict:
    figures = {"procedural": {k: round(v, 1) for k, v in procedural_gait_figures().items()}}
    if MOCAP.is_dir():
        figures["cmu_mocap"] = {k: round(v, 1) for k, v in mocap_gait_figures(MOCAP).items()}
    else:
        figures["cmu_mocap"] = f"absent: {MOCAP}"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sequences", type=int, default=120)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="fewer sequences everywhere")
    args = parser.parse_args()
    sequences = 24 if args.quick else args.sequences
    report = {
        "throughput": throughput(sequences, args.workers),
        "casia_b": casia_b_stats(4 if args.quick else 16),
        "calibration": calibration(),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
