"""`studio experiment augmentation`: does generated data teach a recognizer a condition it never saw?"""

from __future__ import annotations

from studio.commands._sampler_args import comma_list

NAME = "experiment"
HELP = "run a packaged experiment end to end (augmentation: CL-/BG-free training ± generated clips)"

DEFAULT_CONFIG = "configs/experiments/augmentation.json"


def add_arguments(parser):
    parser.add_argument("name", choices=["augmentation"], help="the experiment")
    parser.add_argument("--data", required=True, help="real dataset root (OpenGait layout, CASIA-B names)")
    parser.add_argument("--partition", required=True, help="partition JSON: TRAIN_SET trains, TEST_SET scores")
    parser.add_argument("--out", required=True, help="experiment folder (resumes when it holds an unfinished run)")
    parser.add_argument("--config", default=DEFAULT_CONFIG, help=f"experiment config (default {DEFAULT_CONFIG})")
    parser.add_argument("--settings", type=comma_list, default=["no-cl"], help="no-cl and/or no-bg (default no-cl)")
    parser.add_argument("--seeds", type=comma_list, default=["0"], help="training seeds, e.g. 0,1 (default 0)")
    parser.add_argument(
        "--arms",
        type=comma_list,
        help="subset of real, walker-pretrained, real+edited, real+edited+novel "
        "(default: all but walker-pretrained, whose weights the config's 'pretrained' names)",
    )
    parser.add_argument("--steps", type=int, help="training steps per arm (default: the config's)")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (for log files)")


def run(args) -> int:
    import torch

    from studio.jobs.augmentation_experiment import (
        DEFAULT_ARMS,
        format_results,
        read_experiment_config,
        run_augmentation_experiment,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    results = run_augmentation_experiment(
        args.data,
        args.partition,
        args.out,
        read_experiment_config(args.config),
        settings=tuple(args.settings),
        seeds=tuple(int(s) for s in args.seeds),
        arms=tuple(args.arms or DEFAULT_ARMS),
        steps=args.steps,
        progress=not args.no_progress,
    )
    print(format_results(results))
    print(f"results: {args.out}/results.json, {args.out}/results.md")
    return 0
