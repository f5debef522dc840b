"""The page's callbacks: one app's models and requests, and a presenter per tab over them.

Each tab's presenter (`load_tab`, `synthesize_tab`, `edit_tab`, `anonymize_tab`, `evaluate_tab`)
turns page inputs into one library call and its result into page outputs; `models` loads the
models once, `work` keeps the requests' bookkeeping (Cancel, closed pages, their folders),
`markdown` writes the page's text and `export` its downloads. `StudioHandlers` puts them
together for `studio_app` (and the tests) under one name.

Errors the user can fix (`GaitDataError`, `ValueError`, missing weights) become a message in
the page, never a stack trace; anything else is logged on the server and reported as an
unexpected error, and the app keeps serving.
"""

from __future__ import annotations

from studio.app import AppConfig, prepare_environment
from studio.app.anonymize_tab import AnonymizeTab
from studio.app.edit_tab import KEEP, EditTab
from studio.app.evaluate_tab import A_FOLDER, LAST_SYNTHESIS, EvaluateTab
from studio.app.export import MAX_GALLERY, safe_name
from studio.app.load_tab import LoadTab
from studio.app.markdown import (
    covariates_markdown,
    describe,
    display_name,
    error_box,
    identity_markdown,
    leakage_markdown,
    source_markdown,
    summary_markdown,
    track_label,
    user_message,
)
from studio.app.models import StudioModels
from studio.app.synthesize_tab import SynthesizeTab
from studio.app.work import (
    CANCELLED_NOTE,
    NOTHING_RUNNING_NOTE,
    WITHDRAWN_NOTE,
    StudioRequests,
    session_of,
)
from studio.jobs.load_clip import SAMPLES

SAMPLE_NAMES = list(SAMPLES)


class StudioHandlers:
    """Callbacks of one app instance: its config, models (`models`), requests (`requests`, `work`)
    and one presenter per tab; each callback is its presenter's."""

    def __init__(self, config: AppConfig):
        self.config = config
        self.work_dir = prepare_environment(config.work_dir)
        self.models = StudioModels(config)
        self.requests = StudioRequests(config, self.work_dir / "outputs")
        self.outputs, self.work = self.requests.outputs, self.requests.work
        self.submitted, self.cancel, self.session_closed = (
            self.requests.submitted,
            self.requests.cancel,
            self.requests.session_closed,
        )
        self.editor, self.judge = self.models.editor, self.models.judge
        self.covariate_classifier, self.pipeline = self.models.covariate_classifier, self.models.pipeline

        self.load_tab = LoadTab(self.requests)
        self.clip_limits = self.load_tab.clip_limits
        self.load_sample, self.load_upload = self.load_tab.load_sample, self.load_tab.load_upload
        self.pick_track = self.load_tab.pick_track
        self.synthesize = SynthesizeTab(self.models, self.requests).synthesize
        self.edit_tab = EditTab(self.models, self.requests)
        self.edit = self.edit_tab.edit
        self.anonymize = AnonymizeTab(self.models, self.requests).anonymize
        self.evaluate = EvaluateTab(self.models, self.requests).evaluate
        # the parts the tests reach for
        self._request_dir, self._source, self._edit = self.requests.folder, self.edit_tab.source, self.edit_tab.edit_in

    source_markdown = staticmethod(source_markdown)  # the Edit and Anonymize tabs' "Source:" line


__all__ = [
    "A_FOLDER",
    "CANCELLED_NOTE",
    "KEEP",
    "LAST_SYNTHESIS",
    "MAX_GALLERY",
    "NOTHING_RUNNING_NOTE",
    "SAMPLE_NAMES",
    "WITHDRAWN_NOTE",
    "StudioHandlers",
    "covariates_markdown",
    "describe",
    "display_name",
    "error_box",
    "identity_markdown",
    "leakage_markdown",
    "safe_name",
    "session_of",
    "summary_markdown",
    "track_label",
    "user_message",
]
