"""The recognizers fine-tuned on calibrated walkers: bundled, loadable by name, and they know
calibrated people they never saw far better than the conditioner trained on the default style."""

from __future__ import annotations

import numpy as np
import pytest

from gaitdata import read_sequence
from gaitdata.walkers.dataset import render_walker_dataset
from recognizers import GaitBase, load_recognizer

PEOPLE, VIEWS = 8, ("036", "090")


@pytest.fixture(scope="module")
def unseen_calibrated(tmp_path_factory):
    """8 calibrated walkers of another seed than the training set's: people no model has seen."""
    root = tmp_path_factory.mktemp("calibrated") / "walkers"
    render_walker_dataset(root, PEOPLE, ["nm-01", "nm-05", "cl-01"], VIEWS, frames=(30, 40), seed=7, workers=1, style="calibrated")
    return root


def same_view_hits(model, root, probe: str) -> int:
    """Probes of `probe` found at rank-1 among the nm-01 gallery of their own view (of 16)."""
    hits = 0
    for view in VIEWS:
        embed = lambda condition: np.stack(  # noqa: E731
            [model.embed(read_sequence(root / f"{s:03d}/{condition}/{view}").frames).reshape(-1) for s in range(1, PEOPLE + 1)]
        )
        gallery, probes = embed("nm-01"), embed(probe)
        distance = ((probes[:, None] - gallery[None]) ** 2).sum(-1)
        hits += int((distance.argmin(1) == np.arange(PEOPLE)).sum())
    return hits


def test_calibrated_recognizers_know_unseen_calibrated_people(unseen_calibrated):
    conditioner = load_recognizer("gaitbase-walkers")
    baseline = same_view_hits(conditioner, unseen_calibrated, "cl-01")
    for name in ("gaitbase-calibrated", "gaitbase-calibrated-domain"):
        model = load_recognizer(name)
        assert isinstance(model, GaitBase) and model.config.class_num == 74
        assert same_view_hits(model, unseen_calibrated, "nm-05") >= 14, name
        coats = same_view_hits(model, unseen_calibrated, "cl-01")
        assert coats >= 11 and coats > baseline + 3, (name, coats, baseline)  # measured 15 and 13 vs 6
