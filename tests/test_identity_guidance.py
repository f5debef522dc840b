"""Conditioner guidance (`conditioner_guidance`): steering toward the person along the conditioner's
gradient makes the person the JUDGE finds (the judge never steers), off is the plain call, and every
way of asking for it wrongly is refused by name."""

import numpy as np
import pytest
import torch

from generators.identity_guidance import check_scale
from generators.identity_loss import predicted_clean, prediction_from_clean
from recognizers.distance import pairwise_distance

PEOPLE = 8


@pytest.fixture(scope="module")
def strangers(tmp_path_factory):
    """Walkers no bundled model saw (seed 13): two gallery clips and one reference clip each."""
    from gaitdata import load_opengait
    from gaitdata.walkers import render_walker_dataset

    root = tmp_path_factory.mktemp("strangers")
    conditions = ["nm-01", "nm-02", "nm-05"]
    render_walker_dataset(root, PEOPLE, conditions, ["054", "090"], frames=(40, 44), seed=13, workers=1)
    sequences, _ = load_opengait(root)
    return sequences


@pytest.fixture(scope="module")
def pipeline():
    from generators import load_generator

    return load_generator()


@pytest.fixture(scope="module")
def judge():
    import recognizers

    return recognizers.load_judge()


@pytest.mark.parametrize("bad", [-0.1, 2.5, True, "0.2", None])
def test_a_scale_out_of_range_is_refused_by_value(bad):
    with pytest.raises(ValueError, match="conditioner_guidance"):
        check_scale(bad)


@pytest.mark.parametrize("kind", ["v_prediction", "epsilon"])
def test_a_moved_clean_prediction_is_what_the_returned_prediction_implies(kind):
    alphas = torch.linspace(0.999, 0.01, 1000)
    t = torch.tensor([10, 500, 900])
    noisy, clean = torch.randn(3, 30, 8), torch.randn(3, 30, 8)
    back = predicted_clean(noisy, prediction_from_clean(noisy, clean, alphas, t, kind), alphas, t, kind)
    torch.testing.assert_close(back, clean, atol=1e-4, rtol=1e-4)


def test_steering_makes_the_person_the_judge_finds(pipeline, judge, strangers):
    gallery = [s for s in strangers if s.condition in ("nm-01", "nm-02") and s.view == "090"]
    subjects = np.array([s.subject for s in gallery])
    references = [s for s in strangers if s.condition == "nm-05" and s.view == "054"]  # one clip each, another view
    people = np.array([r.subject for r in references])
    kwargs = dict(identity=references, view="090", clothing="normal", carrying="none", num_clips=PEOPLE, steps=10)
    plain = pipeline(**kwargs)
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(plain, pipeline(**kwargs, conditioner_guidance=0.0)))
    steered = pipeline(**kwargs, conditioner_guidance=0.2)
    assert all(c.extra["conditioner_guidance"] == 0.2 for c in steered)

    def judged(clips):
        distances = pairwise_distance(judge.embed(clips), judge.embed(gallery), "euc")
        own = np.where(subjects[None] == people[:, None], distances, np.inf).min(1)  # to the person's own clips
        return (subjects[distances.argmin(1)] == people).mean(), own.mean()

    plain_rank1, plain_distance = judged(plain)
    steered_rank1, steered_distance = judged(steered)
    assert steered_distance < plain_distance  # nearer the person's real clips, to a network that did not steer
    assert steered_rank1 >= max(plain_rank1, 0.875), (plain_rank1, steered_rank1)
    foreground = [np.mean([c.frames.mean() for c in clips]) for clips in (plain, steered)]
    assert abs(foreground[0] - foreground[1]) < 5  # a body, not noise


def test_steering_without_an_identity_or_a_conditioner_is_refused(pipeline, strangers, monkeypatch):
    with pytest.raises(ValueError, match="no identity was given"):
        pipeline(num_clips=1, steps=2, conditioner_guidance=0.2)
    embedding = pipeline.conditioner.embed(strangers[:1])
    monkeypatch.setattr(pipeline, "conditioner", None)
    with pytest.raises(ValueError, match="needs the pipeline's conditioner"):
        pipeline(identity=embedding, num_clips=1, steps=2, conditioner_guidance=0.2)


def test_an_edit_can_be_steered_toward_its_source_person(strangers):
    from studio.jobs.edit_dataset import load_editor

    editor = load_editor()
    source = next(s for s in strangers if s.condition == "nm-05" and s.view == "090")
    kwargs = dict(clothing="coat", steps=4, seed=1)
    plain = editor.edit(source, **kwargs)
    assert np.array_equal(plain.frames, editor.edit(source, **kwargs, conditioner_guidance=0.0).frames)
    steered = editor.edit(source, **kwargs, conditioner_guidance=0.2)
    assert steered.extra["edit"]["conditioner_guidance"] == 0.2 and "conditioner_guidance" not in plain.extra["edit"]
    assert not np.array_equal(steered.frames, plain.frames)
    with pytest.raises(ValueError, match="conditioner_guidance must be within"):
        editor.edit(source, **kwargs, conditioner_guidance=3.0)


def test_steering_asks_for_the_person_under_the_requested_covariates(strangers, monkeypatch):
    """A steered coat edit, and a steered bag clip from an nm reference, move the steering target
    by the bank's covariate shift; a generated clip under the reference's own covariates, or only
    in a coat (a move generation leaves out: `GENERATION_MOVES`), is not moved."""
    from generators.identity_guidance import ConditionerGuidance
    from studio.jobs.edit_dataset import load_editor

    editor = load_editor()
    seen = []
    original = ConditionerGuidance.__init__

    def record(self, *args, shifts=None, **kwargs):
        seen.append(None if shifts is None else shifts.clone())
        original(self, *args, shifts=shifts, **kwargs)

    monkeypatch.setattr(ConditionerGuidance, "__init__", record)
    source = next(s for s in strangers if s.condition == "nm-05" and s.view == "090")
    editor.edit(source, clothing="coat", steps=2, seed=1, conditioner_guidance=0.2)
    pipeline = editor.pipeline
    pipeline(identity=source, view=90, clothing="normal", carrying="none", steps=2, conditioner_guidance=0.2)
    pipeline(identity=source, view=90, clothing="coat", steps=2, conditioner_guidance=0.2)
    pipeline(identity=source, view=54, carrying="bag", steps=2, conditioner_guidance=0.2)
    edit_shift, same_shift, coat_shift, bag_shift = seen
    nm = {"view": 90.0, "clothing": "normal", "carrying": "none"}
    expected = pipeline.covariate_shifts([nm], [{"view": 90.0, "clothing": "coat"}])
    bag = pipeline.covariate_shifts([nm], [{"view": 90.0, "carrying": "bag"}])  # the view held at the reference's
    assert torch.allclose(edit_shift, expected) and torch.allclose(bag_shift, bag)
    assert torch.linalg.norm(expected) > 0.01 and torch.linalg.norm(bag) > 0.01
    assert torch.count_nonzero(same_shift) == 0 and torch.count_nonzero(coat_shift) == 0


@pytest.mark.parametrize("bad", [-1.0, 4.5, True])
def test_a_covariate_shift_out_of_range_is_refused_by_value(bad):
    from generators import load_generator

    pipeline = load_generator()
    targets = torch.nn.functional.normalize(torch.randn(1, pipeline.denoiser.config.identity_dim), dim=-1)
    with pytest.raises(ValueError, match=f"covariate_shift must be within 0–4, got {bad!r}"):
        pipeline.identity_steering(targets, 0.2, shift_scale=bad)
