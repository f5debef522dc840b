"""`studio demo`: the main job on the embedded default (procedural walkers)."""

from __future__ import annotations

NAME = "demo"
HELP = "the main job on the embedded default: walkers, previews, generate / edit / anonymize, fidelity reports"


def add_arguments(parser):
    parser.add_argument("--out", default="out/demo", help="output folder (default out/demo)")
    parser.add_argument("--subjects", type=int, default=8, help="walkers to render (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="everything follows from it")


def run(args) -> int:
    from studio.jobs.demo import run_demo

    summary = run_demo(args.out, subjects=args.subjects, seed=args.seed)
    print(f"rendered {summary['sequences']} sequences to {summary['dataset']}; main job: {summary['seconds']} s")
    for name, path in summary["previews"].items():
        print(f"  {name}: {path}")
    for kind, paths in summary["reports"].items():
        print(f"  fidelity report, {kind}: {paths['html']} (JSON beside it)")
    print(f"summary: {args.out}/demo_summary.json")
    return 0
