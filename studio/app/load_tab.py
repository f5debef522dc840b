"""The Load tab: a bundled walker or an upload → `studio.jobs.load_clip` → the clip, its preview and summary."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from gaitdata import GaitDataError, GaitSequence
from studio.app.export import write_preview
from studio.app.markdown import describe, display_name, error_box, summary_markdown, track_label, user_message
from studio.app.work import UNEXPECTED, RequestCancelled, StudioRequests
from studio.jobs.load_clip import ClipLimits, bundled_sample, load_clip

logger = logging.getLogger(__name__)


# Gradio passes this default to the callback as its progress bar (one per callback, as a default's would be)
PROGRESS = gr.Progress()


class LoadTab:
    """Outputs of every callback: clip state, preview, summary, details, track picker, status."""

    def __init__(self, requests: StudioRequests):
        self.requests = requests
        self.config = requests.config
        self.clip_limits = ClipLimits(
            max_frames=self.config.max_clip_frames,
            max_frame_pixels=self.config.max_frame_pixels,
            max_pixels=self.config.max_clip_pixels,
        )

    def _loaded(self, seqs: list[GaitSequence], index: int = 0):
        """Outputs of a successful load."""
        choices = [(track_label(i, s), i) for i, s in enumerate(seqs)]
        picker = gr.Dropdown(choices=choices, value=index, visible=len(seqs) > 1, interactive=True)
        state = {"sequences": seqs, "index": index}
        preview = write_preview(self.requests.folder(), seqs[index])
        return state, preview, summary_markdown(seqs, index), describe(seqs[index]), picker, ""

    def _failed(self, title: str, err: Exception | str):
        """Outputs of a failed load: the previous clip stays loaded and shown; the status explains."""
        message = err if isinstance(err, str) else user_message(err)
        gr.Warning(f"{title}: {message}")
        box = error_box(title, message) + "\n\nThe clip loaded before (if any) stays loaded."
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), box

    def load_sample(self, name: str):
        """Load a built-in procedural walker by name (see `SAMPLES`)."""
        try:
            return self._loaded([bundled_sample(name)])
        except ValueError as err:
            return self._failed("Unknown sample", err)

    def load_upload(self, file_path: str | None, progress=PROGRESS, request: gr.Request = None):
        """Load an uploaded file (video, zip of frames, .pkl, .npz) through `load_clip`, within the
        app's limits (bytes, frames, decoded pixels); a closed page stops a video's decoding."""
        if not file_path:
            return self._failed("Nothing to load", "choose a file first")
        upload_name = Path(file_path).name
        name = display_name(upload_name)
        try:
            with self.requests.running(request, "load") as work:

                def report(done: int, total: int) -> None:
                    work.check()  # between frames: a page gone away stops the decoding
                    if total > 0:
                        progress((done, total), desc="reading video", unit="frames")

                seqs = load_clip(
                    file_path,
                    trust_layout=False,
                    max_bytes=self.config.max_upload_bytes,
                    max_video_frames=self.config.max_video_frames,
                    progress=report,
                    limits=self.clip_limits,
                )
                work.check()
                return self._loaded(seqs)
        except RequestCancelled:
            return self._failed("Loading cancelled", "the page was closed")
        except (GaitDataError, ValueError) as err:
            # the title names the upload already; a member or inner path stays in the message
            same_file = isinstance(err, GaitDataError) and err.path and Path(err.path).name == upload_name
            return self._failed(f"Could not load {name}", err.problem if same_file else err)
        except Exception:  # the app must keep serving; the details go to the server log
            logger.exception("loading %s failed", file_path)
            return self._failed(f"Could not load {name}", UNEXPECTED)

    def pick_track(self, index, state):
        """Show another walker of a multi-walker video."""
        if not state or not state.get("sequences"):
            return self._failed("Nothing loaded", "load a clip first")
        seqs = state["sequences"]
        try:
            index = int(index)
            if not 0 <= index < len(seqs):
                raise ValueError(f"track {index + 1} does not exist; this clip has {len(seqs)}")
        except (TypeError, ValueError) as err:
            return self._failed("No such walker", err)
        return self._loaded(seqs, index)
