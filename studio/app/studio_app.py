"""The studio's page: tabs, controls and their wiring to `studio.app.handlers`. No logic lives here."""

from __future__ import annotations

from studio.app import AppConfig, prepare_environment

prepare_environment()  # before gradio is imported: no telemetry, no version check, our own temp folder

import gradio as gr  # noqa: E402

from gaitdata.casia_b import CARRYING, CLOTHING, CONDITION_TYPES, VIEWS  # noqa: E402
from generators.settings import ANONYMIZE, EDIT  # noqa: E402 (torch-free)
from studio.app.handlers import A_FOLDER, KEEP, LAST_SYNTHESIS, SAMPLE_NAMES, StudioHandlers  # noqa: E402
from studio.jobs.load_clip import SUPPORTED  # noqa: E402
from studio.jobs.synthesize import MAX_IDENTITIES  # noqa: E402

SYNTHESIS_STEPS = 20  # the generation pipeline's default

REPORT_KINDS = ("generated", "edited", "anonymized")  # evaluation.fidelity_report.KINDS, without importing torch here

# the library's defaults, the settings `studio eval-editor` measured
EDIT_STRENGTH, ANONYMIZE_STRENGTH = EDIT.strength, ANONYMIZE.strength

# An upload over Gradio's size limit never reaches the server: the browser only shows a toast that
# fades. This note, next to the upload, says so and stays until a file within the limit is chosen.
UPLOAD_LIMIT_JS = """
const limit = LIMIT_BYTES, megabytes = LIMIT_MB;
const entities = {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'};
const escape = (text) => text.replace(/[&<>"']/g, (c) => entities[c]);
const size = (bytes) => Number((bytes / 1048576).toPrecision(3)) + ' MB';
const inspect = (files) => {
  if (!files || !files.length) return;
  const big = Array.from(files).find((f) => f.size > limit);
  props.value = big
    ? '<div class="upload-refused" role="alert" style="border-left:6px solid #c62828;background:#fdecea;' +
      'padding:8px 12px;border-radius:4px"><b>⚠ ' + escape(big.name) + ' was not uploaded</b>: it is ' +
      size(big.size) + ', over the studio limit of ' + megabytes + ' MB. Send a shorter clip, or its ' +
      'silhouettes (a .zip of PNG masks or an OpenGait .pkl, a few MB).</div>'
    : '';
};
const inUpload = (event) => event.target instanceof Element && event.target.closest('#upload');
document.addEventListener('change', (event) => {
  if (inUpload(event) && event.target.files) inspect(event.target.files);
}, true);
document.addEventListener('drop', (event) => {
  if (inUpload(event) && event.dataTransfer) inspect(event.dataTransfer.files);
}, true);
"""


def _load_tab(handlers: StudioHandlers, clip: gr.State, limit_mb: float):
    config = handlers.config
    gr.Markdown(
        f"Load a clip: upload {SUPPORTED} (up to **{limit_mb:g} MB** and **{config.max_clip_frames} frames**, "
        f"decoding to at most {config.max_clip_pixels / 1e6:.3g} million pixels; videos: the first "
        f"{config.max_video_frames} frames, every walker found becomes a track) — or pick a built-in "
        "procedural walker."
    )
    with gr.Row():
        with gr.Column(scale=1):
            sample = gr.Dropdown(SAMPLE_NAMES, value=SAMPLE_NAMES[0], label="Bundled sample walker", elem_id="sample")
            sample_btn = gr.Button("Load sample", variant="primary", elem_id="load-sample")
            upload = gr.File(label="Upload a clip", file_count="single", type="filepath", elem_id="upload")
            limit_js = UPLOAD_LIMIT_JS.replace("LIMIT_BYTES", str(config.max_upload_bytes))
            gr.HTML("", js_on_load=limit_js.replace("LIMIT_MB", f"{limit_mb:g}"), elem_id="upload-note")
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


def _synthesize_tab(handlers: StudioHandlers, last_synthesis: gr.State):
    gr.Markdown(
        "Make **novel people** (identity embeddings that belong to no one) walking at the chosen views and "
        "conditions. The download is a dataset in the OpenGait layout with `manifest.json`."
    )
    with gr.Row():
        with gr.Column(scale=1):
            count = gr.Slider(
                1, min(16, MAX_IDENTITIES), value=2, step=1, label="Novel identities", elem_id="synth-count"
            )
            views = gr.CheckboxGroup(list(VIEWS), value=["090"], label="Views")
            conditions = gr.CheckboxGroup(
                list(CONDITION_TYPES), value=["nm"], label="Conditions (nm normal, bg bag, cl coat)"
            )
            candidates = gr.Slider(
                1,
                4,
                value=1,
                step=1,
                label="Best of (identity)",
                info="draws this many of each clip and keeps the one the conditioner reads closest to the person; "
                "each costs one more generation",
                elem_id="synth-candidates",
            )
            steering = gr.Slider(
                0.0,
                0.4,
                value=0.0,
                step=0.1,
                label="Identity steering",
                info="moves every step toward the person along the conditioner's gradient (0 = off, 0.2 "
                "recommended): the person comes out much closer, at ~5-13x the time",
                elem_id="synth-steering",
            )
            seed, steps, run, cancel = _sampling_controls(
                handlers, "Synthesize", "synth", SYNTHESIS_STEPS, run_id="synthesize", steps_id="synth-steps"
            )
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="synth-status")
            gallery = gr.Gallery(
                label="Generated clips", columns=4, height=360, object_fit="contain", elem_id="synth-gallery"
            )
            download = gr.File(label="Dataset (zip)", interactive=False)
    inputs = [count, views, conditions, seed, steps, candidates, steering]
    # one generation at a time: it uses every core; a cancelled one leaves the last synthesis as it was
    _wire(
        handlers,
        handlers.synthesize,
        inputs,
        [gallery, download, status],
        run,
        cancel,
        "synthesize",
        1,
        [last_synthesis],
    )


def _source_line(handlers: StudioHandlers, clip: gr.State, elem_id: str) -> gr.Markdown:
    """A line naming the clip the tab works on; follows the Load tab."""
    line = gr.Markdown(handlers.source_markdown(None), elem_id=elem_id)
    clip.change(handlers.source_markdown, [clip], [line], api_name=False, queue=False)
    return line


def _sampling_controls(
    handlers: StudioHandlers,
    label: str,
    prefix: str,
    steps: int,
    run_id: str | None = None,
    steps_id: str | None = None,
):
    """Seed, sampler steps (`steps` unless the app's config sets them), the run button (`run_id`,
    default PREFIX-run) and its Cancel."""
    with gr.Row():
        seed = gr.Number(0, precision=0, label="Seed")
        steps = gr.Slider(
            1, 50, value=handlers.config.sampler_steps or steps, step=1, label="Sampler steps", elem_id=steps_id
        )
    with gr.Row():
        run = gr.Button(label, variant="primary", elem_id=run_id or f"{prefix}-run")
        cancel = gr.Button("Cancel", variant="stop", elem_id=f"{prefix}-cancel")
    return seed, steps, run, cancel


def _clip_result_panel(prefix: str, animation_label: str, verdict_id: str):
    """Status, the side-by-side animation, the verdict, downloads and the raw scores."""
    status = gr.Markdown(elem_id=f"{prefix}-status")
    animation = gr.Image(
        label=animation_label, type="filepath", interactive=False, height=300, elem_id=f"{prefix}-animation"
    )
    verdict = gr.Markdown(elem_id=verdict_id)
    downloads = gr.Files(
        label="Downloads: OpenGait layout (.zip with the .pkl), GIF, MP4", elem_id=f"{prefix}-files", interactive=False
    )
    with gr.Accordion("Scores (JSON)", open=False):
        details = gr.JSON(label="scores")
    return [animation, verdict, details, downloads, status]


def _wire(
    handlers: StudioHandlers,
    handler,
    inputs,
    outputs,
    run,
    cancel,
    api_name: str,
    concurrency: int | None = None,
    kept_on_cancel=(),
):
    """`run` → `handler` through the queue (recorded first, so that Cancel knows it is waiting); `cancel` stops it.

    `concurrency`: runs at a time (default the app's); `kept_on_cancel`: what the handler sets after
    `outputs` and a Cancel leaves as it was.
    """
    event = run.click(handlers.submitted(api_name), None, None, queue=False, api_name=False).then(
        handler,
        inputs,
        [*outputs, *kept_on_cancel],
        api_name=api_name,
        concurrency_limit=concurrency or handlers.config.concurrency,
    )
    cancel.click(handlers.cancel(api_name, len(outputs)), None, outputs, cancels=[event], queue=False, api_name=False)


def _edit_tab(handlers: StudioHandlers, clip: gr.State):
    gr.Markdown(
        "The **same person, walking the same way**, with a new view, clothing or carrying. The judge (an "
        "independent recognizer) says whether the person is still recognisable, the covariate classifier "
        "whether the new covariates show."
    )
    with gr.Row():
        with gr.Column(scale=1):
            _source_line(handlers, clip, "edit-source")
            view = gr.Dropdown([KEEP, *VIEWS], value=KEEP, label="Target view (degrees)", elem_id="edit-view")
            clothing = gr.Radio([KEEP, *CLOTHING], value="coat", label="Clothing", elem_id="edit-clothing")
            carrying = gr.Radio([KEEP, *CARRYING], value=KEEP, label="Carrying", elem_id="edit-carrying")
            strength = gr.Slider(
                0, 1, value=EDIT_STRENGTH, step=0.05, label="Strength (0 = the source; higher = bigger changes)"
            )
            seed, steps, run, cancel = _sampling_controls(handlers, "Edit", "edit", EDIT.steps)
        with gr.Column(scale=2):
            outputs = _clip_result_panel("edit", "source | edited", "edit-scores")
    inputs = [clip, view, clothing, carrying, strength, seed, steps]
    _wire(handlers, handlers.edit, inputs, outputs, run, cancel, "edit")


def _anonymize_tab(handlers: StudioHandlers, clip: gr.State):
    gr.Markdown(
        "The **same walk, view and clothing, by somebody else**: the identity is replaced by a novel one. "
        "The judge then tries to recognise the source person; a clip it still verifies as them **fails**."
    )
    with gr.Row():
        with gr.Column(scale=1):
            _source_line(handlers, clip, "anon-source")
            strength = gr.Slider(
                0.05, 1, value=ANONYMIZE_STRENGTH, step=0.05, label="Strength (identity removed vs. motion kept)"
            )
            seed, steps, run, cancel = _sampling_controls(handlers, "Anonymize", "anon", ANONYMIZE.steps)
        with gr.Column(scale=2):
            outputs = _clip_result_panel("anon", "source | anonymized", "anon-verdict")
    _wire(handlers, handlers.anonymize, [clip, strength, seed, steps], outputs, run, cancel, "anonymize")


def _evaluate_tab(handlers: StudioHandlers, last_synthesis: gr.State):
    gr.Markdown(
        "Judge a **generated, edited or anonymized** dataset against a **real** one (both in the OpenGait "
        "layout, folders on this server) — the same report as `studio evaluate`: identity kept (or leaked), "
        "naturalness, covariate fidelity, diversity; its tables and plots here, the HTML page to download."
    )
    with gr.Row():
        with gr.Column(scale=1):
            real = gr.Textbox(label="Real dataset folder (OpenGait layout, on the server)", elem_id="eval-real")
            source = gr.Radio(
                [LAST_SYNTHESIS, A_FOLDER], value=LAST_SYNTHESIS, label="Generated dataset", elem_id="eval-source"
            )
            generated = gr.Textbox(label="Generated dataset folder (for 'a folder')", elem_id="eval-generated")
            kind = gr.Radio(list(REPORT_KINDS), value=REPORT_KINDS[0], label="The clips are", elem_id="eval-kind")
            with gr.Row():
                run = gr.Button("Evaluate", variant="primary", elem_id="eval-run")
                cancel = gr.Button("Cancel", variant="stop", elem_id="eval-cancel")
        with gr.Column(scale=2):
            status = gr.Markdown(elem_id="eval-status")
            tables = gr.Markdown(elem_id="eval-tables")
            plots = gr.Gallery(label="Plots", columns=2, height=460, object_fit="contain", elem_id="eval-plots")
            report_files = gr.Files(
                label="The report: HTML (self-contained) and JSON", elem_id="eval-report", interactive=False
            )
    with gr.Accordion("The full report", open=False, elem_id="eval-full"):
        page = gr.HTML(elem_id="eval-page")
    with gr.Accordion("Headline (JSON)", open=False):
        details = gr.JSON(label="headline")
    outputs = [tables, plots, page, report_files, details, status]
    inputs = [real, source, generated, kind, last_synthesis]
    _wire(
        handlers, handlers.evaluate, inputs, outputs, run, cancel, "evaluate", 1
    )  # 1: reads and embeds whole datasets


def build_app(config: AppConfig | None = None) -> gr.Blocks:
    """The studio's `gr.Blocks` (not yet launched) for `config`."""
    config = config or AppConfig()
    handlers = StudioHandlers(config)
    # delete_cache: Gradio's own copies of uploads and outputs go after an hour.
    with gr.Blocks(title="Gait Studio", analytics_enabled=False, delete_cache=(1800, 3600)) as demo:
        gr.Markdown("# Gait Studio\nGenerate, edit and anonymize gait silhouette sequences.")
        clip = gr.State(None)  # the loaded clip(s), shared by the tabs of one browser session
        last_synthesis = gr.State(None)  # this session's last synthesized dataset folder, for Evaluate
        with gr.Tabs():
            with gr.Tab("Load", id="load"):
                _load_tab(handlers, clip, config.max_upload_mb)
            with gr.Tab("Synthesize", id="synthesize"):
                _synthesize_tab(handlers, last_synthesis)
            with gr.Tab("Edit", id="edit"):
                _edit_tab(handlers, clip)
            with gr.Tab("Anonymize", id="anonymize"):
                _anonymize_tab(handlers, clip)
            with gr.Tab("Evaluate", id="evaluate"):
                _evaluate_tab(handlers, last_synthesis)
        demo.unload(handlers.session_closed)  # a closed page's work stops at its next step
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
