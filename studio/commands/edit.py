"""`studio edit INPUT --out OUT --clothing coat`: one clip or a whole dataset in new covariates, identity kept."""

from __future__ import annotations

from generators.settings import EDIT
from studio.commands._sampler_args import add_sampler_arguments
from studio.commands._shard import report_share

NAME = "edit"
HELP = "edit the view / clothing / carrying of one clip or a whole OpenGait dataset (identity and motion kept)"


def _list(text: str) -> list[str]:
    return [item for item in text.replace(",", " ").split() if item]


def add_arguments(parser):
    parser.add_argument("input", metavar="INPUT", help="a clip (.pkl, .npz, sequence or PNG folder) or a dataset root")
    parser.add_argument("--out", required=True, help="new dataset folder (OpenGait layout + manifest); never the input")
    parser.add_argument("--view", help="new view in degrees, e.g. 090 (default: keep each clip's)")
    parser.add_argument("--clothing", help="new clothing: normal or coat (default: keep)")
    parser.add_argument("--carrying", help="new carrying: none or bag (default: keep)")
    add_sampler_arguments(parser, EDIT, "0 keeps the source, 1 regenerates fully")
    parser.add_argument("--seed", type=int, default=0, help="each clip's seed derives from it and the clip (0)")
    parser.add_argument("--subjects", type=_list, help="dataset only: these subjects, e.g. 075,076")
    parser.add_argument("--conditions", type=_list, help="dataset only: these conditions or types, e.g. nm")
    parser.add_argument("--views", type=_list, help="dataset only: these source views, e.g. 000,090")
    parser.add_argument("--no-judge", action="store_true", help="do not score the edits with the judge")
    parser.add_argument("--batch-clips", type=int, default=64, help="clips made together, whole people per batch (64)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from pathlib import Path

    from studio.jobs.edit_dataset import edit_dataset, load_editor

    editor = load_editor(with_judge=not args.no_judge)
    manifest = edit_dataset(
        editor,
        args.input,
        args.out,
        view=args.view,
        clothing=args.clothing,
        carrying=args.carrying,
        strength=args.strength,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        method=args.method,
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
        f"{counts['written']} of {counts['clips']} clips edited ({counts['written_this_run']} now, "
        f"{counts['resumed']} from an earlier run), {counts['skipped']} skipped"
    )
    for row in manifest["skipped"]:
        print(f"  skipped {row['source']}: {row['reason']}")
    if manifest["mean_judge_cosine"] is not None:
        line = f"judge: mean cosine similarity to the source {manifest['mean_judge_cosine']:.3f}"
        if "verified_as_source" in counts:
            line += f", {counts['verified_as_source']} of {counts['written']} still verified as their source person"
        print(line)
    if "covariates_match" in counts:
        print(f"covariate classifier: {counts['covariates_match']} of {counts['covariates_scored']} show the request")
    elif manifest["mean_judge_cosine"] is not None and manifest["covariates_unavailable"]:
        print(f"covariate classifier: {manifest['covariates_unavailable']}")
    if manifest["clips_per_second"]:
        print(f"{manifest['clips_per_second']} clips/s")
    print(f"manifest: {Path(args.out) / 'manifest.json'}")
    return 0
