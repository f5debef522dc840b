"""`studio augment --data ROOT --partition JSON --add-conditions cl,bg --out OUT`: edited training clips."""

from __future__ import annotations

from generators.settings import EDIT
from studio.commands import _sampler_args as options
from studio.commands._shard import report_share

NAME = "augment"
HELP = "edit every training subject's clips into new conditions: an OpenGait augmentation set with its partition"


def add_arguments(parser):
    parser.add_argument("--data", required=True, help="the real dataset root in the OpenGait layout")
    parser.add_argument("--partition", required=True, help='its partition JSON {"TRAIN_SET": [...], "TEST_SET": [...]}')
    parser.add_argument("--out", required=True, help="augmentation set folder (layout, partition.json, manifest)")
    parser.add_argument(
        "--add-conditions", type=options.comma_list, default=["cl"], help="condition types to make: nm,bg,cl (cl)"
    )
    parser.add_argument("--views", type=options.comma_list, help="source views to edit, e.g. 000,090 (default: all)")
    parser.add_argument("--sources", type=options.comma_list, default=["nm"], help="source conditions or types (nm)")
    parser.add_argument("--include-real", action="store_true", help="also write the real training clips")
    options.add_generator_argument(parser)
    options.add_sampler_arguments(parser, EDIT, "0 keeps the source, 1 regenerates fully", strength=0.8)
    options.add_batch_arguments(parser)


def run(args) -> int:
    from studio.jobs.edit_dataset import augment_dataset, load_editor

    editor = load_editor(with_judge=not args.no_judge, generator=args.generator)
    manifest = augment_dataset(
        editor,
        args.data,
        args.partition,
        args.out,
        add_conditions=args.add_conditions,
        views=args.views,
        sources=args.sources,
        include_real=args.include_real,
        **options.sampler_options(args),
    )
    if report_share(manifest):
        return 0  # the main process prints the summary of the whole job
    counts = manifest["counts"]
    generated = counts["written"] - counts["real_copied"]
    print(
        f"{generated} edited clips ({', '.join(manifest['conditions_added'])}) and {counts['real_copied']} real "
        f"ones for {len(manifest['subjects'])} training subjects; {counts['written_this_run']} written now, "
        f"{counts['resumed']} from an earlier run, {counts['skipped']} skipped"
    )
    options.print_skipped(manifest)
    if manifest["train_subjects_without_sources"]:
        print(f"training subjects without source clips: {', '.join(manifest['train_subjects_without_sources'])}")
    if "verified_as_source" in counts:
        print(f"judge: {counts['verified_as_source']} of {generated} edits still verified as their source person")
    if "covariates_match" in counts:
        print(f"covariate classifier: {counts['covariates_match']} of {counts['covariates_scored']} show the request")
    options.print_speed_and_manifest(manifest, args.out, partition=manifest["partition"])
    return 0
