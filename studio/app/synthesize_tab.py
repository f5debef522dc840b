"""The Synthesize tab: counts, views, conditions → `studio.jobs.synthesize.synthesize_dataset` → previews and a zip."""

from __future__ import annotations

import logging

import gradio as gr

from gaitdata import GaitDataError
from studio.app.export import MAX_GALLERY, write_dataset_download
from studio.app.markdown import error_box, synthesis_markdown, user_message
from studio.app.models import StudioModels
from studio.app.work import (
    CANCELLED_NOTE,
    UNEXPECTED,
    RequestCancelled,
    StudioRequests,
    Work,
    removed_if_cancelled,
)
from studio.jobs.synthesize import GeneratorUnavailable, synthesize_dataset

logger = logging.getLogger(__name__)


# Gradio passes this default to the callback as its progress bar (one per callback, as a default's would be)
PROGRESS = gr.Progress()


class SynthesizeTab:
    """Outputs: preview gallery, dataset zip, status, and the dataset folder (the session's "last synthesis")."""

    def __init__(self, models: StudioModels, requests: StudioRequests):
        self.models = models
        self.requests = requests

    def synthesize(
        self,
        num_identities,
        views,
        conditions,
        seed,
        steps,
        candidates=1,
        steering=0.0,
        progress=PROGRESS,
        request: gr.Request = None,
    ):
        """Novel people × views × conditions → preview gallery, dataset zip, summary, and the dataset
        folder (kept in the session as "the last synthesis" for the Evaluate tab). `candidates`:
        best of that many per clip, chosen by the conditioner; `steering`: the conditioner
        guidance toward each person (`generators.identity_guidance`, 0 = off). Cancel (or the page closed) stops
        it after the identity being made; its files are deleted."""
        cancelled = ([], None, CANCELLED_NOTE, gr.skip())
        args = (num_identities, views, conditions, seed, steps, candidates, steering, progress)
        return self.requests.run(request, "synthesize", cancelled, self._synthesize, *args)

    def _synthesize(self, work: Work, num_identities, views, conditions, seed, steps, candidates, steering, progress):
        try:
            pipeline = self.models.pipeline()
        except GeneratorUnavailable as err:
            gr.Warning(str(err))
            return [], None, error_box("Generator not available", str(err)), gr.skip()
        except (GaitDataError, ValueError) as err:
            return [], None, error_box("Generator cannot be loaded", err), gr.skip()
        work.check()
        out = self.requests.folder()

        def report(done: int, total: int) -> None:
            work.check()  # between identities: what is cancelled stops here
            progress((done, total), desc="identities", unit="identities")

        try:
            with removed_if_cancelled(out):
                manifest = synthesize_dataset(
                    pipeline,
                    out / "dataset",
                    num_identities=int(num_identities),
                    views=list(views or []),
                    conditions=list(conditions or []),
                    seed=int(seed or 0),
                    steps=int(steps),
                    candidates=int(candidates or 1),
                    conditioner_guidance=float(steering or 0.0),
                    progress=report,
                    cancel=work.check,
                )
                work.check()
                gallery, download = write_dataset_download(out, manifest, work.check)
        except RequestCancelled:
            raise
        except (GaitDataError, ValueError) as err:
            gr.Warning(user_message(err))
            return [], None, error_box("Cannot synthesize", err), gr.skip()
        except Exception:
            logger.exception("synthesis failed")
            return [], None, error_box("Cannot synthesize", UNEXPECTED), gr.skip()
        return gallery, download, synthesis_markdown(manifest, MAX_GALLERY), str(out / "dataset")
