"""`studio eval-recognizer`: rank-1 tables of a recognizer on a dataset's test split (or covariate
accuracies of a covariate classifier), printed and written as JSON."""

from __future__ import annotations

NAME = "eval-recognizer"
HELP = "evaluate a recognizer (CASIA-B or ReID protocol) or a covariate classifier on a test split"


def add_arguments(parser):
    parser.add_argument("--weights", required=True, help="weights folder or bundled name")
    parser.add_argument("--data", help="dataset root in the OpenGait layout (not needed with --embeddings)")
    parser.add_argument("--partition", help="partition JSON; its TEST_SET is evaluated (default: every subject)")
    parser.add_argument("--out", required=True, help="results JSON to write")
    parser.add_argument("--protocol", choices=["casia-b", "reid"], default="casia-b")
    parser.add_argument("--metric", choices=["euc", "cos"], default="euc", help="Euclidean per part, or cosine")
    parser.add_argument("--max-frames", type=int, default=300, help="frames per test sequence at most")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast while embedding")
    parser.add_argument("--embeddings", help="read embeddings from this .npz (from `studio embed`) instead of --data")
    parser.add_argument("--calibrate", action="store_true", help="store a verification threshold in the weights")
    parser.add_argument("--far", type=float, default=0.01, help="false-accept rate of that threshold")
    parser.add_argument(
        "--reference-templates",
        action="store_true",
        help="also store templates of EVERY subject of --data (nm-01..04) in the weights, for novelty checks",
    )


def run(args) -> int:
    import json

    from studio.jobs.evaluate_recognizer import evaluate_recognizer_job

    # the options' names are the job's parameters
    names = "data partition protocol metric max_frames bf16 embeddings calibrate far reference_templates".split()
    evaluation = evaluate_recognizer_job(args.weights, args.out, **{name: getattr(args, name) for name in names})
    results, folder = evaluation.results, evaluation.results["weights"]
    if evaluation.read_summary is not None:
        print(f"{evaluation.read_summary}; embedded in {evaluation.embed_seconds:.0f} s")
    if "covariates" in results:
        print(json.dumps(results["covariates"], indent=2))
    else:
        print(evaluation.table)
    if "calibration" in results:
        calibration = results["calibration"]
        print(
            f"verification threshold {calibration['threshold']:.4f} ({args.metric}): "
            f"FAR {100 * calibration['far']:.2f}%, TAR {100 * calibration['tar']:.2f}%; saved in {folder}"
        )
    if "reference_templates" in results:
        references = results["reference_templates"]
        print(
            f"reference templates of {references['subjects']} subjects saved in {folder} "
            f"(template threshold {references['threshold']:.4f} at FAR {100 * args.far:.0f}%)"
        )
    print(f"results written to {args.out}")
    return 0
