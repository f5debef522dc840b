"""`studio train-recognizer`: train a recognizer (or the covariate classifier) on an OpenGait-layout dataset."""

from __future__ import annotations

NAME = "train-recognizer"
HELP = "train a gait recognizer (GaitBase / GaitSet) or the covariate classifier from a JSON config"


def add_arguments(parser):
    parser.add_argument("--config", required=True, help="training config (configs/recognizers/*.json)")
    parser.add_argument("--data", required=True, help="dataset root in the OpenGait layout")
    parser.add_argument("--partition", required=True, help='partition JSON {"TRAIN_SET": [...], "TEST_SET": [...]}')
    parser.add_argument("--out", required=True, help="output folder (logs, checkpoints, model/)")
    parser.add_argument("--steps", type=int, help="total training steps (overrides the config)")
    parser.add_argument("--seed", type=int, help="random seed (overrides the config)")
    parser.add_argument("--resume", action="store_true", help="continue from the latest checkpoint in --out")
    parser.add_argument(
        "--init",
        help="fine-tune from trained weights (a bundled name such as gaitbase-walkers, or a model folder): "
        "walker pretraining for your data; a new classifier head for your subjects",
    )
    parser.add_argument("--judge", help="covariate classifier only: the judge weights (overrides the config)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (1 avoids stalls on a busy CPU)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (for log files)")


def run(args) -> int:
    import json

    from studio.jobs.train_recognizer import train_recognizer_job

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    progress = not args.no_progress
    result = train_recognizer_job(
        args.config,
        args.data,
        args.partition,
        args.out,
        args.steps,
        args.seed,
        args.resume,
        args.judge,
        progress,
        init=args.init,
    )
    if result["kind"] == "covariate-classifier":
        print(json.dumps(result["test"], indent=2))
        print(f"classifier saved to {result['weights']}")
    else:
        minutes = result["seconds"] / 60
        print(f"done in {minutes:.1f} min; weights in {args.out}/model, curves in {args.out}/curves.png")
    return 0
