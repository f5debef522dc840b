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
        help="adapt a trained generator (a bundled name such as 'walkers', a pipeline or run folder) to DATA: "
        "its autoencoder is fine-tuned (kept as it is with --ae-steps 0, or when the config reuses one) and "
        "its denoiser fine-tuned; the config's architecture must match it (configs/generators/adapt.json does)",
    )
    parser.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    parser.add_argument(
        "--ae-steps", type=int, help="override the autoencoder's training steps (0 with --init: reuse it unchanged)"
    )
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
    if args.ae_steps is not None and args.ae_steps < 0 or args.steps is not None and args.steps < 1:
        raise ValueError(f"--ae-steps must be ≥ 0 and --steps ≥ 1, got {args.ae_steps} and {args.steps}")
    if args.ae_steps == 0 and not (args.init or recipe.autoencoder_from):
        raise ValueError("--ae-steps 0 keeps an autoencoder unchanged: it needs --init (or a config that reuses one)")
    if args.init:
        recipe.denoiser_from = args.init
        if recipe.autoencoder_from is None and args.ae_steps != 0:
            recipe.autoencoder_init = args.init
        elif recipe.autoencoder_from is None:
            recipe.autoencoder_from = args.init
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
