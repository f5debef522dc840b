"""`studio preview PATH [PATH ...] --out FILE`: an animation or frame strip of sequences, side by side."""

from __future__ import annotations

NAME = "preview"
HELP = "write a GIF / WebM / MP4 / PNG strip of a sequence, or of several side by side"

VIDEO_SUFFIXES = {".avi", ".mp4", ".webm", ".mkv", ".mov", ".m4v", ".mpg", ".mpeg", ".wmv"}


def add_arguments(parser):
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="sequence (.pkl, .npz, sequence or PNG folder) or a video (its longest walker); two or more: side by side",
    )
    parser.add_argument(
        "--out", required=True, help="output file: .gif, .webm (plays in browsers), .mp4 (download only), .avi, .png"
    )
    parser.add_argument("--fps", type=float, default=None, help="playback rate (default: the first sequence's)")
    parser.add_argument("--scale", type=float, default=3, help="upscale factor (default 3)")
    parser.add_argument("--labels", default=None, help="comma-separated labels, one per PATH (default: their names)")
    parser.add_argument("--frames", type=int, default=10, help="frames per row of a .png strip (default 10)")
    parser.add_argument("--pad", choices=("loop", "hold", "blank"), default="loop", help="how shorter sequences fill")


def _load(path: str):
    from pathlib import Path

    from gaitdata import read_sequence

    if Path(path).suffix.lower() in VIDEO_SUFFIXES:
        from gaitdata.video import extract_walkers

        return extract_walkers(path, track="longest").sequences[0]
    return read_sequence(path)


def run(args) -> int:
    from pathlib import Path

    from gaitdata.preview import VIDEO_CODECS, png_strip, write_gif, write_png, write_video

    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in {".gif", ".png", *VIDEO_CODECS}:
        raise ValueError(f"{out}: --out must end in .gif, .png, {', '.join(sorted(VIDEO_CODECS))}")
    seqs = [_load(p) for p in args.paths]
    labels = None
    if args.labels is not None:
        labels = [s.strip() for s in args.labels.split(",")]
    elif len(seqs) > 1:
        labels = [
            "/".join(s.key) if s.subject != "unknown" else Path(p).stem for s, p in zip(seqs, args.paths, strict=True)
        ]
    many = seqs if len(seqs) > 1 else seqs[0]
    if suffix == ".png":
        write_png(out, png_strip(many, num_frames=args.frames, scale=args.scale, labels=labels))
    elif suffix == ".gif":
        write_gif(out, many, fps=args.fps, scale=args.scale, labels=labels, pad=args.pad)
    else:
        write_video(out, many, fps=args.fps, scale=args.scale, labels=labels, pad=args.pad)
    frames = max(s.num_frames for s in seqs)
    what = f"{len(seqs)} sequences side by side" if len(seqs) > 1 else repr(seqs[0])
    print(f"wrote {out}: {what}, {frames} frames")
    return 0
