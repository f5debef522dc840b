"""The main job on the embedded default: what a newcomer runs first (`studio demo`).

Renders a small CASIA-B-like walker dataset and writes previews of it; has the bundled
generator walk one of its people again in a coat, from the front and with a bag; then, for every
walker: generates coat clips from one reference clip, edits real clips into a coat, anonymizes
real clips, and ends with the judge's fidelity report (JSON + HTML) of each of the three. Each
stage writes into its own sub-folder of `out_dir`; `demo_summary.json` lists what was made.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from tqdm.auto import tqdm

from gaitdata import read_sequence
from gaitdata.atomic import atomic_write_text
from gaitdata.opengait import sequence_pkl_path
from gaitdata.preview import png_strip, write_gif, write_png, write_video
from gaitdata.walkers import render_walker_dataset

logger = logging.getLogger(__name__)

DEMO_VIEWS = ("000", "036", "090", "144", "180")
DEMO_CONDITIONS = ("nm-01", "nm-02", "bg-01", "cl-01")


def _generate_from_reference(reference, seed: int):
    """Clips of the reference's person under other covariates, by the bundled generator."""
    from generators import load_generator

    pipeline = load_generator()
    return pipeline(
        identity=reference,
        view=[90, 0, 144],
        clothing=["coat", "normal", "normal"],
        carrying=["none", "none", "bag"],
        num_clips=3,
        steps=20,
        seed=seed,
        subject=reference.subject,
    )


def _generate_per_subject(pipeline, data_root: Path, out_root: Path, subjects: list[str], views, seed: int) -> None:
    """Coat clips of every walker at every view, each from its one nm-01 side-view reference."""
    from gaitdata.opengait import write_pkl_sequence

    side = "090" if "090" in views else views[0]
    for i, subject in enumerate(subjects):
        reference = read_sequence(sequence_pkl_path(data_root, subject, "nm-01", side))
        clips = pipeline(
            identity=reference,
            view=list(views),
            clothing="coat",
            carrying="none",
            num_clips=len(views),
            seed=seed * 1000 + i,
            subject=subject,
        )
        for view, clip in zip(views, clips, strict=True):
            clip.view = view
            write_pkl_sequence(out_root, clip)


def _fidelity(data_root: Path, out_dir: Path, subjects: list[str], views, seed: int) -> dict:
    """Generated, edited and anonymized sets of the demo walkers, each with its fidelity report."""
    from studio.jobs.edit_dataset import anonymize_dataset, edit_dataset, load_editor
    from studio.jobs.evaluate_report import evaluate_folders

    editor = load_editor()
    sets = out_dir / "sets"
    _generate_per_subject(editor.pipeline, data_root, sets / "generated", subjects, views, seed)
    edit_dataset(editor, data_root, sets / "edited", clothing="coat", seed=seed, conditions=["nm-02"])
    anonymize_dataset(editor, data_root, sets / "anonymized", seed=seed, conditions=["nm-02"])
    reports = {}
    for kind, folder in (("generated", "generated"), ("edited", "edited"), ("anonymized", "anonymized")):
        report, json_path, html_path = evaluate_folders(
            data_root, sets / folder, out_dir / "reports" / folder, kind=kind, progress=False, seed=seed
        )
        reports[kind] = {"json": str(json_path), "html": str(html_path)}
    return reports


def run_demo(
    out_dir: str | Path,
    subjects: int = 8,
    views: tuple[str, ...] = DEMO_VIEWS,
    conditions: tuple[str, ...] = DEMO_CONDITIONS,
    seed: int = 0,
) -> dict:
    """Render the demo walker dataset and its previews; returns the summary (also written as JSON).

    Args:
        out_dir: output folder (created; re-running resumes and rewrites the previews).
        subjects: procedural walkers to render.
        views, conditions: which of CASIA-B's views and conditions.
        seed: the walkers are a function of it.
    """
    out_dir = Path(out_dir)
    started = time.time()
    # 1. the dataset, in the OpenGait layout with partition and ground truth
    data_root = out_dir / "walkers"
    with tqdm(desc="walkers", unit="seq") as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        render = render_walker_dataset(
            data_root, subjects, conditions, views, frames=(30, 45), seed=seed, progress=advance
        )

    # 2. previews of one walker: every condition at the side view, every view in normal clothes
    previews = out_dir / "previews"
    first = "001"
    side = "090" if "090" in views else views[0]
    by_condition = [read_sequence(sequence_pkl_path(data_root, first, c, side)) for c in conditions]
    by_view = [read_sequence(sequence_pkl_path(data_root, first, conditions[0], v)) for v in views]
    made = {
        "conditions_strip": write_png(previews / "conditions.png", png_strip(by_condition, labels=list(conditions))),
        "views_strip": write_png(previews / "views.png", png_strip(by_view, labels=list(views))),
        "walker_gif": write_gif(previews / "walker.gif", by_condition[0]),
        "walker_webm": write_video(previews / "walker.webm", by_condition[0]),
        "side_by_side_gif": write_gif(
            previews / "nm_vs_cl.gif", [by_condition[0], by_condition[-1]], labels=[conditions[0], conditions[-1]]
        ),
    }

    # 3. the bundled generator: this walker, generated from one reference clip at other covariates
    generated = _generate_from_reference(by_condition[0], seed)
    real_coat = read_sequence(sequence_pkl_path(data_root, first, conditions[-1], side))
    made["real_vs_generated_gif"] = write_gif(
        previews / "real_vs_generated.gif", [real_coat, generated[0]], labels=["real cl", "generated cl"]
    )
    made["generated_strip"] = write_png(
        previews / "generated.png",
        png_strip([by_condition[0], *generated], labels=["reference", "gen cl 090", "gen nm 000", "gen bg 144"]),
    )
    # 4. generate / edit / anonymize every walker, and the judge's fidelity report of each
    subject_ids = sorted(p.name for p in data_root.iterdir() if p.is_dir())
    reports = _fidelity(data_root, out_dir, subject_ids, views, seed)
    summary = {
        "dataset": str(data_root),
        "reports": reports,
        "sequences": render["sequences"],
        "frames_per_second": render["frames_per_second"],
        "previews": {k: str(v) for k, v in made.items()},
        "seconds": round(time.time() - started, 1),
    }
    atomic_write_text(out_dir / "demo_summary.json", json.dumps(summary, indent=1) + "\n")
    return summary
