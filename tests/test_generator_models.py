"""The generator's parts behave as the pipeline relies on, independent of training."""

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

from gaitdata import GaitDataError, GaitSequence
from generators.autoencoder import SilhouetteAutoencoder
from generators.conditions import covariates_from_condition, parse_view, view_name
from generators.denoiser import GaitLatentDenoiser
from generators.pipeline import GaitGenerationPipeline


@pytest.fixture(scope="module")
def pipeline():
    torch.manual_seed(0)
    denoiser = GaitLatentDenoiser(latent_dim=32, identity_dim=16, width=64, depth=2, heads=2)
    # Non-zero output layer: a freshly initialised adaLN-Zero model predicts exactly zero.
    torch.nn.init.normal_(denoiser.proj_out.weight, std=0.02)
    torch.nn.init.normal_(denoiser.modulation_out[1].weight, std=0.02)
    scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    return GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=32), denoiser, scheduler)


def test_autoencoder_shapes_and_range():
    ae = SilhouetteAutoencoder(latent_dim=32)
    x = torch.rand(5, 1, 64, 44)
    z = ae.encode(x)
    assert z.shape == (5, 32)
    y = ae.decode(z)
    assert y.shape == (5, 1, 64, 44) and 0 <= y.min() and y.max() <= 1


def test_denoiser_conditions_can_be_switched_off_per_sample(pipeline):
    dn = pipeline.denoiser
    x = torch.randn(2, 30, 32)
    ident = torch.randn(2, 16)
    on = torch.ones(2, 5, dtype=torch.bool)
    off = on.clone()
    off[1, 0] = False  # second sample: identity absent
    a = dn(x, 500, identity=ident, condition_mask=on)
    b = dn(x, 500, identity=ident, condition_mask=off)
    assert torch.allclose(a[0], b[0]) and not torch.allclose(a[1], b[1])
    # "absent" means the same as not passing the condition at all
    none = dn(x[1:], 500, identity=None)
    assert torch.allclose(b[1:], none, atol=1e-6)


def test_generation_is_seeded_and_independent_of_batch_size(pipeline):
    kwargs = dict(identity=np.ones(16), view=[0, 90, 180], clothing="coat", num_clips=3, steps=4)
    a = pipeline(seed=3, batch_size=3, **kwargs)
    b = pipeline(seed=3, batch_size=1, **kwargs)
    c = pipeline(seed=4, batch_size=3, **kwargs)
    for x, y in zip(a, b):  # batched matmuls may round differently: one grey level at most
        assert np.abs(x.frames.astype(int) - y.frames).max() <= 1
    assert any(not np.array_equal(x.frames, z.frames) for x, z in zip(a, c))
    assert [s.view for s in a] == ["000", "090", "180"] and a[0].condition == "cl-01"
    assert a[0].frames.shape == (30, 64, 64) and a[0].frames[:, :, :10].max() == 0


def test_pipeline_folder_round_trip_and_scheduler_swap(pipeline, tmp_path):
    pipeline.save_pretrained(tmp_path / "gen")
    loaded = GaitGenerationPipeline.from_pretrained(tmp_path / "gen", scheduler="ddim")
    assert isinstance(loaded.scheduler, DDIMScheduler)
    a = pipeline(identity=np.ones(16), view=90, steps=3, seed=1)[0]
    b = GaitGenerationPipeline.from_pretrained(tmp_path / "gen")(identity=np.ones(16), view=90, steps=3, seed=1)[0]
    np.testing.assert_array_equal(a.frames, b.frames)


def test_missing_or_corrupt_weights_name_the_folder(pipeline, tmp_path):
    with pytest.raises(GaitDataError, match="'denoiser/' is missing"):
        (tmp_path / "gen" / "autoencoder").mkdir(parents=True)
        (tmp_path / "gen" / "scheduler").mkdir()
        GaitGenerationPipeline.from_pretrained(tmp_path / "gen")
    pipeline.save_pretrained(tmp_path / "ok")
    (tmp_path / "ok" / "denoiser" / "diffusion_pytorch_model.safetensors").write_bytes(b"garbage")
    with pytest.raises(GaitDataError, match="cannot load generator weights"):
        GaitGenerationPipeline.from_pretrained(tmp_path / "ok")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(steps=0), "steps must be a positive integer"),
        (dict(view=361), "outside 0–360"),
        (dict(view="side"), "not an angle"),
        (dict(clothing="tuxedo"), "unknown clothing 'tuxedo'"),
        (dict(carrying="suitcase"), "unknown carrying"),
        (dict(num_frames=0), "num_frames"),
        (dict(identity=np.ones(7)), "7 numbers, the denoiser expects 16"),
        (dict(identity=GaitSequence(np.zeros((3, 64, 64), np.uint8))), "no conditioner"),
        (dict(speed=-1.0), "speed must be positive"),
    ],
)
def test_bad_arguments_name_the_parameter(pipeline, kwargs, message):
    with pytest.raises(ValueError, match=message):
        pipeline(**kwargs)


def test_condition_names_map_to_covariates():
    assert covariates_from_condition("cl-02").clothing == "coat"
    assert covariates_from_condition("bg-01").carrying == "bag"
    assert covariates_from_condition("nm-05").condition_type() == "nm"
    with pytest.raises(ValueError, match="'xx-01' is not one of"):
        covariates_from_condition("xx-01")
    assert parse_view("090") == 90.0 and view_name(359.6) == "000" and view_name(18) == "018"


@pytest.fixture(scope="module")
def reference_pipeline():
    """A tiny pipeline with the identity (reference) and motion pathways, and a conditioner."""
    from recognizers import GaitBase

    torch.manual_seed(0)
    conditioner = GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=4).eval()
    dim = int(np.prod(conditioner.embed(np.zeros((2, 64, 64), np.uint8)).shape))
    denoiser = GaitLatentDenoiser(
        latent_dim=16, identity_dim=dim, width=32, depth=1, heads=2, reference_frames=15, motion_dim=3
    )
    torch.nn.init.normal_(denoiser.proj_out.weight, std=0.02)
    torch.nn.init.normal_(denoiser.modulation_out[1].weight, std=0.02)
    scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    return GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=16, channels=16), denoiser, scheduler, conditioner)


def _walker(num_frames=40, view=90, subject="001"):
    from gaitdata.walkers import identity_for, render_walker_sequence, walk_for

    person = identity_for(3, subject)
    return render_walker_sequence(person, walk_for(3, person, "nm-01"), view_deg=view, num_frames=num_frames)


def test_a_clip_as_identity_is_read_as_reference_tokens(reference_pipeline):
    ref = reference_pipeline.encode_reference(_walker())
    assert ref.shape == (1, 15, 16)
    # an embedding alone gives no reference: the person is known only by it
    embedding = reference_pipeline.encode_identity(_walker())
    assert reference_pipeline.encode_reference(embedding) is None
    conds = reference_pipeline.condition_tensors(2, embedding, 90, "normal", "none", None)
    assert conds["reference"] is None and not conds["condition_mask"][:, 5].any()


def test_the_reference_changes_the_clip_and_the_motion_fixes_its_length(reference_pipeline):
    a, b = _walker(subject="001"), _walker(subject="002", view=36)
    out_a = reference_pipeline(identity=a, view=90, steps=3, seed=1, motion=a)[0]
    out_b = reference_pipeline(identity=b, view=90, steps=3, seed=1, motion=a)[0]
    assert out_a.num_frames == a.num_frames, "the motion signal sets the frame count"
    assert not np.array_equal(out_a.frames, out_b.frames), "another person's reference gives another clip"


def test_identity_and_covariates_are_guided_apart(reference_pipeline):
    clip = _walker()
    same = reference_pipeline(identity=clip, view=90, steps=3, seed=0, guidance=2.0)[0]
    apart = reference_pipeline(identity=clip, view=90, steps=3, seed=0, guidance=2.0, identity_guidance=4.0)[0]
    again = reference_pipeline(identity=clip, view=90, steps=3, seed=0, guidance=2.0, identity_guidance=2.0)[0]
    np.testing.assert_array_equal(same.frames, again.frames)
    assert not np.array_equal(same.frames, apart.frames)


@pytest.mark.parametrize(
    "make, kwargs, message",
    [
        (lambda: _walker(num_frames=6), {}, "reference clip of 6 frames is too short"),
        (lambda: _walker().with_frames(np.zeros((30, 64, 64), np.uint8)), {}, "frames are empty"),
        (lambda: _walker(), {"guidance": 40.0}, "guidance must be within 0–20"),
        (lambda: _walker(), {"identity_guidance": -1.0}, "identity_guidance must be within 0–20"),
        (lambda: _walker(), {"motion": np.zeros((30, 2))}, r"motion signal must be \[frames, 3\]"),
    ],
)
def test_bad_references_and_settings_are_refused_by_name(reference_pipeline, make, kwargs, message):
    with pytest.raises(ValueError, match=message):
        reference_pipeline(identity=make(), view=90, steps=2, **kwargs)
