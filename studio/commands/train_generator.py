"""`studio train-generator`: train the latent silhouette diffusion generator."""

from __future__ import annotations

NAME = "train-generator"
HELP = "train the frame autoencoder and latent denoiser on an OpenGait-layout dataset (resumable)"


def add_arguments(parser):
    parser.add_argument("--config", default="configs/generators/walkers.json", help="experiment config (JSON)")
    parser.add_argument("--data", required=True, help="dataset root (OpenGait layout) whose TRAIN_SET trains")
    parser.add_argument("--partition", help="partition JSON (default DATA/partition.json)")
    parser.add_argument("--extra-data", action="append", default=[], help="more datasets: every subject trains")
    parser.add_argument("--out", required=True, help="run folder; the pipeline lands in OUT/pipeline")
    parser.add_argument(
        "--init",
        help="fine-tune: start the denoiser from this generator (a bundled name such as 'walkers', a pipeline "
        "or run folder) and reuse its autoencoder; the config's denoiser architecture must match it",
    )
    parser.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    parser.add_argument("--ae-steps", type=int, help="override the autoencoder's training steps")
    parser.add_argument("--steps", type=int, help="override the denoiser's training steps")
    parser.add_argument("--threads", type=int, help="torch CPU threads (1 per job when two jobs share 2 cores)")
    parser.add_argument(
        "--stop-after",
        choices=["autoencoder", "latents"],
        help="stop after this stage (neither needs the conditioner)",
    )


def run(args) -> int:
    import json

    from studio.jobs.train_generator import GeneratorRecipe, train_generator

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    recipe = GeneratorRecipe.from_json(args.config)
    if args.init:
        recipe.autoencoder_from = recipe.autoencoder_from or args.init
        recipe.denoiser_from = args.init
    if args.ae_steps:
        recipe.autoencoder.steps = args.ae_steps
    if args.steps:
        recipe.denoiser.steps = args.steps
    summary = train_generator(
        args.data, args.out, recipe, args.partition, args.extra_data, not args.no_resume, args.stop_after
    )
    print(json.dumps({k: v for k, v in summary.items() if k != "recipe"}, indent=1))
    if not args.stop_after:
        print(f"pipeline written to {args.out}/pipeline")
    return 0
