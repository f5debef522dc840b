"""`studio synth-data --out DIR`: render the procedural walker dataset (CASIA-B-like, OpenGait layout)."""

from __future__ import annotations

from studio.commands._sampler_args import comma_list

NAME = "synth-data"
HELP = "render the procedural walker dataset (CASIA-B-like, OpenGait layout); resumes an interrupted run"


def add_arguments(parser):
    parser.add_argument("--out", required=True, help="dataset folder: new, empty, or an unfinished render to resume")
    parser.add_argument("--subjects", type=int, default=124, help="number of subjects, ids 001.. (default 124)")
    parser.add_argument(
        "--conditions",
        type=comma_list,
        default=None,
        help="comma-separated, e.g. nm-01,bg-01,cl-01 (default CASIA-B's ten)",
    )
    parser.add_argument(
        "--views",
        type=comma_list,
        default=None,
        help="comma-separated degrees, any angle, e.g. 000,090,45.5 (default 000..180 by 18)",
    )
    parser.add_argument(
        "--frames", type=int, nargs=2, metavar=("MIN", "MAX"), default=(30, 60), help="frames per sequence"
    )
    parser.add_argument("--seed", type=int, default=0, help="everything follows from it (default 0)")
    parser.add_argument(
        "--style",
        default="default",  # checked by the library (gaitdata.walkers.style), which names the choices
        help="walker population: 'default' (what the bundled models were trained on) or 'calibrated' "
        "(re-fitted on real CASIA-B GEI statistics; see `studio realism`)",
    )
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    import json

    from tqdm import tqdm

    from gaitdata.walkers import CASIA_B_CONDITIONS, CASIA_B_VIEWS, render_walker_dataset

    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc="walkers", unit="seq", disable=args.no_progress)
        bar.update(done - bar.n)

    try:
        summary = render_walker_dataset(
            args.out,
            num_subjects=args.subjects,
            conditions=args.conditions or CASIA_B_CONDITIONS,
            views=args.views or CASIA_B_VIEWS,
            frames=tuple(args.frames),
            seed=args.seed,
            workers=args.workers,
            progress=progress,
            style=args.style,
        )
    finally:
        if bar is not None:
            bar.close()
    print(json.dumps(summary, indent=1))
    return 0
