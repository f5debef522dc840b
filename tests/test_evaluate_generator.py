"""The generator evaluation runs end to end and reports every target (tiny untrained models)."""

import json

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler

from gaitdata import read_partition
from gaitdata.walkers import render_walker_dataset
from generators import GaitGenerationPipeline, GaitLatentDenoiser, SilhouetteAutoencoder
from recognizers import CovariateClassifier, GaitBase, GaitSet
from studio.jobs.evaluate_generator import evaluate_generator


@pytest.fixture(scope="module")
def tiny_benchmark(tmp_path_factory):
    root = tmp_path_factory.mktemp("walkers")
    conditions = ["nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "bg-01", "cl-01"]
    render_walker_dataset(root, 6, conditions, ["000", "090", "180"], frames=(30, 32), seed=3, workers=1)
    return root


def _tiny_models(reference_frames: int = 0):
    """Untrained conditioner, judge, covariate classifier and a pipeline whose identity matches the conditioner."""
    torch.manual_seed(0)
    conditioner = GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=4).eval()
    judge = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
    classifier = CovariateClassifier(in_channels=8, parts_num=62, part_channels=4, hidden=8).eval()
    identity_dim = int(np.prod(conditioner.embed(np.zeros((2, 64, 64), np.uint8)).shape))
    denoiser = GaitLatentDenoiser(
        latent_dim=16, identity_dim=identity_dim, width=32, depth=1, heads=2, reference_frames=reference_frames
    )
    scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    pipeline = GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=16, channels=16), denoiser, scheduler)
    return pipeline, conditioner, judge, classifier


def test_every_target_is_reported(tiny_benchmark, tmp_path):
    pipeline, conditioner, judge, classifier = _tiny_models()
    out = tmp_path / "results.json"
    result = evaluate_generator(
        pipeline,
        tiny_benchmark,
        out,
        conditioner=conditioner,
        judge=judge,
        covariate_classifier=classifier,
        steps=2,
        novel_identities=3,
        clips_per_novel=2,
    )
    assert json.loads(out.read_text()) == result
    # each test subject × 3 condition types × the 2 views other than its reference's
    tested = len(read_partition(tiny_benchmark / "partition.json").test)
    assert result["test_subjects"] == tested and result["generated_clips"] == tested * 3 * 2
    assert set(result["identity_preservation"]) == {"NM", "BG", "CL"}
    for row in result["identity_preservation"].values():
        assert 0 <= row["generated_rank1"] <= 100 and 0 <= row["real_rank1"] <= 100
    assert {"view_within_tolerance", "clothing", "carrying"} <= set(result["covariate_control"])
    assert result["naturalness"]["frechet"]["real_vs_real"] > 0
    assert set(result["naturalness"]["statistics"]) == {"foreground", "height_px", "width_px", "flicker"}
    novel = result["novel_identities"]
    assert novel["identities"] == 3 and 0 <= novel["distinct"] <= 3
    assert 0 < novel["template_threshold"]["threshold"] <= 1


def test_best_of_two_with_a_reference_pathway_is_reported(tiny_benchmark, tmp_path):
    pipeline, conditioner, judge, classifier = _tiny_models(reference_frames=3)
    out = tmp_path / "results.json"
    result = evaluate_generator(
        pipeline, tiny_benchmark, out, conditioner=conditioner, judge=judge, covariate_classifier=classifier,
        steps=2, novel_identities=2, clips_per_novel=2, candidates=2,
    )  # fmt: skip
    assert json.loads(out.read_text()) == result
    assert result["sampler"]["candidates"] == 2 and result["novel_identities"]["identities"] == 2


def test_the_novel_part_alone_reports_first_clips_checked_against_known_people(tiny_benchmark, tmp_path):
    from generators import IdentityBank

    pipeline, conditioner, judge, classifier = _tiny_models(reference_frames=3)
    known = np.random.default_rng(0).standard_normal((2, pipeline.denoiser.config.identity_dim))
    pipeline.identity_bank = IdentityBank(known.astype(np.float32), ["a", "b"])
    out = tmp_path / "results.json"
    result = evaluate_generator(
        pipeline, tiny_benchmark, out, conditioner=conditioner, judge=judge, covariate_classifier=classifier,
        steps=2, novel_identities=2, clips_per_novel=2, novel_candidates=2, parts=["novel"],
    )  # fmt: skip
    assert "identity_preservation" not in result and result["complete"]
    novel = result["novel_identities"]
    assert novel["identities"] == 2 and novel["first_clips_drawn"] == 2
    assert -1 <= novel["first_clip_nearest_known_similarity_mean"] <= 1
    assert novel["frechet"]["other_real_people_vs_real"] > 0 and novel["frechet"]["ratio_to_other_people"] > 0
    assert 0 <= novel["distinct_at"]["real_people_95"] <= 2 and novel["real_people_distinct"]["subjects"] > 1
    with pytest.raises(ValueError, match="parts must be some of identity, novel, got novelty"):
        evaluate_generator(pipeline, tiny_benchmark, out, conditioner=conditioner, judge=judge, parts=["novelty"])
