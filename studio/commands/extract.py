"""`studio extract VIDEO --out DIR`: a static-camera video → one silhouette sequence per walker."""

from __future__ import annotations

NAME = "extract"
HELP = "extract walkers' silhouette sequences from a static-camera video into an OpenGait-layout folder"


def add_arguments(parser):
    parser.add_argument("video", help="video file (avi, mp4, webm, ...) from a camera that does not move")
    parser.add_argument("--out", required=True, help="dataset folder to write (outside the video's folder)")
    parser.add_argument(
        "--method", choices=("mog2", "knn"), default="mog2", help="background subtractor (default mog2)"
    )
    parser.add_argument("--min-frames", type=int, default=20, help="shortest walker track kept, in frames (default 20)")
    parser.add_argument(
        "--track",
        choices=("all", "longest", "largest"),
        default="all",
        help="all tracks as separate sequences, or only the longest / the largest (nearest) one (default all)",
    )
    parser.add_argument("--max-frames", type=int, default=None, help="read only the first N frames")
    parser.add_argument("--condition", default="nm-01", help="condition folder name for every sequence (default nm-01)")
    parser.add_argument("--view", default="unk", help="view folder name, e.g. 090 if you know it (default unk)")
    parser.add_argument("--allow-truncated", action="store_true", help="use the frames of a truncated file")
    parser.add_argument(
        "--keep-all-tracks",
        action="store_true",
        help="keep every moving track, also those the walker check refuses as not walking people "
        "(not person-shaped, no gait rhythm, too fast); their reasons are still measured and recorded",
    )
    parser.add_argument("--no-previews", action="store_true", help="skip the GIF/PNG previews and contact sheet")
    parser.add_argument("--no-resume", action="store_true", help="extract again even if an identical run is complete")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    import json

    from tqdm import tqdm

    from studio.data.walker_check import WalkerCheck
    from studio.pipelines.extract import extract_video_to_dataset

    bar = None

    def progress(done: int, expected: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=expected if expected > 0 else None, unit="frame", desc="extract", disable=args.no_progress)
        bar.update(done - bar.n)

    try:
        summary = extract_video_to_dataset(
            args.video,
            args.out,
            method=args.method,
            min_frames=args.min_frames,
            track=args.track,
            max_frames=args.max_frames,
            condition=args.condition,
            view=args.view,
            previews=not args.no_previews,
            allow_truncated=args.allow_truncated,
            resume=not args.no_resume,
            walker_check=WalkerCheck(enabled=not args.keep_all_tracks),
            progress=progress,
        )
    finally:
        if bar is not None:
            bar.close()
    entry = summary.entry
    if summary.reused:
        print(f"{args.video}: already extracted with these settings (see {summary.manifest_path}); nothing to do")
    print(f"{len(entry['tracks'])} walker sequences in {summary.out_root} ({entry['frames_read']} frames read)")
    for t in entry["tracks"]:
        box = t["boxes"]["height_px"]
        print(
            f"  {t['pkl']}: {t['frames']} frames (video frames {t['first_frame']}-{t['last_frame']}), "
            f"person {box['median']:.0f} px tall"
        )
        would_refuse = (t.get("walker_check") or {}).get("reasons")
        if would_refuse:  # only with --keep-all-tracks
            print(f"    kept although the walker check would refuse it: {'; '.join(would_refuse)}")
    refused = entry.get("refused_tracks", [])
    if refused:
        print(f"{len(refused)} tracks refused as not walking people (--keep-all-tracks keeps them):")
        for r in refused:
            print(f"  {r['label']} (video frames {r['first_frame']}-{r['last_frame']}): {'; '.join(r['reasons'])}")
    if entry.get("contact_sheet"):
        print(f"  previews: {summary.out_root / entry['contact_sheet']} and one GIF/PNG per walker beside it")
    if summary.removed:
        print(f"  removed {len(summary.removed)} sequences of an earlier run that this run did not find")
    print(json.dumps({"stats": entry["stats"], "frames_per_s": entry["frames_per_s"]}))
    return 0
