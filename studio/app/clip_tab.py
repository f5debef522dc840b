"""What the Edit and Anonymize tabs share: the loaded clip → one editor call → scores and downloads.

Outputs of both: side-by-side animation, verdict (markdown), scores (JSON), downloads (OpenGait
zip, GIF, MP4), status. Cancel (or the page closed) stops the call at its next step, keeping no files.
"""

from __future__ import annotations

import logging

import gradio as gr

from gaitdata import GaitDataError, GaitSequence
from studio.app.export import write_side_by_side
from studio.app.markdown import error_box, user_message
from studio.app.models import StudioModels
from studio.app.work import CANCELLED_NOTE, UNEXPECTED, RequestCancelled, StudioRequests, Work

logger = logging.getLogger(__name__)


class ClipTab:
    """A tab that turns the loaded clip into another; a subclass names its `task` and makes its `result`."""

    task: str  # the tab's api_name, and its verb on the page ("Cannot edit")
    tool: str  # what the page says is not available when the editor cannot be loaded ("Editor")
    doing: str  # the progress bar's text while the editor runs
    labels: tuple[str, str]  # the side-by-side animation's captions
    failed: str  # the server log's line when the call fails unexpectedly

    def __init__(self, models: StudioModels, requests: StudioRequests):
        self.models = models
        self.requests = requests
        self.config = requests.config

    def run(self, request: gr.Request | None, body, *inputs) -> tuple:
        """`body(work, *inputs)` as this tab's request; a cancelled one clears the results."""
        return self.requests.run(request, self.task, (None, "", None, None, CANCELLED_NOTE), body, *inputs)

    def source(self, state) -> GaitSequence:
        """The clip the Load tab holds, within the frames one request may take."""
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

    def _failed(self, title: str, err: Exception | str):
        """Outputs of a failed request: results cleared, the status explains."""
        message = err if isinstance(err, str) else user_message(err)
        gr.Warning(f"{title}: {message}")
        return None, "", None, None, error_box(title, message)

    def result(self, editor, source: GaitSequence, cancel, settings: dict, **options):
        """The ONE library call: `source` made anew with `settings` (strength, seed, steps) and the
        tab's own `options`; `cancel` is asked between steps."""
        raise NotImplementedError

    def clip_of(self, result) -> GaitSequence:
        return result

    def expected(self, source: GaitSequence, result) -> dict | None:
        """The covariates the result should show (None: not asked)."""
        raise NotImplementedError

    def present(self, result, scores: dict, settings: dict) -> tuple[str, dict]:
        """(the verdict's markdown, the scores JSON)."""
        raise NotImplementedError

    def scores(self, editor, source: GaitSequence, result: GaitSequence, expected) -> dict:
        """Judge similarity and covariate verdict of `result` vs `source`, as the batch jobs score
        theirs (`evaluation.clip_scores.ClipScorer`)."""
        from evaluation.clip_scores import ClipScorer

        classifier, unavailable = self.models.covariate_classifier() if editor.judge is not None else (None, None)
        return ClipScorer(editor.judge, editor.calibration, classifier, unavailable).one(source, result, expected)

    def made(self, work: Work, state, progress, settings: dict, **options):
        """The page's outputs for `settings` and `options` applied to the loaded clip."""
        verb = self.task
        try:
            source = self.source(state)
            progress(0.02, desc="loading the editor (first use only)")
            editor = self.models.editor()
        except ValueError as err:
            return self._failed(f"Cannot {verb}", err)
        except (FileNotFoundError, ImportError) as err:
            return self._failed(f"{self.tool} not available", str(err))
        except Exception:
            logger.exception("loading the editor failed")
            return self._failed(f"{self.tool} not available", UNEXPECTED)
        try:
            work.check()
            progress(0.1, desc=self.doing)
            result = self.result(editor, source, work.check, settings, **options)
            work.check()
            progress(0.7, desc="scoring with the judge")
            clip = self.clip_of(result)
            scores = self.scores(editor, source, clip, self.expected(source, result))
            work.check()
            progress(0.85, desc="writing the animation and downloads")
            animation, files = write_side_by_side(self.requests.folder(), source, clip, self.labels, work.check)
        except RequestCancelled:
            raise
        except (GaitDataError, ValueError) as err:
            return self._failed(f"Cannot {verb}", err)
        except Exception:
            logger.exception(self.failed)
            return self._failed(f"Cannot {verb}", UNEXPECTED)
        verdict, details = self.present(result, scores, settings)
        return animation, verdict, details, files, ""


def sampling(strength, seed, steps) -> dict:
    """The page's strength, seed and sampler steps as the editor takes them."""
    return {"strength": float(strength), "seed": int(seed or 0), "steps": int(steps)}
