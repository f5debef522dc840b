"""`studio realism --data ROOT --out DIR`: how much a dataset's GEIs look like real CASIA-B people."""

from __future__ import annotations

from pathlib import Path

NAME = "realism"
HELP = "GEI Fréchet distance and mean-GEI L1 of a dataset against real CASIA-B GEI statistics (JSON + PNG)"

# The shared data folder sits next to the repository (see README, "Real data used in tests").
DEFAULT_REFERENCE = Path(__file__).resolve().parents[2].parent / "shared/data/real-gei/casia_b_gei_stats.npz"


def add_arguments(parser):
    has_default = DEFAULT_REFERENCE.is_file()
    parser.add_argument(
        "--reference",
        required=not has_default,
        default=str(DEFAULT_REFERENCE) if has_default else None,
        help="real GEI statistics (.npz)" + (f" (default {DEFAULT_REFERENCE})" if has_default else ""),
    )
    parser.add_argument("--data", required=True, help="dataset to measure, OpenGait layout")
    parser.add_argument("--out", required=True, help="folder for realism_report.json and realism_mean_gei.png")
    parser.add_argument("--partition", help="partition JSON (default DATA/partition.json when present)")
    parser.add_argument(
        "--frechet-set",
        choices=["test", "train", "all"],
        help="subjects of the Fréchet distances (default: the partition's test set, else all)",
    )
    parser.add_argument(
        "--mean-gei-set",
        choices=["train", "test", "all"],
        help="subjects of the mean GEIs (default: the partition's training set, else all)",
    )
    parser.add_argument("--min-frames", type=int, default=5, help="shorter sequences give no GEI (default 5)")


def run(args) -> int:
    from evaluation.realism import load_reference, measure_realism, write_realism_report
    from gaitdata.atomic import ensure_outside

    ensure_outside(args.out, args.data)
    reference = load_reference(args.reference)
    result = measure_realism(
        args.data,
        reference,
        partition=args.partition,
        frechet_subjects=args.frechet_set,
        mean_gei_subjects=args.mean_gei_set,
        min_frames=args.min_frames,
    )
    json_path, png_path = write_realism_report(result, reference, args.out)
    print(result.summary())
    print(f"JSON: {json_path}")
    print(f"PNG: {png_path}")
    return 0
