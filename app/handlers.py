"""The app's callbacks: parse page inputs, call one library function, turn its result into outputs.

Errors the user can fix (`GaitDataError`, `ValueError`, missing weights) become a message in
the page, never a stack trace; anything else is logged on the server and reported as an
unexpected error, and the app keeps serving.
"""

from __future__ import annotations

import logging
import threading
import uuid
from pathlib import Path

import gradio as gr

from app import AppConfig, prepare_environment
from studio.data import GaitDataError, GaitSequence, read_sequence
from studio.data.archive import write_folder_zip
from studio.data.preview import write_gif
from studio.pipelines.load_clip import SAMPLES, bundled_sample, load_clip
from studio.pipelines.synthesize import GeneratorUnavailable, load_synthesis_pipeline, synthesize_dataset

logger = logging.getLogger(__name__)

MAX_GALLERY = 24  # previews shown after synthesis; the download holds every clip


def user_message(err: Exception) -> str:
    """A one-line explanation for the page: the file's name (not the server's temp path) and the problem."""
    if isinstance(err, GaitDataError):
        name = Path(err.path).name if err.path else None
        return f"{name}: {err.problem}" if name else err.problem
    return str(err)


def error_box(title: str, err: Exception | str) -> str:
    text = err if isinstance(err, str) else user_message(err)
    return f"### ⚠️ {title}\n\n{text}"


def describe(seq: GaitSequence) -> dict:
    """What the Load tab shows about a clip (JSON-ready)."""
    info = {
        "frames": seq.num_frames,
        "shape": list(seq.frames.shape),
        "subject": seq.subject,
        "condition": seq.condition,
        "view": seq.view,
        "fps": seq.fps,
        "source": Path(seq.source).name if seq.source and not seq.source.startswith("walker:") else seq.source,
    }
    for key in ("track_id", "gaps", "occluded_frames", "partial_frames"):
        if key in seq.extra:
            info[key] = seq.extra[key]
    return info


def summary_markdown(seqs: list[GaitSequence], index: int) -> str:
    seq = seqs[index]
    t, h, w = seq.frames.shape
    lines = [
        f"**{seq.subject}** · condition `{seq.condition}` · view `{seq.view}` · "
        f"**{t} frames** of {h}×{w} at {seq.fps:g} fps ({t / seq.fps:.1f} s)"
    ]
    if t == 1:
        lines.append("Note: a single-frame sequence; models see no motion in it.")
    if len(seqs) > 1:
        lines.append(f"Walker {index + 1} of {len(seqs)} found in this clip: pick another in the list.")
    return "\n\n".join(lines)


def track_label(i: int, seq: GaitSequence) -> str:
    return f"{i + 1}: {seq.subject} ({seq.num_frames} frames)"


class StudioHandlers:
    """Callbacks of one app instance; holds its config and the lazily loaded generator."""

    def __init__(self, config: AppConfig):
        self.config = config
        self.work_dir = prepare_environment(config.work_dir)
        self.outputs = self.work_dir / "outputs"
        self.outputs.mkdir(parents=True, exist_ok=True)
        self._pipeline = None
        self._pipeline_lock = threading.Lock()

    # ---- helpers --------------------------------------------------------------------------
    def _request_dir(self) -> Path:
        """A fresh folder per request: concurrent users never overwrite each other's files."""
        path = self.outputs / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def _preview(self, seq: GaitSequence) -> str:
        return str(write_gif(self._request_dir() / f"{seq.subject}.gif", seq))

    def _loaded(self, seqs: list[GaitSequence], index: int = 0):
        """Outputs of a successful load: state, preview, summary, details, track picker, status."""
        choices = [(track_label(i, s), i) for i, s in enumerate(seqs)]
        picker = gr.Dropdown(choices=choices, value=index, visible=len(seqs) > 1, interactive=True)
        state = {"sequences": seqs, "index": index}
        preview = self._preview(seqs[index])
        return state, preview, summary_markdown(seqs, index), describe(seqs[index]), picker, ""

    def _failed(self, title: str, err: Exception | str):
        """Outputs of a failed load: the previous clip stays loaded and shown; the status explains."""
        message = err if isinstance(err, str) else user_message(err)
        gr.Warning(f"{title}: {message}")
        box = error_box(title, message) + "\n\nThe clip loaded before (if any) stays loaded."
        return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), box

    # ---- Load tab ---------------------------------------------------------------------------
    def load_sample(self, name: str):
        """Load a built-in procedural walker by name (see `SAMPLES`)."""
        try:
            return self._loaded([bundled_sample(name)])
        except ValueError as err:
            return self._failed("Unknown sample", err)

    def load_upload(self, file_path: str | None, progress=gr.Progress()):  # noqa: B008 (Gradio injects the tracker)
        """Load an uploaded file (video, zip of frames, .pkl, .npz) through `load_clip`."""
        if not file_path:
            return self._failed("Nothing to load", "choose a file first")
        name = Path(file_path).name

        def report(done: int, total: int) -> None:
            if total > 0:
                progress((done, total), desc="reading video", unit="frames")

        try:
            seqs = load_clip(
                file_path,
                trust_layout=False,
                max_bytes=self.config.max_upload_bytes,
                max_video_frames=self.config.max_video_frames,
                progress=report,
            )
        except (GaitDataError, ValueError) as err:
            # the title names the upload already; a member or inner path stays in the message
            same_file = isinstance(err, GaitDataError) and err.path and Path(err.path).name == name
            return self._failed(f"Could not load {name}", err.problem if same_file else err)
        except Exception:  # the app must keep serving; the details go to the server log
            logger.exception("loading %s failed", file_path)
            return self._failed(f"Could not load {name}", "unexpected error (details in the server log)")
        return self._loaded(seqs)

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

    # ---- Synthesize tab -----------------------------------------------------------------------
    def pipeline(self):
        """The generator, loaded once on first use (missing weights are re-checked each time)."""
        with self._pipeline_lock:
            if self._pipeline is None:
                self._pipeline = load_synthesis_pipeline(self.config.generator)
            return self._pipeline

    def synthesize(self, num_identities, views, conditions, seed, steps, progress=gr.Progress()):  # noqa: B008 (Gradio injects the tracker)
        """Novel people × views × conditions → preview gallery, dataset zip, summary."""
        try:
            pipeline = self.pipeline()
        except GeneratorUnavailable as err:
            gr.Warning(str(err))
            return [], None, error_box("Generator not available", str(err))
        except (GaitDataError, ValueError) as err:
            return [], None, error_box("Generator cannot be loaded", err)
        out = self._request_dir()
        try:
            manifest = synthesize_dataset(
                pipeline,
                out / "dataset",
                num_identities=int(num_identities),
                views=list(views or []),
                conditions=list(conditions or []),
                seed=int(seed or 0),
                steps=int(steps),
                progress=lambda done, total: progress((done, total), desc="identities", unit="identities"),
            )
        except (GaitDataError, ValueError) as err:
            gr.Warning(user_message(err))
            return [], None, error_box("Cannot synthesize", err)
        except Exception:
            logger.exception("synthesis failed")
            return [], None, error_box("Cannot synthesize", "unexpected error (details in the server log)")
        download = write_folder_zip(out / "dataset", out / "synthetic_gait_dataset.zip")
        gallery = []
        for entry in manifest["sequences"][:MAX_GALLERY]:
            seq = read_sequence(out / "dataset" / entry["path"])
            caption = f"{entry['subject']} {entry['condition']} {entry['view']}"
            gallery.append((str(write_gif(out / "previews" / f"{caption.replace(' ', '_')}.gif", seq)), caption))
        n = len(manifest["sequences"])
        sources = sorted({i["source"] for i in manifest["identities"]})
        text = (
            f"**{n} clips** of {manifest['settings']['num_identities']} novel identities "
            f"({', '.join(sources)} identity embeddings) in {manifest['seconds']:.1f} s. "
            f"The zip holds the OpenGait layout, `partition.json` and `manifest.json`."
        )
        if n > MAX_GALLERY:
            text += f" Showing the first {MAX_GALLERY} previews."
        return gallery, str(download), text


SAMPLE_NAMES = list(SAMPLES)
