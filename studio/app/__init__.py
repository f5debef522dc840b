"""The Gradio web studio: a thin face over the library (load → preview → synthesize / edit / anonymize).

Every piece of logic lives in the library (`studio.jobs`, `generators`, `evaluation`); a
presenter per tab (`studio.app.load_tab`, `synthesize_tab`, `edit_tab`, `anonymize_tab`,
`evaluate_tab`, put together by `studio.app.handlers`) only turns page inputs into one library
call and its result into page outputs. `prepare_environment` must run before gradio is imported
(it keeps Gradio from calling out and from writing outside the app's own folder);
`studio.app.studio_app` does that itself on import.

    from studio.app import AppConfig
    from studio.app.studio_app import launch_app
    demo, url = launch_app(AppConfig(port=7860))
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORK_DIR = Path(tempfile.gettempdir()) / f"gait-studio-app-{os.getuid() if hasattr(os, 'getuid') else 0}"


def prepare_environment(work_dir: str | os.PathLike | None = None) -> Path:
    """Set the environment Gradio reads at import: no analytics, no hub calls, its own temp folder.

    Values already set by the user are kept. Returns the work folder (created).
    """
    work_dir = Path(work_dir or os.environ.get("GAIT_STUDIO_APP_DIR") or DEFAULT_WORK_DIR)
    (work_dir / "gradio").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_TEMP_DIR", str(work_dir / "gradio"))
    os.environ.setdefault("GAIT_STUDIO_APP_DIR", str(work_dir))
    return work_dir


@dataclass
class AppConfig:
    """How the studio app runs.

    Attributes:
        host: interface to listen on; loopback by default (the app has no authentication).
        port: TCP port (0 = any free port).
        generator: generator folder for the Synthesize tab (None = the bundled one).
        max_upload_mb: uploads larger than this are refused (by Gradio and again by the loader).
        max_video_frames: frames decoded from an uploaded video (bounds one request's time).
        max_clip_frames: frames of one clip: longer pkls / zips are refused, a video's walker tracks
            cut to it, and an edit or anonymization takes no more (its time grows with them).
        max_frame_pixels: pixels of one decoded frame (a zip's image, a video's frame).
        max_clip_pixels: pixels of a clip's frames together, decoded (a zip is checked from its
            image headers before any decoding): with `concurrency`, what bounds a load's memory.
        concurrency: requests of each kind that run at once; the rest wait in Gradio's queue.
        work_dir: the app's own folder (Gradio's temp files, previews, downloads).
        keep_outputs_hours: previews and downloads older than this are deleted (a long-running
            app does not fill the disk); so is a synthesized dataset, the Evaluate tab's "last synthesis".
        sampler_steps: the Synthesize, Edit and Anonymize tabs' default sampler steps (fewer = faster,
            rougher); None: each tab's own (Synthesize 20, Edit and Anonymize `generators.settings`).
        load_editor: makes the `GaitEditor` (generator, identity bank, judge, calibration); None =
            the bundled one (`studio.jobs.edit_dataset.load_editor`). Called once, on first use.
        load_covariate_classifier: makes the covariate classifier reading that judge's embeddings;
            None = the bundled one (`recognizers.load_covariate_classifier`).
        load_judge: makes the judge for the Evaluate tab's reports when no editor is loaded yet;
            None = the bundled one (`recognizers.load_judge`).
    """

    host: str = "127.0.0.1"
    port: int = 7860
    generator: str | None = None
    max_upload_mb: float = 50.0
    max_video_frames: int = 1500
    max_clip_frames: int = 300
    max_frame_pixels: int = 3840 * 2160
    max_clip_pixels: int = 32 * 1024**2
    concurrency: int = 2
    work_dir: str | None = None
    keep_outputs_hours: float = 6.0
    sampler_steps: int | None = None
    load_editor: Callable[[], object] | None = None
    load_covariate_classifier: Callable[[], object] | None = None
    load_judge: Callable[[], object] | None = None

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


__all__ = ["AppConfig", "DEFAULT_WORK_DIR", "prepare_environment"]
