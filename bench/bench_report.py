"""Benchmark: the whole fidelity report (`studio evaluate`) for 1,000 generated-like clips; prints JSON.

The generated-like clips are procedural walkers of the real set's first subjects, rendered with
the real set's seed in conditions the real set does not hold (`nm-07`, `cl-03`): the same
people in new walks, stored exactly as generated clips are (OpenGait layout, `uint8 [T, 64, 64]`).
The real set is `--real` (e.g. the walker dataset) or, without it, a 50-subject walker render
(CASIA-B conditions and views). Both renders are cached in `--cache` and reused.

Timed: everything `studio evaluate` does — read, pretreat, embed with the judge (bundled, or an
untrained GaitSet of the judge's training config when none is bundled: the cost is the same),
every metric, the plots, the animated strips and writing the JSON and HTML. Target: ≤ 120 s.

    OMP_NUM_THREADS=2 python bench/bench_report.py --real /work/data/walkers-default
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from gaitdata.casia_b import CONDITIONS, VIEWS

REPO = Path(__file__).resolve().parents[1]
GENERATED_CONDITIONS = ("nm-07", "cl-03")  # absent from the real set: new walks of the same people
TARGET_SECONDS = 120.0


def load_judge():
    import recognizers
    from recognizers.training import build_recognizer, read_config

    try:
        return recognizers.load_judge(), recognizers.JUDGE
    except FileNotFoundError:
        cfg = read_config(REPO / "configs" / "recognizers" / "gaitset_walkers.json")
        return build_recognizer(cfg["model"], class_num=74).eval(), "untrained gaitset_walkers.json (no bundled judge)"


def real_set(args) -> tuple[Path, int]:
    """The real folder and the walker seed it was rendered with."""
    from gaitdata.walkers import render_walker_dataset

    if args.real:
        # the walker render's manifest (`walkers_manifest.json` before the one job-folder format)
        manifests = [Path(args.real) / name for name in ("manifest.json", "walkers_manifest.json")]
        found = [json.loads(m.read_text()).get("settings", {}) for m in manifests if m.is_file()]
        return Path(args.real), int(found[0].get("seed", 0)) if found else 0
    root = Path(args.cache) / "real"
    render_walker_dataset(root, args.subjects, CONDITIONS, VIEWS, frames=(30, 60), seed=0, workers=1)
    return root, 0


def generated_set(args, seed: int) -> Path:
    """`--clips` generated-like clips: subjects × GENERATED_CONDITIONS × views, as few views as suffice."""
    from gaitdata.walkers import render_walker_dataset

    per_subject_view = len(GENERATED_CONDITIONS)
    views = min(len(VIEWS), -(-args.clips // (args.subjects * per_subject_view)))
    subjects = -(-args.clips // (views * per_subject_view))
    root = Path(args.cache) / f"generated-{subjects}x{views}-seed{seed}"
    render_walker_dataset(root, subjects, GENERATED_CONDITIONS, VIEWS[:views], frames=(30, 30), seed=seed, workers=1)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", help="real OpenGait folder (default: render 50 walker subjects into --cache)")
    parser.add_argument("--clips", type=int, default=1000, help="generated-like clips (default 1000)")
    parser.add_argument("--subjects", type=int, default=50, help="subjects they belong to (default 50)")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "gait-studio-bench-report"))
    parser.add_argument("--out", help="report folder (default: a temporary one)")
    args = parser.parse_args()

    from studio.jobs.evaluate_report import evaluate_folders

    real_root, seed = real_set(args)
    generated_root = generated_set(args, seed)
    judge, judge_name = load_judge()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-report-"))
    started = time.perf_counter()
    report, json_path, html_path = evaluate_folders(
        real_root, generated_root, out, kind="generated", max_clips=args.clips, progress=False, judge=judge
    )
    seconds = time.perf_counter() - started
    clips = report["data"]["generated"]["clips"]
    print(
        json.dumps(
            {
                "benchmark": "fidelity report (studio evaluate), end to end",
                "clips": clips,
                "real_clips": report["data"]["real"]["clips"],
                "seconds": round(seconds, 2),
                "clips_per_second": round(clips / seconds, 2),
                "target_seconds": TARGET_SECONDS,
                "meets_target": seconds <= TARGET_SECONDS,
                "embedding_seconds": round(report["timing"]["embedding_seconds"], 2),
                "embedded_clips_per_second": round(report["timing"]["clips_per_second"], 1),
                "writing_seconds": round(seconds - report["timing"]["seconds"], 2),
                "html_bytes": html_path.stat().st_size,
                "judge": judge_name,
                "torch_threads": torch.get_num_threads(),
                "max_frames": report["judge"]["max_frames"],
                "real_root": str(real_root),
                "generated_root": str(generated_root),
                "report": {"json": str(json_path), "html": str(html_path)},
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
