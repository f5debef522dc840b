"""The sub-commands' shared options and summary lines (not a sub-command: `_` names are skipped by
the CLI): comma-separated lists, and what `edit`, `anonymize` and `augment` parse and print alike."""

from __future__ import annotations

from pathlib import Path

from generators.settings import METHODS, EditSettings


def comma_list(text: str) -> list[str]:
    """`"075,076"` or `"075 076"` → `["075", "076"]` (an option's `type`)."""
    return [item for item in text.replace(",", " ").split() if item]


def add_generator_argument(parser) -> None:
    parser.add_argument(
        "--generator",
        help="generator: a pipeline folder (e.g. one `studio train-generator --init walkers` adapted to your "
        "data) or a bundled name (default: the bundled one)",
    )


def add_sampler_arguments(parser, settings: EditSettings, strength_help: str, strength: float | None = None) -> None:
    """`--strength --steps --guidance --method --seed`, defaulting to `settings` (`generators.settings`)."""
    strength = settings.strength if strength is None else strength
    parser.add_argument("--strength", type=float, default=strength, help=f"{strength_help} ({strength:g})")
    parser.add_argument("--steps", type=int, default=settings.steps, help=f"sampler steps ({settings.steps})")
    parser.add_argument(
        "--guidance",
        type=float,
        default=settings.guidance,
        help=f"classifier-free guidance scale ({settings.guidance:g})",
    )
    parser.add_argument(
        "--method", choices=METHODS, default=settings.method, help=f"DDIM inversion or noising ({settings.method})"
    )
    parser.add_argument("--seed", type=int, default=0, help="each clip's seed derives from it and the clip (0)")


def add_novel_identity_arguments(parser) -> None:
    """`--novel-space --novel-push`: where and how far novel identities are pushed from known people."""
    parser.add_argument(
        "--novel-space",
        choices=["standardized", "raw"],
        default="standardized",
        help="where novel identities are mixed and pushed away from known people: the denoiser's"
        " standardised identity space (default; more realistic) or the conditioner's raw one",
    )
    parser.add_argument(
        "--novel-push",
        type=float,
        help="how far from the people they resemble (default 1.0 standardised, 0.5 raw; raw 0.9 gives"
        " more distinct, less realistic people)",
    )


def add_selection_arguments(parser, views_help: str) -> None:
    """`--subjects --conditions --views`: which clips of a dataset to take."""
    parser.add_argument("--subjects", type=comma_list, help="dataset only: these subjects, e.g. 075,076")
    parser.add_argument("--conditions", type=comma_list, help="dataset only: these conditions or types, e.g. nm")
    parser.add_argument("--views", type=comma_list, help=views_help)


def add_batch_arguments(parser, judge: bool = True) -> None:
    """`[--no-judge] --batch-clips --no-progress`."""
    if judge:
        parser.add_argument("--no-judge", action="store_true", help="do not score the edits with the judge")
    parser.add_argument("--batch-clips", type=int, default=64, help="clips made together, whole people per batch (64)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def sampler_options(args) -> dict:
    """The keyword arguments of `studio.jobs.edit_dataset`'s jobs that the options above set."""
    return dict(
        strength=args.strength,
        seed=args.seed,
        steps=args.steps,
        guidance=args.guidance,
        method=args.method,
        progress=not args.no_progress,
        batch_clips=args.batch_clips,
    )


def selection_options(args) -> dict:
    """The keyword arguments that `add_selection_arguments`' options set."""
    return dict(subjects=args.subjects, conditions=args.conditions, views=args.views)


def print_written(manifest: dict, made: str) -> None:
    """The counts line, "N of M clips `made` (… now, … from an earlier run), K skipped", then the skipped clips."""
    counts = manifest["counts"]
    print(
        f"{counts['written']} of {counts['clips']} clips {made} ({counts['written_this_run']} now, "
        f"{counts['resumed']} from an earlier run), {counts['skipped']} skipped"
    )
    print_skipped(manifest)


def print_skipped(manifest: dict) -> None:
    """One line per clip the job could not make, with the reason."""
    for row in manifest["skipped"]:
        print(f"  skipped {row['source']}: {row['reason']}")


def print_speed_and_manifest(manifest: dict, out: str | Path, partition: str | None = None) -> None:
    """The job's speed (when it made clips), where its `partition` file is (if it wrote one) and
    where its manifest is."""
    if manifest["clips_per_second"]:
        print(f"{manifest['clips_per_second']} clips/s")
    if partition is not None:
        print(f"partition: {Path(out) / partition}")
    print(f"manifest: {Path(out) / 'manifest.json'}")
