"""The Evaluate tab: a real and a generated folder → `studio.jobs.evaluate_report.evaluate_folders`
(as `studio evaluate`) → the headline table, plots, the report inline and its files."""

from __future__ import annotations

import logging
from pathlib import Path

import gradio as gr

from gaitdata import GaitDataError
from studio.app.export import write_plots
from studio.app.markdown import error_box, report_frame, report_markdown
from studio.app.models import StudioModels
from studio.app.work import CANCELLED_NOTE, UNEXPECTED, RequestCancelled, StudioRequests, Work, removed_if_cancelled

logger = logging.getLogger(__name__)

LAST_SYNTHESIS, A_FOLDER = "the last synthesis", "a folder"  # the Evaluate tab's generated-dataset choices
FAILED = ("", [], "", None, None)  # every output but the status, cleared


def server_folder(text: str | None, role: str) -> Path:
    """A folder typed on the page: it must exist on the server."""
    if not text or not str(text).strip():
        raise ValueError(f"type the {role} folder's path on the server")
    path = Path(str(text).strip()).expanduser()
    if not path.is_dir():
        raise ValueError(f"{role} folder {path} does not exist on the server (or is not a folder)")
    return path


def page_summary(report: dict, rows: list[dict]) -> dict:
    """The headline as JSON for the page; not the whole report: its clip paths are the server's business."""
    data = report["data"]
    return {
        "kind": report["kind"],
        "headline": [{"measure": r["label"], "value": r["value"], "unit": r["unit"]} for r in rows],
        "data": {
            side: {k: v for k, v in data[side].items() if k not in ("root", "skipped_examples")}
            for side in ("real", "generated")
        },
    }


# Gradio passes this default to the callback as its progress bar (one per callback, as a default's would be)
PROGRESS = gr.Progress(track_tqdm=True)  # it follows the report's tqdm bars


class EvaluateTab:
    """Outputs: headline table (markdown), plots, the full report inline, its files (HTML, JSON),
    the headline JSON, status."""

    def __init__(self, models: StudioModels, requests: StudioRequests):
        self.models = models
        self.requests = requests

    def evaluate(
        self,
        real_folder,
        generated_from,
        generated_folder,
        kind,
        last_synthesis,
        progress=PROGRESS,
        request: gr.Request = None,
    ):
        """Fidelity report of a generated folder against a real one (`evaluate_folders`, as `studio
        evaluate`) → headline table (markdown), plots, the full report inline, the report files
        (HTML, JSON), the headline as JSON, status. Cancel (or the page closed) stops it before
        the next stage (loading, the report, the plots); its files are deleted."""
        inputs = (real_folder, generated_from, generated_folder, kind, last_synthesis, progress)
        return self.requests.run(request, "evaluate", (*FAILED, CANCELLED_NOTE), self._evaluate, *inputs)

    def _evaluate(self, work: Work, real_folder, generated_from, generated_folder, kind, last_synthesis, progress):
        try:
            real = server_folder(real_folder, "real dataset")
            if generated_from == LAST_SYNTHESIS:
                if not last_synthesis:
                    raise ValueError(
                        "nothing synthesized in this session yet: run the Synthesize tab, or pick a folder"
                    )
                generated = Path(last_synthesis)
            else:
                generated = server_folder(generated_folder, "generated dataset")
            progress(0.01, desc="loading the judge (first use only)")
            judge = self.models.judge()
            classifier, unavailable = self.models.covariate_classifier()
        except ValueError as err:
            return *FAILED, error_box("Cannot evaluate", err)
        except (FileNotFoundError, ImportError) as err:
            return *FAILED, error_box("Judge not available", str(err))
        except Exception:
            logger.exception("loading the judge failed")
            return *FAILED, error_box("Judge not available", UNEXPECTED)
        from evaluation import plots
        from evaluation.fidelity_report import headline
        from studio.jobs.evaluate_report import evaluate_folders

        work.check()
        out = self.requests.folder()
        try:
            with removed_if_cancelled(out):
                report, json_path, html_path = evaluate_folders(
                    real, generated, out / "report", kind=kind, judge=judge, covariate_classifier=classifier
                )
                work.check()
        except RequestCancelled:
            raise
        except (GaitDataError, ValueError) as err:
            return *FAILED, error_box("Cannot evaluate", err)
        except Exception:
            logger.exception("evaluation of %s against %s failed", generated, real)
            return *FAILED, error_box("Cannot evaluate", UNEXPECTED)
        progress(0.98, desc="drawing the plots")
        gallery = write_plots(
            out,
            [
                (plots.rank1_per_view(report["identity"], kind), "identity: judge rank-1 per view"),
                (plots.distance_histograms(report["histograms"]), "judge distances, same person vs others"),
                (plots.frechet_bars(report["naturalness"]["frechet"], kind), "naturalness: Fréchet distance"),
                (plots.covariate_bars(report["covariates"], kind), "covariate fidelity"),
            ],
        )
        rows = headline(report)
        tables = report_markdown(report, kind, rows, unavailable)
        files = [str(html_path), str(json_path)]
        return tables, gallery, report_frame(html_path), files, page_summary(report, rows), ""
