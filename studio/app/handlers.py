"""The app's callbacks: parse page inputs, call one library function, turn its result into outputs.

Errors the user can fix (`GaitDataError`, `ValueError`, missing weights) become a message in
the page, never a stack trace; anything else is logged on the server and reported as an
unexpected error, and the app keeps serving.
"""

from __future__ import annotations

import html
import logging
import shutil
import threading
import time
import uuid
from pathlib import Path

import gradio as gr

from gaitdata import GaitDataError, GaitSequence, read_sequence
from gaitdata.archive import write_folder_zip
from gaitdata.opengait import write_pkl_sequence
from gaitdata.preview import write_gif, write_video
from studio.app import AppConfig, prepare_environment
from studio.app.work import RequestCancelled, RunningWork, Work
from studio.jobs.load_clip import SAMPLES, ClipLimits, bundled_sample, load_clip, safe_label
from studio.jobs.synthesize import GeneratorUnavailable, load_synthesis_pipeline, synthesize_dataset

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
    return f"### ⚠ {title}\n\n{text}"  # DejaVu has ⚠; emoji fonts are not everywhere


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
    for key in ("track_id", "gaps", "occluded_frames", "partial_frames", "trimmed_from"):
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
    if "trimmed_from" in seq.extra:
        lines.append(
            f"Note: this walker was seen for {seq.extra['trimmed_from']} frames; the first {t} are kept "
            f"(the studio takes at most {t} frames per clip)."
        )
    if len(seqs) > 1:
        lines.append(f"Walker {index + 1} of {len(seqs)} found in this clip: pick another in the list.")
    return "\n\n".join(lines)


def track_label(i: int, seq: GaitSequence) -> str:
    return f"{i + 1}: {seq.subject} ({seq.num_frames} frames)"


KEEP = "keep"  # the Edit tab's "leave this covariate as the source has it"
LAST_SYNTHESIS, A_FOLDER = "the last synthesis", "a folder"  # the Evaluate tab's generated-dataset choices


def load_bundled_editor():
    """The bundled editor with its judge (`studio.jobs.edit_dataset.load_editor`)."""
    from studio.jobs.edit_dataset import load_editor

    return load_editor(with_judge=True)


def load_bundled_covariate_classifier():
    import recognizers

    return recognizers.load_covariate_classifier()


def load_bundled_judge():
    import recognizers

    return recognizers.load_judge()


def safe_name(text: str) -> str:
    """A short name fit for a download's file name (uploads may name their subject anything)."""
    return safe_label(text, max_length=40)


def _kept(value):
    """A page choice → the editor's argument: "keep" (or nothing) means None."""
    return None if value in (None, "", KEEP) else value


def _mark(match) -> str:
    return {True: "✓", False: "✗", None: ""}[match]  # plain symbols: emoji fonts are not everywhere


def identity_markdown(identity: dict, goal: str) -> str:
    """The judge's identity scores as a line for the page; `goal` is "keep" (edit) or "lose" (anonymize)."""
    text = f"judge cosine similarity to the source **{identity['cosine']:.3f}**"
    if "same_person" in identity:
        same = identity["same_person"]
        verdict = "verifies as the same person" if same else "does not verify as the same person"
        good = same if goal == "keep" else not same
        text += (
            f" · {identity['metric']} distance {identity['distance']:.3f} vs threshold {identity['threshold']:.3f}"
            f" (FAR {100 * identity['far']:g}%): {_mark(good)} {verdict}"
        )
    return text


def covariates_markdown(covariates: dict | None, unavailable: str | None) -> str:
    """The covariate classifier's verdict as a line for the page."""
    if covariates is None:
        return f"covariate classifier not available ({unavailable})" if unavailable else ""
    parts = []
    for head in ("view", "clothing", "carrying"):
        c = covariates[head]
        predicted = f"{c['predicted']:03d}°" if head == "view" else c["predicted"]
        asked = ""
        if c["expected"] is not None:
            asked = f", asked {c['expected']:03.0f}°" if head == "view" else f", asked {c['expected']}"
        parts.append(f"{head} **{predicted}** (confidence {100 * c['confidence']:.0f}%{asked}) {_mark(c['match'])}")
    return " · ".join(parts)


VERDICT_BOX = (
    '<div class="verdict verdict-{cls}" style="border-left:8px solid {colour};background:{background};'
    'padding:10px 16px;border-radius:4px;margin-bottom:8px">'
    '<h2 style="color:{colour};margin:0 0 6px 0">{title}</h2><p style="margin:0">{text}</p></div>'
)


METRIC_NAMES = {"euc": "Euclidean", "cos": "cosine"}


def leakage_markdown(result, identity: dict | None) -> str:
    """PASS / FAIL of an anonymization against the judge's verification threshold, stated loudly
    (a red or green box) with the distance that decides it, then one line on what decides."""
    distance = f"<b>{result.source_distance:.3f}</b>"
    threshold = f"<b>{result.threshold:.3f}</b>"
    if result.leaks:
        box = VERDICT_BOX.format(
            cls="fail",
            colour="#c62828",
            background="#fdecea",
            title="✗ FAIL — identity leaks",
            text=(
                f"Judge distance from the source {distance} ≤ threshold {threshold}: the judge still takes this "
                f"clip for the source person, after {result.attempts} attempt(s). "
                "<b>Do not share it as anonymous</b>: raise the strength or change the seed."
            ),
        )
    else:
        box = VERDICT_BOX.format(
            cls="pass",
            colour="#2e7d32",
            background="#e8f5e9",
            title="✓ PASS — not verified as the source",
            text=(
                f"Judge distance from the source {distance} &gt; threshold {threshold}: the judge takes this clip "
                f"for somebody else (attempts: {result.attempts})."
            ),
        )
    metric, far = "", ""
    if identity and "metric" in identity:
        metric = METRIC_NAMES.get(identity["metric"], identity["metric"]) + " "
        if identity.get("far"):
            rate = identity["far"]
            far = f" at FAR {100 * rate:g}% (1 pair of strangers in {1 / rate:.0f} passes as one person)"
    return box + (
        f"\n\n**What decides**: the judge's {metric}distance between the source and the result, against its "
        f"threshold{far}: at or below it, the same person (a leak); above it, somebody else."
    )


def session_of(request: gr.Request | None) -> str:
    """The browser session a request belongs to ("" when Gradio gives none, e.g. a direct call)."""
    return (getattr(request, "session_hash", None) or "") if request is not None else ""


def display_name(name: str, limit: int = 80) -> str:
    """An upload's name as the page shows it: long ones shortened in the middle."""
    return name if len(name) <= limit else f"{name[: limit - 20]}…{name[-16:]}"


CANCELLED_NOTE = "**Cancelled.** It stops at its next step and nothing of it is kept."
WITHDRAWN_NOTE = "**Cancelled.** The request was still waiting its turn in the queue; it is withdrawn."
NOTHING_RUNNING_NOTE = "Nothing is running to cancel: the results shown stay as they are."


class StudioHandlers:
    """Callbacks of one app instance; holds its config, the lazily loaded models and the work in flight."""

    def __init__(self, config: AppConfig):
        self.config = config
        self.work_dir = prepare_environment(config.work_dir)
        self.outputs = self.work_dir / "outputs"
        self.outputs.mkdir(parents=True, exist_ok=True)
        self._pipeline = None
        self._pipeline_lock = threading.Lock()
        self._editor = None
        self._editor_lock = threading.Lock()
        self._covariates = None
        self._covariates_lock = threading.Lock()
        self._judge = None
        self._judge_lock = threading.Lock()
        self._pruned_at = 0.0
        self._prune_lock = threading.Lock()
        self.work = RunningWork()  # what Cancel and a closed page stop
        self.clip_limits = ClipLimits(
            max_frames=config.max_clip_frames,
            max_frame_pixels=config.max_frame_pixels,
            max_pixels=config.max_clip_pixels,
        )

    # ---- helpers --------------------------------------------------------------------------
    def _request_dir(self) -> Path:
        """A fresh folder per request: concurrent users never overwrite each other's files."""
        self._prune_outputs()
        path = self.outputs / uuid.uuid4().hex
        path.mkdir(parents=True)
        return path

    def _prune_outputs(self) -> None:
        """Delete request folders older than `config.keep_outputs_hours` (checked at most every 10 minutes),
        so that a long-running app does not fill the disk with previews and downloads."""
        now = time.time()
        with self._prune_lock:
            if now - self._pruned_at < 600:
                return
            self._pruned_at = now
        cutoff = now - self.config.keep_outputs_hours * 3600
        for folder in self.outputs.iterdir():
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:  # gone already (another request pruned it)
                continue

    def _preview(self, seq: GaitSequence) -> str:
        return str(write_gif(self._request_dir() / "preview.gif", seq))  # a fixed name: never the upload's

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

    def load_upload(self, file_path: str | None, progress=gr.Progress(), request: gr.Request = None):  # noqa: B008 (Gradio injects the tracker)
        """Load an uploaded file (video, zip of frames, .pkl, .npz) through `load_clip`, within the
        app's limits (bytes, frames, decoded pixels); a closed page stops a video's decoding."""
        if not file_path:
            return self._failed("Nothing to load", "choose a file first")
        upload_name = Path(file_path).name
        name = display_name(upload_name)
        try:
            with self.work.running(session_of(request), "load") as work:

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
            return self._failed(f"Could not load {name}", "unexpected error (details in the server log)")

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

    def synthesize(
        self,
        num_identities,
        views,
        conditions,
        seed,
        steps,
        progress=gr.Progress(),  # noqa: B008 (Gradio injects the tracker)
        request: gr.Request = None,
    ):
        """Novel people × views × conditions → preview gallery, dataset zip, summary, and the dataset
        folder (kept in the session as "the last synthesis" for the Evaluate tab). Cancel (or the
        page closed) stops it after the identity being made; its files are deleted."""
        try:
            with self.work.running(session_of(request), "synthesize") as work:
                return self._synthesize(work, num_identities, views, conditions, seed, steps, progress)
        except RequestCancelled:
            return [], None, CANCELLED_NOTE, gr.skip()

    def _synthesize(self, work: Work, num_identities, views, conditions, seed, steps, progress):
        try:
            pipeline = self.pipeline()
        except GeneratorUnavailable as err:
            gr.Warning(str(err))
            return [], None, error_box("Generator not available", str(err)), gr.skip()
        except (GaitDataError, ValueError) as err:
            return [], None, error_box("Generator cannot be loaded", err), gr.skip()
        work.check()
        out = self._request_dir()

        def report(done: int, total: int) -> None:
            work.check()  # between identities: what is cancelled stops here
            progress((done, total), desc="identities", unit="identities")

        try:
            manifest = synthesize_dataset(
                pipeline,
                out / "dataset",
                num_identities=int(num_identities),
                views=list(views or []),
                conditions=list(conditions or []),
                seed=int(seed or 0),
                steps=int(steps),
                progress=report,
                cancel=work.check,
            )
            work.check()
            return self._synthesis_outputs(out, manifest, work)
        except RequestCancelled:
            shutil.rmtree(out, ignore_errors=True)  # a cancelled request leaves no files
            raise
        except (GaitDataError, ValueError) as err:
            gr.Warning(user_message(err))
            return [], None, error_box("Cannot synthesize", err), gr.skip()
        except Exception:
            logger.exception("synthesis failed")
            return [], None, error_box("Cannot synthesize", "unexpected error (details in the server log)"), gr.skip()

    def _synthesis_outputs(self, out: Path, manifest: dict, work: Work):
        download = write_folder_zip(out / "dataset", out / "synthetic_gait_dataset.zip")
        gallery = []
        for i, entry in enumerate(manifest["sequences"][:MAX_GALLERY]):
            work.check()
            seq = read_sequence(out / "dataset" / entry["path"])
            caption = f"{entry['subject']} {entry['condition']} {entry['view']}"
            gallery.append((str(write_gif(out / "previews" / f"{i:03d}_{safe_name(caption)}.gif", seq)), caption))
        n = len(manifest["sequences"])
        sources = sorted({i["source"] for i in manifest["identities"]})
        text = (
            f"**{n} clips** of {manifest['settings']['num_identities']} novel identities "
            f"({', '.join(sources)} identity embeddings) in {manifest['seconds']:.1f} s. "
            f"The zip holds the OpenGait layout, `partition.json` and `manifest.json`."
        )
        if n > MAX_GALLERY:
            text += f" Showing the first {MAX_GALLERY} previews."
        return gallery, str(download), text, str(out / "dataset")

    def submitted(self, tab: str):
        """The callback run when a tab's button is pressed, before its request joins the queue:
        records it, so that Cancel knows something of this tab is waiting or running."""

        def submit(request: gr.Request):
            self.work.submit(session_of(request), tab)

        return submit

    def cancel(self, tab: str, outputs: int):
        """The callback of `tab`'s Cancel button (the tab has `outputs` outputs, the status last).

        Something waiting or running: it is told to stop at its next step, the results are
        cleared and the status says so. Nothing: the results stay and the status says that
        nothing was running.
        """

        def cancel(request: gr.Request):
            works = self.work.cancel(session_of(request), tab)
            if not works:
                return *[gr.skip()] * (outputs - 1), NOTHING_RUNNING_NOTE
            note = CANCELLED_NOTE if any(w.started for w in works) else WITHDRAWN_NOTE
            return *[None] * (outputs - 1), note

        return cancel

    def session_closed(self, request: gr.Request):
        """The page was closed (or reloaded, or its browser went away): stop its work at the next step."""
        count = self.work.cancel_session(session_of(request))
        if count:
            logger.info("a page closed with %d request(s) in flight: cancelled", count)

    # ---- Edit and Anonymize tabs ------------------------------------------------------------
    def editor(self):
        """The editor (generator + identity bank + judge + calibration), loaded once on first use.

        A failed load is not remembered: weights installed later are found on the next request.
        """
        with self._editor_lock:
            if self._editor is None:
                self._editor = (self.config.load_editor or load_bundled_editor)()
            return self._editor

    def covariate_classifier(self):
        """(the covariate classifier, None) once loaded; (None, why not) when it cannot be."""
        with self._covariates_lock:
            if self._covariates is None:
                try:
                    self._covariates = (self.config.load_covariate_classifier or load_bundled_covariate_classifier)()
                except (FileNotFoundError, ImportError) as err:
                    return None, f"not installed: {err}"
            return self._covariates, None

    def _source(self, state) -> GaitSequence:
        if not state or not state.get("sequences"):
            raise ValueError("no clip loaded: load one in the Load tab first (a bundled sample will do)")
        seq = state["sequences"][state["index"]]
        cap = self.config.max_clip_frames
        if cap is not None and seq.num_frames > cap:  # a request's time grows with its frames
            raise ValueError(
                f"the loaded clip has {seq.num_frames} frames, more than the {cap} one request may take: "
                "load a shorter clip"
            )
        return seq

    def _scores(self, editor, source: GaitSequence, result: GaitSequence, expected) -> dict:
        """Judge similarity and covariate verdict of `result` vs `source`, as the batch jobs score
        theirs (`evaluation.clip_scores.ClipScorer`)."""
        from evaluation.clip_scores import ClipScorer

        classifier, unavailable = self.covariate_classifier() if editor.judge is not None else (None, None)
        return ClipScorer(editor.judge, editor.calibration, classifier, unavailable).one(source, result, expected)

    def _export(self, source: GaitSequence, result: GaitSequence, labels: tuple[str, str], work: Work):
        """Side-by-side GIF (shown and offered), MP4, and the result's pkl in the OpenGait layout (zipped).

        Every name is derived and bounded (`safe_name`), never an upload's text as it came; a
        request cancelled between the files leaves none.
        """
        out = self._request_dir()
        named = result.with_frames(
            result.frames, **{k: safe_name(v) for k, v in zip(("subject", "condition", "view"), result.key)}
        )
        stem = "_".join(named.key)
        pair = [source, result]
        try:
            gif = write_gif(out / f"{stem}_side_by_side.gif", pair, labels=labels)
            work.check()
            mp4 = write_video(out / f"{stem}_side_by_side.mp4", pair, labels=labels)
            work.check()
            write_pkl_sequence(out / "opengait", named)
            archive = write_folder_zip(out / "opengait", out / f"{stem}_opengait.zip")
            work.check()
        except RequestCancelled:
            shutil.rmtree(out, ignore_errors=True)
            raise
        return str(gif), [str(archive), str(gif), str(mp4)]

    def _task_failed(self, title: str, err: Exception | str):
        """Outputs of a failed edit / anonymization: results cleared, the status explains."""
        message = err if isinstance(err, str) else user_message(err)
        gr.Warning(f"{title}: {message}")
        return None, "", None, None, error_box(title, message)

    def _load_editor(self, progress):
        progress(0.02, desc="loading the editor (first use only)")
        return self.editor()

    def edit(
        self,
        state,
        view,
        clothing,
        carrying,
        strength,
        seed,
        steps,
        progress=gr.Progress(),  # noqa: B008 (Gradio injects the tracker)
        request: gr.Request = None,
    ):
        """The loaded clip with new covariates → side-by-side animation, scores (markdown, JSON),
        downloads (OpenGait zip, GIF, MP4), status. Cancel (or the page closed) stops it at the next step."""
        try:
            with self.work.running(session_of(request), "edit") as work:
                return self._edit(work, state, view, clothing, carrying, strength, seed, steps, progress)
        except RequestCancelled:
            return None, "", None, None, CANCELLED_NOTE

    def _edit(self, work: Work, state, view, clothing, carrying, strength, seed, steps, progress):
        try:
            source = self._source(state)
            editor = self._load_editor(progress)
        except ValueError as err:
            return self._task_failed("Cannot edit", err)
        except (FileNotFoundError, ImportError) as err:
            return self._task_failed("Editor not available", str(err))
        except Exception:
            logger.exception("loading the editor failed")
            return self._task_failed("Editor not available", "unexpected error (details in the server log)")
        try:
            work.check()
            progress(0.1, desc="editing")
            edited = editor.edit(
                source,
                view=_kept(view),
                clothing=_kept(clothing),
                carrying=_kept(carrying),
                strength=float(strength),
                steps=int(steps),
                seed=int(seed or 0),
                cancel=work.check,
            )
            work.check()
            progress(0.7, desc="scoring with the judge")
            scores = self._scores(editor, source, edited, edited.extra.get("edit", {}).get("to"))
            work.check()
            progress(0.85, desc="writing the animation and downloads")
            animation, files = self._export(source, edited, ("source", "edited"), work)
        except RequestCancelled:
            raise
        except (GaitDataError, ValueError) as err:
            return self._task_failed("Cannot edit", err)
        except Exception:
            logger.exception("edit failed")
            return self._task_failed("Cannot edit", "unexpected error (details in the server log)")
        lines = [
            f"### Edited: {edited.subject} · `{edited.condition}` · view `{edited.view}` · {edited.num_frames} frames"
        ]
        if scores["identity"] is not None:
            lines.append(f"**Identity** (should be kept): {identity_markdown(scores['identity'], goal='keep')}")
        lines.append(
            "**Covariates** (classifier on the edited clip): "
            + covariates_markdown(scores["covariates"], scores["covariates_unavailable"])
        )
        details = {
            "edited": describe(edited),
            "settings": {"strength": float(strength), "seed": int(seed or 0), "steps": int(steps)},
            **scores,
        }
        return animation, "\n\n".join(lines), details, files, ""

    def anonymize(self, state, strength, seed, steps, progress=gr.Progress(), request: gr.Request = None):  # noqa: B008 (Gradio injects the tracker)
        """The loaded clip by somebody else → side-by-side animation, PASS/FAIL leakage verdict,
        scores JSON, downloads (OpenGait zip, GIF, MP4), status. Cancel (or the page closed) stops
        it at the next step."""
        try:
            with self.work.running(session_of(request), "anonymize") as work:
                return self._anonymize(work, state, strength, seed, steps, progress)
        except RequestCancelled:
            return None, "", None, None, CANCELLED_NOTE

    def _anonymize(self, work: Work, state, strength, seed, steps, progress):
        try:
            source = self._source(state)
            editor = self._load_editor(progress)
        except ValueError as err:
            return self._task_failed("Cannot anonymize", err)
        except (FileNotFoundError, ImportError) as err:
            return self._task_failed("Anonymizer not available", str(err))
        except Exception:
            logger.exception("loading the editor failed")
            return self._task_failed("Anonymizer not available", "unexpected error (details in the server log)")
        try:
            work.check()
            progress(0.1, desc="anonymizing (retries while the judge still recognises the person)")
            from studio.jobs.anonymization import anonymize_until_unverified

            (result,) = anonymize_until_unverified(
                editor,
                editor.judge,
                editor.calibration,
                [source],
                [int(seed or 0)],
                strength=float(strength),
                steps=int(steps),
                cancel=work.check,
            )
            work.check()
            progress(0.7, desc="scoring with the judge")
            from generators.editor import source_covariates  # torch loads with the first task, not at start

            scores = self._scores(editor, source, result.sequence, source_covariates(source))
            work.check()
            progress(0.85, desc="writing the animation and downloads")
            animation, files = self._export(source, result.sequence, ("source", "anonymized"), work)
        except RequestCancelled:
            raise
        except (GaitDataError, ValueError) as err:
            return self._task_failed("Cannot anonymize", err)
        except Exception:
            logger.exception("anonymization failed")
            return self._task_failed("Cannot anonymize", "unexpected error (details in the server log)")
        verdict = leakage_markdown(result, scores["identity"])
        verdict += "\n\n**Covariates kept?** " + covariates_markdown(
            scores["covariates"], scores["covariates_unavailable"]
        )
        if result.leaks:
            gr.Warning("Identity leaks: the judge still recognises the source person in this clip.")
        details = {
            "verdict": "FAIL: identity leaks" if result.leaks else "PASS",
            "leaks": result.leaks,
            "judge_distance": result.source_distance,
            "threshold": result.threshold,
            "attempts": result.attempts,
            "anonymized": describe(result.sequence),
            "settings": {"strength": float(strength), "seed": int(seed or 0), "steps": int(steps)},
            **scores,
        }
        return animation, verdict, details, files, ""

    def source_markdown(self, state) -> str:
        """The line above the Edit and Anonymize controls: which clip they work on."""
        if not state or not state.get("sequences"):
            return "**Source:** no clip loaded yet: load one in the **Load** tab (a bundled sample will do)."
        seq = state["sequences"][state["index"]]
        return (
            f"**Source:** {seq.subject} · `{seq.condition}` · view `{seq.view}` · {seq.num_frames} frames "
            "(from the Load tab)"
        )

    # ---- Evaluate tab ---------------------------------------------------------------------------
    def judge(self):
        """The judge for fidelity reports, loaded once on first use (the editor's when it is loaded)."""
        with self._judge_lock:
            if self._judge is None:
                editor = self._editor
                if editor is not None and editor.judge is not None:
                    self._judge = editor.judge
                else:
                    self._judge = (self.config.load_judge or load_bundled_judge)()
            return self._judge

    def _folder(self, text: str | None, role: str) -> Path:
        if not text or not str(text).strip():
            raise ValueError(f"type the {role} folder's path on the server")
        path = Path(str(text).strip()).expanduser()
        if not path.is_dir():
            raise ValueError(f"{role} folder {path} does not exist on the server (or is not a folder)")
        return path

    def evaluate(
        self,
        real_folder,
        generated_from,
        generated_folder,
        kind,
        last_synthesis,
        progress=gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio injects it; it follows the report's tqdm bars)
        request: gr.Request = None,
    ):
        """Fidelity report of a generated folder against a real one (`evaluate_folders`, as `studio
        evaluate`) → headline table (markdown), plots, the full report inline, the report files
        (HTML, JSON), the headline as JSON, status. Cancel (or the page closed) stops it before
        the next stage (loading, the report, the plots); its files are deleted."""
        try:
            with self.work.running(session_of(request), "evaluate") as work:
                return self._evaluate(
                    work, real_folder, generated_from, generated_folder, kind, last_synthesis, progress
                )
        except RequestCancelled:
            return "", [], "", None, None, CANCELLED_NOTE

    def _evaluate(self, work: Work, real_folder, generated_from, generated_folder, kind, last_synthesis, progress):
        failed = ("", [], "", None, None)
        try:
            real = self._folder(real_folder, "real dataset")
            if generated_from == LAST_SYNTHESIS:
                if not last_synthesis:
                    raise ValueError(
                        "nothing synthesized in this session yet: run the Synthesize tab, or pick a folder"
                    )
                generated = Path(last_synthesis)
            else:
                generated = self._folder(generated_folder, "generated dataset")
            progress(0.01, desc="loading the judge (first use only)")
            judge = self.judge()
            classifier, unavailable = self.covariate_classifier()
        except ValueError as err:
            return *failed, error_box("Cannot evaluate", err)
        except (FileNotFoundError, ImportError) as err:
            return *failed, error_box("Judge not available", str(err))
        except Exception:
            logger.exception("loading the judge failed")
            return *failed, error_box("Judge not available", "unexpected error (details in the server log)")
        from evaluation import plots
        from evaluation.fidelity_report import format_value, headline
        from studio.jobs.evaluate_report import evaluate_folders

        work.check()
        out = self._request_dir()
        try:
            report, json_path, html_path = evaluate_folders(
                real, generated, out / "report", kind=kind, judge=judge, covariate_classifier=classifier
            )
            work.check()
        except RequestCancelled:
            shutil.rmtree(out, ignore_errors=True)
            raise
        except (GaitDataError, ValueError) as err:
            return *failed, error_box("Cannot evaluate", err)
        except Exception:
            logger.exception("evaluation of %s against %s failed", generated, real)
            return *failed, error_box("Cannot evaluate", "unexpected error (details in the server log)")
        progress(0.98, desc="drawing the plots")
        figures = [
            (plots.rank1_per_view(report["identity"], kind), "identity: judge rank-1 per view"),
            (plots.distance_histograms(report["histograms"]), "judge distances, same person vs others"),
            (plots.frechet_bars(report["naturalness"]["frechet"], kind), "naturalness: Fréchet distance"),
            (plots.covariate_bars(report["covariates"], kind), "covariate fidelity"),
        ]
        gallery = []
        for i, (png, caption) in enumerate(figures):
            if png is not None:
                path = out / "plots" / f"{i}.png"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(png)
                gallery.append((str(path), caption))
        data = report["data"]
        rows = headline(report)
        table = "\n".join(f"| {r['label']} | {format_value(r['value'], r['unit'])} |" for r in rows)
        tables = (
            f"### {data['generated']['clips']} {kind} clips against {data['real']['clips']} real clips "
            f"({data['real']['subjects']} subjects)\n\n| measure | value |\n|---|---|\n{table}"
        )
        skipped = data["generated"]["skipped"] + data["real"]["skipped"]
        if skipped:
            tables += f"\n\n{skipped} unreadable clip(s) skipped (listed in the report)."
        if unavailable:
            tables += f"\n\nCovariate classifier {unavailable}: its section is left out."
        page = Path(html_path).read_text()
        inline = (
            f'<iframe title="fidelity report" srcdoc="{html.escape(page, quote=True)}" '
            'style="width:100%;height:720px;border:1px solid #ccc;background:white"></iframe>'
        )
        # the page gets the headline, not the whole dict: its clip paths are the server's business
        summary = {
            "kind": report["kind"],
            "headline": [{"measure": r["label"], "value": r["value"], "unit": r["unit"]} for r in rows],
            "data": {
                side: {k: v for k, v in data[side].items() if k not in ("root", "skipped_examples")}
                for side in ("real", "generated")
            },
        }
        return tables, gallery, inline, [str(html_path), str(json_path)], summary, ""


SAMPLE_NAMES = list(SAMPLES)
