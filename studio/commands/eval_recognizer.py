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
    import time

    from evaluation import covariate_accuracy, get_protocol
    from recognizers import CovariateClassifier, load_model, load_recognizer, resolve_weights
    from recognizers.calibration import calibrate, save_calibration
    from recognizers.embedding import embed_dataset, load_embeddings
    from studio.data import read_partition
    from studio.data.atomic import atomic_write_text

    folder = resolve_weights(args.weights)
    model = load_model(folder)
    is_covariate = isinstance(model, CovariateClassifier)
    recognizer = load_recognizer(model.config.judge) if is_covariate else model
    t0 = time.perf_counter()
    if args.embeddings:
        embeddings, labels, meta = load_embeddings(args.embeddings)
        args.data = args.data or meta.get("data")
        skipped = []
    else:
        if not args.data:
            raise ValueError("give --data (a dataset root) or --embeddings (an .npz from `studio embed`)")
        subjects = read_partition(args.partition).test if args.partition else None
        embeddings, labels, report = embed_dataset(
            recognizer, args.data, subjects, max_frames=args.max_frames, bf16=args.bf16
        )
        skipped = report.to_dict()["skipped"]
        print(f"{report.summary()}; embedded in {time.perf_counter() - t0:.0f} s")
    results = {"weights": str(folder), "data": args.data, "sequences": int(len(embeddings)), "skipped": skipped}
    if is_covariate:
        scores = covariate_accuracy(model.predict(embeddings), labels["condition"], labels["view"], model.config)
        results["covariates"] = scores
        print(json.dumps(scores, indent=2))
    else:
        result = get_protocol(args.protocol, args.metric).evaluate(embeddings, labels)
        results[args.protocol] = result.to_dict()
        results["metric"] = args.metric
        print(result.format_table())
        if args.calibrate:
            calibration = calibrate(embeddings, labels["subject"], args.metric, args.far)
            calibration["data"] = args.data
            save_calibration(folder, calibration)
            results["calibration"] = calibration
            print(
                f"verification threshold {calibration['threshold']:.4f} ({args.metric}): "
                f"FAR {100 * calibration['far']:.2f}%, TAR {100 * calibration['tar']:.2f}%; saved in {folder}"
            )
    if args.reference_templates and not is_covariate:
        from evaluation.novelty import ReferenceTemplates

        if not args.data:
            raise ValueError("--reference-templates needs --data")
        references = ReferenceTemplates.from_dataset(recognizer, args.data, far=args.far)
        references.save(folder)
        results["reference_templates"] = {"subjects": len(references.subjects), "threshold": references.threshold}
        print(
            f"reference templates of {len(references.subjects)} subjects saved in {folder} "
            f"(template threshold {references.threshold:.4f} at FAR {100 * args.far:.0f}%)"
        )
    atomic_write_text(args.out, json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.out}")
    return 0
