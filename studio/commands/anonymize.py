"""`studio anonymize INPUT --out OUT`: one clip or a whole dataset by somebody else, leaks flagged."""

from __future__ import annotations

from generators.settings import ANONYMIZE
from studio.commands import _sampler_args as options
from studio.commands._shard import report_share

NAME = "anonymize"
HELP = "replace the identity in one clip or a whole OpenGait dataset (motion, view, clothing kept; leaks flagged)"


def add_arguments(parser):
    parser.add_argument("input", metavar="INPUT", help="a clip (.pkl, .npz, sequence or PNG folder) or a dataset root")
    parser.add_argument("--out", required=True, help="new dataset folder (OpenGait layout + manifest); never the input")
    options.add_generator_argument(parser)
    options.add_sampler_arguments(parser, ANONYMIZE, "share of the schedule regenerated")
    parser.add_argument(
        "--max-attempts",
        type=int,
        default=ANONYMIZE.max_attempts,
        help=f"tries per clip while the judge still matches ({ANONYMIZE.max_attempts})",
    )
    options.add_selection_arguments(parser, "dataset only: these views, e.g. 000,090")
    options.add_batch_arguments(parser, judge=False)


def run(args) -> int:
    from studio.jobs.edit_dataset import anonymize_dataset, load_editor

    editor = load_editor(with_judge=True, generator=args.generator)
    manifest = anonymize_dataset(
        editor,
        args.input,
        args.out,
        max_attempts=args.max_attempts,
        **options.selection_options(args),
        **options.sampler_options(args),
    )
    if report_share(manifest):
        return 0  # the main process prints the summary of the whole job
    counts = manifest["counts"]
    options.print_written(manifest, "anonymized")
    settings = manifest["settings"]
    threshold = settings["judge_threshold"]
    threshold = "none" if threshold is None else f"{threshold:.4g}"
    print(
        f"judge verification at threshold {threshold} ({settings['judge_metric']}): "
        f"{counts['anonymous']} anonymous, {counts['leaks']} LEAK (still verified as their source person)"
    )
    for output in manifest["leaking"]:
        print(f"  LEAKS: {output}")
    options.print_speed_and_manifest(manifest, args.out)
    return 0
