"""The main job on the embedded default: what a newcomer runs first (`studio demo`).

Renders a small CASIA-B-like walker dataset, writes previews of it, and has the bundled
generator walk one of its people again in a coat, from the front and with a bag. Each stage writes into
its own sub-folder of `out_dir`, and `demo_summary.json` lists what was made.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from tqdm.auto import tqdm

from studio.data import read_sequence
from studio.data.atomic import atomic_write_text
from studio.data.opengait import sequence_pkl_path
from studio.data.preview import png_strip, write_gif, write_png, write_video
from studio.data.walkers import render_walker_dataset

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
    summary = {
        "dataset": str(data_root),
        "sequences": render["sequences"],
        "frames_per_second": render["frames_per_second"],
        "previews": {k: str(v) for k, v in made.items()},
        "seconds": round(time.time() - started, 1),
    }
    atomic_write_text(out_dir / "demo_summary.json", json.dumps(summary, indent=1) + "\n")
    return summary
