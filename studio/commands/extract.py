"""`studio extract VIDEO... --out DIR`: static-camera videos → one silhouette sequence per walker."""

from __future__ import annotations

NAME = "extract"
HELP = "extract walkers' silhouette sequences from static-camera videos into one OpenGait-layout folder"


def add_arguments(parser):
    parser.add_argument(
        "videos",
        nargs="+",
        metavar="VIDEO",
        help="video files and/or folders of videos from cameras that do not move; a folder gives every video "
        "file directly in it (.avi .m4v .mkv .mov .mp4 .mpeg .mpg .webm .wmv, any case), sorted by name. "
        "A video's walkers become subjects <stem>-tNN, so two videos with the same name are refused",
    )
    parser.add_argument("--out", required=True, help="dataset folder to write (outside the videos' folders)")
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
    parser.add_argument("--max-frames", type=int, default=None, help="read only the first N frames of each video")
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


def _print_video(record: dict, out_root, manifest: str) -> None:
    """Everything about one video's walkers (a job of one video)."""
    entry = record["entry"]
    if record["status"] == "reused":
        print(f"{record['video']}: already extracted with these settings (see {manifest}); nothing to do")
    print(f"{len(entry['tracks'])} walker sequences in {out_root} ({entry['frames_read']} frames read)")
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
        print(f"  previews: {out_root / entry['contact_sheet']} and one GIF/PNG per walker beside it")
    if record["removed"]:
        print(f"  removed {len(record['removed'])} sequences of an earlier run that this run did not find")


def run(args) -> int:
    import json
    import sys
    from pathlib import Path

    from tqdm import tqdm

    from gaitdata.walker_check import WalkerCheck
    from studio.commands._shard import report_share
    from studio.jobs.extract_many import extract_videos_to_dataset

    bar = tqdm(unit="frame", desc="extract", disable=args.no_progress)

    def progress(done: int, videos: int) -> None:  # this process's share of the videos
        bar.set_description(f"extract video {min(done + 1, videos)}/{videos}")

    def frame_progress(done: int, expected: int) -> None:
        if done < bar.n or done == 1:  # the next video
            bar.reset(total=expected if expected > 0 else None)
        bar.update(done - bar.n)

    try:
        summary = extract_videos_to_dataset(
            args.videos,
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
            frame_progress=frame_progress,
        )
    finally:
        bar.close()
    if report_share(summary, "videos"):
        return 0  # the main process prints the summary of the whole job
    out_root, counts, records = Path(summary["out_root"]), summary["counts"], summary["videos"]
    for record in records:
        if record["status"] == "failed":
            print(f"{record['video']}: skipped, {record['reason']}", file=sys.stderr)
        elif len(records) == 1:
            _print_video(record, out_root, summary["manifest"])
            print(json.dumps({"stats": record["entry"]["stats"], "frames_per_s": record["entry"]["frames_per_s"]}))
        else:
            done = "already extracted" if record["status"] == "reused" else f"{record['frames_read']} frames read"
            print(f"  {record['video']}: {len(record['sequences'])} walker sequences, {record['refused']} tracks "
                  f"refused ({done})")  # fmt: skip
    if len(records) > 1:
        print(
            f"{counts['extracted']} videos extracted, {counts['reused']} already done, {counts['failed']} skipped: "
            f"{counts['tracks_kept']} walker sequences in {out_root} (manifest {summary['manifest']})"
        )
        print(json.dumps(counts))
    return 2 if counts["failed"] == counts["videos"] else 0  # nothing usable came of it
