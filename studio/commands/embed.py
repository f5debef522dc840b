"""`studio embed`: embed every sequence of a dataset with a recognizer, into an `.npz`."""

from __future__ import annotations

NAME = "embed"
HELP = "embed the sequences of an OpenGait-layout dataset with a recognizer (writes embeddings + labels .npz)"


def add_arguments(parser):
    parser.add_argument("--weights", default="gaitset-walkers", help="weights folder or bundled name (default: judge)")
    parser.add_argument("--data", required=True, help="dataset root in the OpenGait layout")
    parser.add_argument("--out", required=True, help="the .npz to write (embeddings, subject, condition, view, source)")
    parser.add_argument("--partition", help="partition JSON; with --split, embed only that split")
    parser.add_argument("--split", choices=["train", "test"], default="test", help="split to embed (with --partition)")
    parser.add_argument("--max-frames", type=int, default=300, help="frames per sequence at most (a centred window)")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast (faster on CPUs with AMX)")


def run(args) -> int:
    from studio.jobs.embed_dataset import embed_dataset_to_npz

    result = embed_dataset_to_npz(
        args.weights, args.data, args.out, args.partition, args.split, args.max_frames, args.bf16
    )
    print(f"{result['read_summary']}; embeddings {tuple(result['shape'])} written to {args.out}")
    return 0
