"""`studio edit INPUT --out OUT --clothing coat`: one clip or a whole dataset in new covariates, identity kept."""

from __future__ import annotations

from generators.settings import EDIT, faithful_edit
from studio.commands import _sampler_args as options
from studio.commands._shard import report_share

NAME = "edit"
HELP = "edit the view / clothing / carrying of one clip or a whole OpenGait dataset (identity and motion kept)"


def add_arguments(parser):
    parser.add_argument("input", metavar="INPUT", help="a clip (.pkl, .npz, sequence or PNG folder) or a dataset root")
    parser.add_argument("--out", required=True, help="new dataset folder (OpenGait layout + manifest); never the input")
    parser.add_argument("--view", help="new view in degrees, e.g. 090 (default: keep each clip's)")
    parser.add_argument("--clothing", help="new clothing: normal or coat (default: keep)")
    parser.add_argument("--carrying", help="new carrying: none or bag (default: keep)")
    options.add_generator_argument(parser)
    options.add_sampler_arguments(parser, EDIT, "0 keeps the source, 1 regenerates fully")
    parser.add_argument(
        "--steering",
        type=float,
        default=EDIT.conditioner_guidance,
        help="steer each edit toward its source person along the conditioner's gradient, 0-2"
        f" (several times slower; {EDIT.conditioner_guidance:g} = off)",
    )
    parser.add_argument(
        "--faithful",
        action="store_true",
        help="the setting measured to keep the person AND show the change, for this kind of change"
        " (generators.settings.FAITHFUL_EDITS): sets --strength, --steps, --guidance, --steering and its"
        " covariate shift",
    )
    options.add_selection_arguments(parser, "dataset only: these source views, e.g. 000,090")
    options.add_batch_arguments(parser)


def run(args) -> int:
    from studio.jobs.edit_dataset import edit_dataset, load_editor

    sampler = {**options.sampler_options(args), "conditioner_guidance": args.steering}
    if args.faithful:
        chosen = faithful_edit(args.view, args.clothing, args.carrying)
        fields = ("strength", "steps", "guidance", "method", "conditioner_guidance", "covariate_shift")
        sampler.update({name: getattr(chosen, name) for name in fields})
    editor = load_editor(with_judge=not args.no_judge, generator=args.generator)
    manifest = edit_dataset(
        editor,
        args.input,
        args.out,
        view=args.view,
        clothing=args.clothing,
        carrying=args.carrying,
        **options.selection_options(args),
        **sampler,
    )
    if report_share(manifest):
        return 0  # the main process prints the summary of the whole job
    counts = manifest["counts"]
    options.print_written(manifest, "edited")
    if manifest["mean_judge_cosine"] is not None:
        line = f"judge: mean cosine similarity to the source {manifest['mean_judge_cosine']:.3f}"
        if "verified_as_source" in counts:
            line += f", {counts['verified_as_source']} of {counts['written']} still verified as their source person"
        print(line)
    if "covariates_match" in counts:
        print(f"covariate classifier: {counts['covariates_match']} of {counts['covariates_scored']} show the request")
    elif manifest["mean_judge_cosine"] is not None and manifest["covariates_unavailable"]:
        print(f"covariate classifier: {manifest['covariates_unavailable']}")
    options.print_speed_and_manifest(manifest, args.out)
    return 0
