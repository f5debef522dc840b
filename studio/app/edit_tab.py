"""The Edit tab: the loaded clip and new covariates → `GaitEditor.edit` → the same person, changed."""

from __future__ import annotations

import gradio as gr

from studio.app.clip_tab import ClipTab, sampling
from studio.app.markdown import describe, edit_markdown
from studio.app.work import Work

KEEP = "keep"  # the Edit tab's "leave this covariate as the source has it"


def _kept(value):
    """A page choice → the editor's argument: "keep" (or nothing) means None."""
    return None if value in (None, "", KEEP) else value


# Gradio passes this default to the callback as its progress bar (one per callback, as a default's would be)
PROGRESS = gr.Progress()


class EditTab(ClipTab):
    task, tool, doing, labels, failed = "edit", "Editor", "editing", ("source", "edited"), "edit failed"

    def edit(
        self, state, view, clothing, carrying, strength, seed, steps, progress=PROGRESS, request: gr.Request = None
    ):
        """The loaded clip with new covariates → side-by-side animation, scores (markdown, JSON),
        downloads (OpenGait zip, GIF, MP4), status. Cancel (or the page closed) stops it at the next step."""
        return self.run(request, self.edit_in, state, view, clothing, carrying, strength, seed, steps, progress)

    def edit_in(self, work: Work, state, view, clothing, carrying, strength, seed, steps, progress):
        """`edit` as the request `work`."""
        settings = sampling(strength, seed, steps)
        return self.made(
            work, state, progress, settings, view=_kept(view), clothing=_kept(clothing), carrying=_kept(carrying)
        )

    def result(self, editor, source, cancel, settings, **covariates):
        return editor.edit(source, **covariates, **settings, cancel=cancel)

    def expected(self, source, edited):
        return edited.extra.get("edit", {}).get("to")

    def present(self, edited, scores, settings):
        return edit_markdown(edited, scores), {"edited": describe(edited), "settings": settings, **scores}
