"""`studio anonymize INPUT --out OUT`: one clip or a whole dataset by somebody else, leaks flagged."""

from __future__ import annotations

from generators.settings import ANONYMIZE
from studio.commands._sampler_args import add_sampler_arguments
from studio.commands._shard import report_share

NAME = "anonymize"
HELP = "replace the identity in one clip or a whole OpenGait dataset (motion, view, clothing kept; leaks flagged)"


def _list(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


def add_arguments(parser):
    parser.add_argument("input", metavar="INPUT", help="a clip (.pkl, .npz, sequence or PNG folder) or a dataset root")
    parser.add_argument("--out", required=True, help="new dataset folder (OpenGait layout + manifest); never the input")
    add_sampler_arguments(parser, ANONYMIZE, "share of the schedule regenerated")
    parser.add_argument("--seed", type=int, default=0, help="each clip's seed derives from it and the clip (0)")
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=ANONYMIZE.max_attempts,
        help=f"tries per clip while the judge still matches ({ANONYMIZE.max_attempts})",
    )
    parser.add_argument("--subjects", type=_list, help="dataset only: these subjects, e.g. 075,076")
    parser.add_argument("--conditions", type=_list, help="dataset only: these conditions or types, e.g. nm")
    parser.add_argument("--views", type=_list, help="dataset only: these views, e.g. 000,090")
    parser.add_argument("--batch-clips", type=int, default=64, help="clips made together, whole people per batch (64)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from pathlib import Path

    from studio.jobs.edit_dataset import anonymize_dataset, load_editor

    editor = load_editor(with_judge=True)
    manifest = anonymize_dataset(
        editor,
        args.input,
        args.out,
        strength=args.strength,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        method=args.method,
        max_attempts=args.max_attempts,
        subjects=args.subjects,
        conditions=args.conditions,
        views=args.views,
        progress=not args.no_progress,
        batch_clips=args.batch_clips,
    )
    if report_share(manifest):
        return 0  # the main process prints the summary of the whole job
    counts = manifest["counts"]
    print(
        f"{counts['written']} of {counts['clips']} clips anonymized ({counts['written_this_run']} now, "
        f"{counts['resumed']} from an earlier run), {counts['skipped']} skipped"
    )
    for row in manifest["skipped"]:
        print(f"  skipped {row['source']}: {row['reason']}")
    settings = manifest["settings"]
    threshold = settings["judge_threshold"]
    threshold = "none" if threshold is None else f"{threshold:.4g}"
    print(
        f"judge verification at threshold {threshold} ({settings['judge_metric']}): "
        f"{counts['anonymous']} anonymous, {counts['leaks']} LEAK (still verified as their source person)"
    )
    for output in manifest["leaking"]:
        print(f"  LEAKS: {output}")
    if manifest["clips_per_second"]:
        print(f"{manifest['clips_per_second']} clips/s")
    print(f"manifest: {Path(args.out) / 'manifest.json'}")
    return 0
