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
    parser.add_argument("--judge", help="covariate classifier only: the judge weights (overrides the config)")
    parser.add_argument("--threads", type=int, help="torch CPU threads (1 avoids stalls on a busy CPU)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars (for log files)")


def _rank1_callback(config: dict, data: str, test_subjects: list[str], progress: bool):
    """Rank-1 on (part of) the test split, for the curves; None when the config asks for none."""
    from evaluation import get_protocol
    from recognizers.data import load_clip_store

    evaluator = config.get("evaluator", {})
    if not evaluator.get("eval_every_enabled", True) or not test_subjects:
        return None
    subjects = test_subjects[: evaluator.get("subjects", len(test_subjects))]
    max_frames = evaluator.get("max_frames", 30)
    store = load_clip_store(data, subjects=subjects, max_frames=max_frames, progress=progress)
    protocol = get_protocol(evaluator.get("protocol", "casia-b"), evaluator.get("metric", "euc"))
    bf16 = config.get("trainer", {}).get("mixed_precision") == "bf16"

    def evaluate(model) -> dict:
        embeddings = model.embed(store.frames, max_frames=max_frames, bf16=bf16)
        result = protocol.evaluate(embeddings, store.labels)
        if hasattr(result, "mean"):
            return {k: round(v, 2) for k, v in result.mean.items()}
        return {"rank1": round(result.rank1, 2), "mAP": round(result.mAP, 2)}

    return evaluate


def _train_covariates(args, config: dict, partition) -> int:
    import json
    from pathlib import Path

    from evaluation import covariate_accuracy
    from recognizers import load_recognizer
    from recognizers.data import load_clip_store
    from recognizers.training import train_covariate_classifier

    judge_name = args.judge or config.get("judge")
    if not judge_name:
        raise ValueError("the covariate classifier needs a judge: set 'judge' in the config or pass --judge")
    config["judge"] = judge_name
    judge = load_recognizer(judge_name)
    progress = not args.no_progress
    train = load_clip_store(args.data, subjects=partition.train, max_frames=300, progress=progress)
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    if args.steps:
        config["steps"] = args.steps
    classifier = train_covariate_classifier(judge, train, args.out, config, seed=seed, progress=progress)
    test = load_clip_store(args.data, subjects=partition.test, max_frames=300, progress=progress)
    predictions = classifier.predict(judge.embed(test.frames, bf16=config.get("bf16", True), progress=progress))
    scores = covariate_accuracy(predictions, test.conditions, test.views, classifier.config)
    Path(args.out, "results.json").write_text(json.dumps({"test": scores, "config": config}, indent=2) + "\n")
    print(json.dumps(scores, indent=2))
    print(f"classifier saved to {Path(args.out) / 'model'}")
    return 0


def run(args) -> int:
    import time

    import torch

    from recognizers.data import load_clip_store
    from recognizers.training import read_config, train_recognizer
    from studio.data import read_partition

    if args.threads:
        torch.set_num_threads(args.threads)
    config = read_config(args.config)
    partition = read_partition(args.partition)
    if config["model"]["type"] == "CovariateClassifier":
        return _train_covariates(args, config, partition)
    progress = not args.no_progress
    t0 = time.perf_counter()
    max_frames = config.get("sampler", {}).get("max_frames", 500)  # bounds RAM on very long sequences
    train = load_clip_store(args.data, subjects=partition.train, max_frames=max_frames, progress=progress)
    print(f"training set: {len(train)} sequences of {len(set(train.subjects))} subjects ({train.report.summary()})")
    evaluate = _rank1_callback(config, args.data, partition.test, progress)
    print(f"data ready in {time.perf_counter() - t0:.0f} s")
    train_recognizer(
        config,
        train,
        args.out,
        steps=args.steps,
        seed=args.seed,
        resume=args.resume,
        evaluate_fn=evaluate,
        progress=progress,
    )
    minutes = (time.perf_counter() - t0) / 60
    print(f"done in {minutes:.1f} min; weights in {args.out}/model, curves in {args.out}/curves.png")
    return 0
