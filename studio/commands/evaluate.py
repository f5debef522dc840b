"""`studio evaluate --real ROOT --generated ROOT --out DIR`: the fidelity report (JSON + HTML)."""

from __future__ import annotations

NAME = "evaluate"
HELP = "fidelity report of generated / edited / anonymized clips against real ones (judge-scored; JSON + HTML)"


def add_arguments(parser):
    parser.add_argument("--real", required=True, help="real clips, OpenGait layout (gallery nm-01..04)")
    parser.add_argument("--generated", required=True, help="the clips to judge, OpenGait layout (+ manifest.json)")
    parser.add_argument("--kind", choices=["generated", "edited", "anonymized"], default="generated")
    parser.add_argument("--out", required=True, help="folder for fidelity_report.json and fidelity_report.html")
    parser.add_argument("--max-clips", type=int, help="judge at most this many generated clips (random subset)")
    parser.add_argument("--max-frames", type=int, default=30, help="frames per clip embedded (default 30)")
    parser.add_argument("--gallery-subjects", type=int, default=50, help="real subjects read at least (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-clips", type=int, default=256, help="clips embedded together, shared whole (256)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args) -> int:
    from evaluation.fidelity_report import format_headline
    from studio.commands._shard import report_share
    from studio.jobs.evaluate_report import evaluate_folders

    report, json_path, html_path = evaluate_folders(
        args.real,
        args.generated,
        args.out,
        kind=args.kind,
        max_clips=args.max_clips,
        progress=not args.no_progress,
        max_frames=args.max_frames,
        gallery_subjects=args.gallery_subjects,
        seed=args.seed,
        batch_clips=args.batch_clips,
    )
    if report_share(report, "subjects"):
        return 0  # the main process prints the report's headline
    print(format_headline(report))
    print(f"{report['timing']['clips_embedded']} clips judged in {report['timing']['seconds']:.1f} s")
    print(f"JSON: {json_path}")
    print(f"HTML: {html_path}")
    return 0
