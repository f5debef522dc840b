"""`studio synthesize --novel-ids N --out DIR`: a dataset of people who do not exist, judge-checked."""

from __future__ import annotations

from studio.commands import _sampler_args as options
from studio.commands._sampler_args import comma_list
from studio.commands._shard import report_share

NAME = "synthesize"
HELP = "generate novel identities × views × conditions as an OpenGait dataset with a manifest (judge-checked)"


def add_arguments(parser):
    parser.add_argument("--out", required=True, help="dataset folder to write (OpenGait layout + manifest.json)")
    parser.add_argument("--novel-ids", type=int, default=10, help="novel people to make (1-100, default 10)")
    parser.add_argument(
        "--views", type=comma_list, default=["000", "036", "072", "090", "108", "144", "180"], help="e.g. 000,090,180"
    )
    parser.add_argument("--conditions", type=comma_list, default=["nm", "bg", "cl"], help="condition types: nm,bg,cl")
    parser.add_argument("--frames", type=int, default=30, help="frames per clip (default 30)")
    parser.add_argument("--steps", type=int, default=20, help="sampler steps (default 20)")
    parser.add_argument("--guidance", type=float, default=2.0, help="classifier-free guidance scale (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="identities and sampling follow from it")
    parser.add_argument(
        "--identity-noise",
        type=float,
        default=None,
        help="share of the starting noise common to one person's clips, 0-1 (default 1: clips of one person agree)",
    )
    options.add_novel_identity_arguments(parser)
    parser.add_argument(
        "--candidates",
        type=int,
        default=1,
        help="best of N candidates per clip, chosen by the conditioner (never the judge): a person's first clip"
        " the one farthest from every known person, the others the closest to that person; N x the cost (default 1)",
    )
    parser.add_argument(
        "--conditioner-guidance",
        type=float,
        default=0.0,
        help="steer each clip toward its person along the conditioner's gradient (never the judge's);"
        " 0 = off (default), 0.2 recommended; ~5x the cost (bf16 with AMX), ~13x without",
    )
    options.add_generator_argument(parser)
    parser.add_argument("--no-check", action="store_true", help="skip the judge's novelty check")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from pathlib import Path

    from tqdm import tqdm

    from studio.jobs.synthesize import load_novelty_judge, load_synthesis_pipeline, synthesize_dataset

    pipeline = load_synthesis_pipeline(args.generator)
    judge, references = (None, None) if args.no_check else load_novelty_judge()
    bar = tqdm(desc="identities", unit="id", disable=args.no_progress)

    def progress(done: int, total: int) -> None:
        bar.total = total  # this process's share of the people
        bar.update(done - bar.n)

    manifest = synthesize_dataset(
        pipeline,
        args.out,
        args.novel_ids,
        args.views,
        args.conditions,
        seed=args.seed,
        num_frames=args.frames,
        steps=args.steps,
        guidance=args.guidance,
        progress=progress,
        judge=judge,
        references=references,
        candidates=args.candidates,
        conditioner_guidance=args.conditioner_guidance,
        novel_push=args.novel_push,
        novel_space=args.novel_space,
        **({} if args.identity_noise is None else {"identity_noise": args.identity_noise}),
    )
    bar.close()
    if report_share(manifest, "novel people"):
        return 0  # the main process prints the summary of the whole job
    print(
        f"{len(manifest['sequences'])} clips of {len(manifest['identities'])} novel people in {manifest['seconds']} s"
    )
    novelty = manifest.get("novelty")
    if novelty:
        self_rank1 = "n/a (one clip per person)" if novelty["self_rank1"] is None else f"{novelty['self_rank1']}%"
        print(
            f"judge check: {novelty['distinct']}/{novelty['identities']} distinct from every known person "
            f"(template similarity < {novelty['threshold']:.3f} at FAR 1%; nearest mean "
            f"{novelty['max_similarity_to_real']['mean']:.3f}), self rank-1 {self_rank1}"
        )
        close = [d["subject"] for d in manifest["identities"] if not d["novelty"]["distinct"]]
        if close:
            print(f"NOT distinct (too close to a known person): {', '.join(close)}")
    print(f"manifest: {Path(args.out) / 'manifest.json'}")
    return 0
