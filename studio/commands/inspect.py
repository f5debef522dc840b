"""`studio inspect PATH`: read a sequence or an OpenGait-layout dataset and say what is in it."""

from __future__ import annotations

NAME = "inspect"
HELP = "read a sequence (.pkl, .npz, PNG folder) or an OpenGait-layout dataset and summarise it"


def add_arguments(parser):
    parser.add_argument("path", help="a sequence file or folder, or a dataset root")
    parser.add_argument("--dataset", action="store_true", help="treat PATH as a dataset root")


def run(args) -> int:
    from collections import Counter

    from gaitdata import load_opengait, read_sequence

    if not args.dataset:
        seq = read_sequence(args.path)
        fg = (seq.frames > 127).mean()
        print(f"{seq}\n  foreground fraction {fg:.3f}, value range {seq.frames.min()}..{seq.frames.max()}")
        return 0
    sequences, report = load_opengait(args.path)
    subjects = Counter(s.subject for s in sequences)
    conditions = Counter(s.condition for s in sequences)
    views = Counter(s.view for s in sequences)
    lengths = sorted(s.num_frames for s in sequences)
    print(report.summary())
    print(f"  subjects: {len(subjects)}; conditions: {dict(sorted(conditions.items()))}")
    print(f"  views: {dict(sorted(views.items()))}")
    if lengths:
        print(f"  frames per sequence: min {lengths[0]}, median {lengths[len(lengths) // 2]}, max {lengths[-1]}")
    for path, problem in report.skipped[:20]:
        print(f"  skipped {path}: {problem}")
    return 0
