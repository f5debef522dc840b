"""The Anonymize tab: the loaded clip → `studio.jobs.anonymization.anonymize_until_unverified` →
the same walk by somebody else, with the judge's PASS / FAIL."""

from __future__ import annotations

import gradio as gr

from studio.app.clip_tab import ClipTab, sampling
from studio.app.markdown import covariates_markdown, describe, leakage_markdown

# Gradio passes this default to the callback as its progress bar (one per callback, as a default's would be)
PROGRESS = gr.Progress()


class AnonymizeTab(ClipTab):
    task, tool, labels, failed = "anonymize", "Anonymizer", ("source", "anonymized"), "anonymization failed"
    doing = "anonymizing (retries while the judge still recognises the person)"

    def anonymize(self, state, strength, seed, steps, progress=PROGRESS, request: gr.Request = None):
        """The loaded clip by somebody else → side-by-side animation, PASS/FAIL leakage verdict,
        scores JSON, downloads (OpenGait zip, GIF, MP4), status. Cancel (or the page closed) stops
        it at the next step."""
        return self.run(request, self.made, state, progress, sampling(strength, seed, steps))

    def result(self, editor, source, cancel, settings):
        from studio.jobs.anonymization import anonymize_until_unverified

        (result,) = anonymize_until_unverified(
            editor,
            editor.judge,
            editor.calibration,
            [source],
            [settings["seed"]],
            strength=settings["strength"],
            steps=settings["steps"],
            cancel=cancel,
        )
        return result

    def clip_of(self, result):
        return result.sequence

    def expected(self, source, result):
        from generators.editor import source_covariates  # torch loads with the first task, not at start

        return source_covariates(source)

    def present(self, result, scores, settings):
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
            "settings": settings,
            **scores,
        }
        return verdict, details
