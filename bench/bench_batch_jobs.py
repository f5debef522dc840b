"""Dataset-speed editing and anonymization: clips/s of the batch jobs against pure generation.

Renders a walker dataset (default 50 subjects × 10 conditions × one view = 500 clips of 30
frames), then times, with the bundled generator, identity bank, judge and covariate classifier:

- `anonymize_dataset` over the whole dataset: batches of whole people (`--batch-clips`), the
  judge's check of every clip and the retries of the leaking ones included, every pkl and
  manifest row written;
- `edit_dataset` (into a coat) over it, with the judge's and covariate classifier's scores;
- pure generation in the same run: `GaitGenerationPipeline.__call__` making as many 30-frame
  clips of novel identities (no inversion, no judge, nothing written), in batches of 64, at
  `bench_generator`'s 20 steps.

Each job samples with its own default steps (`generators.settings`: what `studio eval-editor`
measured for it) unless `--steps` sets one number for all three.

Each job's rate counts the clips written; `*_vs_generation` is its rate over generation's. fp32 (or
`--bf16`), on the threads torch has (set OMP_NUM_THREADS). `--quick` for a 40-clip check. Prints one JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from gaitdata.casia_b import CONDITIONS

GENERATION_STEPS = 20  # bench_generator's


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subjects", type=int, default=50, help="walkers to render (50)")
    parser.add_argument("--conditions", type=int, default=10, help="conditions per walker, of CASIA-B's 10 (10)")
    parser.add_argument("--view", default="090", help="the one view rendered (090)")
    parser.add_argument("--frames", type=int, default=30, help="frames per clip (30)")
    parser.add_argument(
        "--steps",
        type=int,
        help="sampler steps of every job (default: each job's own, generators.settings; generation 20)",
    )
    parser.add_argument("--batch-clips", type=int, default=64, help="clips per batch in the jobs (64)")
    parser.add_argument("--quick", action="store_true", help="a 40-clip check: 4 subjects × 10 conditions")
    parser.add_argument("--out", help="work folder (default: a temporary one, removed after)")
    parser.add_argument("--bf16", action="store_true", help="everything timed under bfloat16 autocast")
    args = parser.parse_args()
    if args.quick:
        args.subjects = 4

    from gaitdata.walkers.dataset import render_walker_dataset
    from generators.settings import ANONYMIZE, EDIT
    from studio.jobs.edit_dataset import anonymize_dataset, edit_dataset, load_editor

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.out or tmp)
        data = work / "walkers"
        started = time.perf_counter()
        render_walker_dataset(
            data,
            args.subjects,
            CONDITIONS[: args.conditions],
            [args.view],
            frames=(args.frames, args.frames),
            seed=0,
            workers=1,
        )
        render_seconds = time.perf_counter() - started
        editor = load_editor()  # generators.load_generator(), recognizers.load_judge() and its calibration
        pipeline = editor.pipeline
        clips = args.subjects * args.conditions

        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
            # warm-up: first-call allocations and oneDNN kernel choice, shared by everything timed below
            embeddings, _ = pipeline.identity_bank.novel(clips, seed=0, standardization=pipeline.identity_statistics())
            pipeline(identity=embeddings[:2], view=90.0, num_clips=2, num_frames=args.frames, steps=2)

            settings = dict(batch_clips=args.batch_clips, progress=False)
            started = time.perf_counter()
            anonymized = anonymize_dataset(
                editor, data, work / "anonymized", steps=args.steps or ANONYMIZE.steps, **settings
            )
            anonymize_seconds = time.perf_counter() - started
            started = time.perf_counter()
            edited = edit_dataset(
                editor, data, work / "edited", clothing="coat", steps=args.steps or EDIT.steps, **settings
            )
            edit_seconds = time.perf_counter() - started
            started = time.perf_counter()
            generated = pipeline(
                identity=embeddings,
                view=float(args.view),
                clothing="normal",
                carrying="none",
                num_clips=clips,
                num_frames=args.frames,
                steps=args.steps or GENERATION_STEPS,
                batch_size=64,
            )
            generate_seconds = time.perf_counter() - started

    attempts = [row["attempts"] for row in anonymized["sequences"]]
    rates = {
        "anonymize_dataset": anonymized["counts"]["written"] / anonymize_seconds,
        "edit_dataset": edited["counts"]["written"] / edit_seconds,
        "generation": len(generated) / generate_seconds,
    }
    result = {
        "benchmark": "batch_jobs",
        "threads": torch.get_num_threads(),
        "bf16": args.bf16,
        "clips": clips,
        "subjects": args.subjects,
        "frames": args.frames,
        "steps": {
            "anonymize": args.steps or ANONYMIZE.steps,
            "edit": args.steps or EDIT.steps,
            "generation": args.steps or GENERATION_STEPS,
        },
        "batch_clips": args.batch_clips,
        "render_seconds": round(render_seconds, 1),
        "anonymize_clips_per_s": round(rates["anonymize_dataset"], 3),
        "anonymize_seconds": round(anonymize_seconds, 1),
        "anonymize_attempts_mean": round(sum(attempts) / len(attempts), 3),
        "anonymize_retried": sum(a > 1 for a in attempts),
        "anonymize_leaks": anonymized["counts"]["leaks"],
        "edit_clips_per_s": round(rates["edit_dataset"], 3),
        "edit_seconds": round(edit_seconds, 1),
        "edit_verified_as_source": edited["counts"].get("verified_as_source"),
        "generation_clips_per_s": round(rates["generation"], 3),
        "generation_seconds": round(generate_seconds, 1),
        "anonymize_vs_generation": round(rates["anonymize_dataset"] / rates["generation"], 3),
        "edit_vs_generation": round(rates["edit_dataset"] / rates["generation"], 3),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
