"""`studio app`: serve the Gradio web studio (local only by default)."""

from __future__ import annotations

NAME = "app"
HELP = "serve the web studio (Gradio) on 127.0.0.1: load, synthesize, edit, anonymize, evaluate"


def add_arguments(parser):
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1, this machine only)"
    )
    parser.add_argument("--port", type=int, default=7860, help="TCP port (default 7860)")
    parser.add_argument("--generator", default=None, help="generator folder for Synthesize (default: the bundled one)")
    parser.add_argument("--max-upload-mb", type=float, default=50.0, help="largest accepted upload (default 50)")
    parser.add_argument("--max-video-frames", type=int, default=1500, help="frames read from an uploaded video")
    parser.add_argument(
        "--max-clip-frames", type=int, default=300, help="frames of one clip, loaded, edited or anonymized (300)"
    )
    parser.add_argument(
        "--max-clip-megapixels",
        type=float,
        default=32 * 1.048576,
        help="decoded pixels of one uploaded clip, all frames together, in millions (33.5 = 32 Mi)",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="requests of one kind run at once (default 2)")
    parser.add_argument("--work-dir", default=None, help="the app's own folder for temp files and downloads")
    parser.add_argument(
        "--sampler-steps",
        type=int,
        default=None,
        help="default sampler steps of Synthesize / Edit / Anonymize (default: each tab's own, 20 / 20 / 12)",
    )


def run(args) -> int:
    if args.max_upload_mb <= 0:
        raise ValueError(f"--max-upload-mb must be positive, got {args.max_upload_mb}")
    if args.max_clip_frames < 1:
        raise ValueError(f"--max-clip-frames must be at least 1, got {args.max_clip_frames}")
    if args.max_clip_megapixels <= 0:
        raise ValueError(f"--max-clip-megapixels must be positive, got {args.max_clip_megapixels}")
    if args.concurrency < 1:
        raise ValueError(f"--concurrency must be at least 1, got {args.concurrency}")
    if args.sampler_steps is not None and not 1 <= args.sampler_steps <= 50:
        raise ValueError(f"--sampler-steps must be within 1–50, got {args.sampler_steps}")
    from studio.app import AppConfig, prepare_environment

    prepare_environment(args.work_dir)  # before gradio is imported
    from studio.app.studio_app import launch_app

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {args.host}: anyone who can reach it can use the app (no login)")
    config = AppConfig(
        host=args.host,
        port=args.port,
        generator=args.generator,
        max_upload_mb=args.max_upload_mb,
        max_video_frames=args.max_video_frames,
        max_clip_frames=args.max_clip_frames,
        max_clip_pixels=int(args.max_clip_megapixels * 1e6),
        concurrency=args.concurrency,
        work_dir=args.work_dir,
        sampler_steps=args.sampler_steps,
    )
    print(f"Gait Studio on http://{args.host}:{args.port} (Ctrl+C to stop)", flush=True)
    launch_app(config, block=True)
    return 0
