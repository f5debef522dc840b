"""The studio's page: tabs, controls and their wiring to `app.handlers`. No logic lives here."""

from __future__ import annotations

from app import AppConfig, prepare_environment

prepare_environment()  # before gradio is imported: no telemetry, no version check, our own temp folder

import gradio as gr  # noqa: E402

from app.handlers import SAMPLE_NAMES, StudioHandlers  # noqa: E402
from studio.pipelines.load_clip import SUPPORTED  # noqa: E402
from studio.pipelines.synthesize import CONDITION_TYPES, MAX_IDENTITIES  # noqa: E402

VIEWS = [f"{v:03d}" for v in range(0, 181, 18)]
COMING = (
    "**Coming with the {what}.** These controls show what the tab will take; nothing here runs yet, "
    "so there are no buttons to press and no results to show."
)


def _load_tab(handlers: StudioHandlers, clip: gr.State, limit_mb: float):
    gr.Markdown(
        f"Load a clip: upload {SUPPORTED} (up to **{limit_mb:g} MB**; videos: the first "
        f"{handlers.config.max_video_frames} frames, every walker found becomes a track) — or pick a built-in "
        "procedural walker."
    )
    with gr.Row():
        with gr.Column(scale=1):
            sample = gr.Dropdown(SAMPLE_NAMES, value=SAMPLE_NAMES[0], label="Bundled sample walker", elem_id="sample")
            sample_btn = gr.Button("Load sample", variant="primary", elem_id="load-sample")
            upload = gr.File(label="Upload a clip", file_count="single", type="filepath", elem_id="upload")
            upload_btn = gr.Button("Load upload", elem_id="load-upload")
            track = gr.Dropdown(label="Walker track", visible=False, elem_id="track")
        with gr.Column(scale=1):
            status = gr.Markdown(elem_id="load-status")
            preview = gr.Image(label="Preview", type="filepath", interactive=False, height=260, elem_id="preview")
            summary = gr.Markdown(elem_id="clip-summary")
            with gr.Accordion("Clip details", open=False):
                details = gr.JSON(label="metadata")
    outputs = [clip, preview, summary, details, track, status]
    limit = handlers.config.concurrency
    sample_btn.click(handlers.load_sample, [sample], outputs, api_name="load_sample", concurrency_limit=2 * limit)
    upload_btn.click(handlers.load_upload, [upload], outputs, api_name="load_upload", concurrency_limit=limit)
    # a finished upload loads at once; the button is there to retry
    upload.upload(handlers.load_upload, [upload], outputs, api_name=False, concurrency_limit=limit)
    track.input(handlers.pick_track, [track, clip], outputs, api_name="pick_track")


def _synthesize_tab(handlers: StudioHandlers):
    gr.Markdown(
        "Make **novel people** (identity embeddings that belong to no one) walking at the chosen views and "
        "conditions. The download is a dataset in the OpenGait layout with `manifest.json`."
    )
    with gr.Row():
        with gr.Column(scale=1):
            count = gr.Slider(1, min(16, MAX_IDENTITIES), value=2, step=1, label="Novel identities")
            views = gr.CheckboxGroup(VIEWS, value=["090"], label="Views")
            conditions = gr.CheckboxGroup(
                list(CONDITION_TYPES), value=["nm"], label="Conditions (nm normal, bg bag, cl coat)"
            )
            with gr.Row():
                seed = gr.Number(0, precision=0, label="Seed")
                steps = gr.Slider(1, 50, value=20, step=1, label="Sampler steps")
            with gr.Row():
                run = gr.Button("Synthesize", variant="primary", elem_id="synthesize")
                stop = gr.Button("Stop", variant="stop")
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="synth-status")
            gallery = gr.Gallery(label="Generated clips", columns=4, height=360, elem_id="synth-gallery")
            download = gr.File(label="Dataset (zip)", interactive=False)
    event = run.click(
        handlers.synthesize,
        [count, views, conditions, seed, steps],
        [gallery, download, status],
        api_name="synthesize",
        concurrency_limit=1,  # one generation at a time: it uses every core
    )
    stop.click(None, cancels=[event])


def _edit_tab():
    gr.Markdown(COMING.format(what="attribute editor"))
    with gr.Row():
        gr.Dropdown(VIEWS, value="090", label="Target view", interactive=False)
        gr.Radio(["normal", "coat"], value="normal", label="Clothing", interactive=False)
        gr.Radio(["none", "bag"], value="none", label="Carrying", interactive=False)
    with gr.Row():
        gr.Slider(0, 1, value=0.6, label="Strength (how far from the source clip)", interactive=False)
        gr.Number(0, precision=0, label="Seed", interactive=False)


def _anonymize_tab():
    gr.Markdown(COMING.format(what="anonymizer"))
    with gr.Row():
        gr.Slider(0, 1, value=0.8, label="Strength (identity removed vs. motion kept)", interactive=False)
        gr.Number(0, precision=0, label="Seed", interactive=False)


def _evaluate_tab():
    gr.Markdown(COMING.format(what="fidelity reports"))
    with gr.Row():
        gr.Textbox(label="Real dataset folder (OpenGait layout)", interactive=False)
        gr.Textbox(label="Generated dataset folder (OpenGait layout)", interactive=False)


def build_app(config: AppConfig | None = None) -> gr.Blocks:
    """The studio's `gr.Blocks` (not yet launched) for `config`."""
    config = config or AppConfig()
    handlers = StudioHandlers(config)
    # delete_cache: Gradio's own copies of uploads and outputs go after an hour.
    with gr.Blocks(title="Gait Studio", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        gr.Markdown("# Gait Studio\nGenerate, edit and anonymize gait silhouette sequences.")
        clip = gr.State(None)  # the loaded clip(s), shared by the tabs of one browser session
        with gr.Tabs():
            with gr.Tab("Load", id="load"):
                _load_tab(handlers, clip, config.max_upload_mb)
            with gr.Tab("Synthesize", id="synthesize"):
                _synthesize_tab(handlers)
            with gr.Tab("Edit", id="edit"):
                _edit_tab()
            with gr.Tab("Anonymize", id="anonymize"):
                _anonymize_tab()
            with gr.Tab("Evaluate", id="evaluate"):
                _evaluate_tab()
    demo.queue(default_concurrency_limit=config.concurrency, max_size=64)
    demo.studio_handlers = handlers  # for tests and the bench harness
    return demo


def launch_app(config: AppConfig | None = None, block: bool = False) -> tuple[gr.Blocks, str]:
    """Build and start the app; returns (blocks, local url). `block=True` serves until interrupted."""
    config = config or AppConfig()
    demo = build_app(config)
    handlers = demo.studio_handlers
    _, url, _ = demo.launch(
        server_name=config.host,
        server_port=config.port or None,
        share=False,  # never: it would download a tunnel binary and expose the machine
        prevent_thread_lock=not block,
        max_file_size=config.max_upload_bytes,
        allowed_paths=[str(handlers.outputs)],
        ssr_mode=False,  # no Node.js server
        quiet=True,
        footer_links=["api"],
    )
    return demo, url
