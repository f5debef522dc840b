"""`studio train-generator` end to end on a tiny walker set: stages, caches, a loadable pipeline."""

import numpy as np
import pytest
import torch

from gaitdata.walkers import render_walker_dataset
from generators import load_generator
from generators.training import AutoencoderTrainingConfig, DenoiserTrainingConfig
from recognizers import GaitBase
from studio.jobs.bundle_generator import bundle_generator
from studio.jobs.train_generator import GeneratorRecipe, train_generator


@pytest.fixture(scope="module")
def tiny_walkers(tmp_path_factory):
    root = tmp_path_factory.mktemp("walkers")
    render_walker_dataset(root, 5, ["nm-01", "bg-01", "cl-01"], ["000", "090"], frames=(30, 34), seed=4, workers=1)
    return root


def test_stages_resume_and_the_pipeline_generates(tiny_walkers, tmp_path):
    conditioner = tmp_path / "conditioner"
    GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=3).save_pretrained(
        conditioner
    )
    recipe = GeneratorRecipe(
        conditioner=str(conditioner),
        autoencoder=AutoencoderTrainingConfig(latent_dim=16, channels=16, steps=4, batch_size=16),
        denoiser=DenoiserTrainingConfig(width=16, depth=1, heads=2, steps=3, batch_size=4),
        autoencoder_frames=500,
        validation_frames=100,
        references_per_subject=2,
    )
    run = tmp_path / "run"
    first = train_generator(tiny_walkers, run, recipe, stop_after="latents")
    cache = run / "latents.npz"
    assert first["latents"] > 0 and cache.exists()
    stamp = cache.stat().st_mtime_ns
    summary = train_generator(tiny_walkers, run, recipe)
    assert cache.stat().st_mtime_ns == stamp, "finished stages are reused, not redone"
    assert (run / "references" / "identities.npz").exists()
    assert summary["training_subjects"] == 3 and 0 <= summary["autoencoder"]["mean_iou"] <= 1
    pipeline = load_generator(run / "pipeline", conditioner=GaitBase.from_pretrained(conditioner))
    clips = pipeline(identity=np.ones(pipeline.denoiser.config.identity_dim), view=90, clothing="coat", steps=2)
    assert clips[0].frames.shape == (30, 64, 64) and clips[0].condition == "cl-01"
    assert len(pipeline.identity_bank) == 3, "the training identities ship with the pipeline"
    bundled = bundle_generator(run, tmp_path / "bundled", command="studio train-generator ...")
    card = (bundled / "README.md").read_text()
    assert "mean foreground IoU" in card and "not yet run" in card and "studio train-generator" in card
    half = (bundled / "denoiser" / "diffusion_pytorch_model.safetensors").stat().st_size
    full = (run / "pipeline" / "denoiser" / "diffusion_pytorch_model.safetensors").stat().st_size
    assert half < 0.6 * full, "bundled weights are stored in float16"
    again = load_generator(bundled, conditioner=GaitBase.from_pretrained(conditioner))
    assert next(again.denoiser.parameters()).dtype == torch.float32
    assert again.identity_bank.subjects == pipeline.identity_bank.subjects
    with pytest.raises(ValueError, match="stop_after"):
        train_generator(tiny_walkers, run, recipe, stop_after="everything")


def test_fine_tuning_with_the_identity_loss_starts_from_the_init_and_refuses_another_architecture(
    tiny_walkers, tmp_path
):
    conditioner = tmp_path / "conditioner"
    GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=3).save_pretrained(
        conditioner
    )
    small = dict(width=16, depth=1, heads=2, batch_size=4, reference_frames=4, motion_dim=3, standardize_identity=True)
    recipe = GeneratorRecipe(
        conditioner=str(conditioner),
        autoencoder=AutoencoderTrainingConfig(latent_dim=16, channels=16, steps=4, batch_size=16),
        denoiser=DenoiserTrainingConfig(steps=2, **small),
        autoencoder_frames=500,
        validation_frames=100,
        references_per_subject=2,
    )
    base = tmp_path / "base"
    train_generator(tiny_walkers, base, recipe)
    tuned = GeneratorRecipe(
        conditioner=str(conditioner),
        autoencoder_from=str(base),
        denoiser_from=str(base),
        denoiser=DenoiserTrainingConfig(
            steps=3, identity_loss_weight=1.0, identity_loss_clips=4, identity_loss_max_timestep=1000, **small
        ),
        validation_frames=100,
        references_per_subject=2,
    )
    train_generator(tiny_walkers, tmp_path / "tuned", tuned)
    before = load_generator(base / "pipeline", conditioner=GaitBase.from_pretrained(conditioner)).denoiser
    after = load_generator(tmp_path / "tuned" / "pipeline", conditioner=GaitBase.from_pretrained(conditioner)).denoiser
    fresh = type(before).from_config(before.config)
    moved = [(a - b).abs().max().item() for a, b in zip(after.parameters(), before.parameters())]
    from_fresh = [(a - f).abs().max().item() for a, f in zip(after.parameters(), fresh.parameters())]
    assert 0 < max(moved) < max(from_fresh), "fine-tuning starts from the init's weights and moves them"
    wider = GeneratorRecipe(
        conditioner=str(conditioner),
        autoencoder_from=str(base),
        denoiser_from=str(base),
        denoiser=DenoiserTrainingConfig(steps=1, **{**small, "width": 32}),
        validation_frames=100,
        references_per_subject=2,
    )
    with pytest.raises(ValueError, match="width: config 32 vs init 16"):
        train_generator(tiny_walkers, tmp_path / "wider", wider)


def test_the_identity_loss_is_zero_for_the_true_clip_and_pulls_only_the_prediction():
    from generators.autoencoder import SilhouetteAutoencoder
    from generators.identity_loss import ConditionerIdentityLoss

    torch.manual_seed(0)
    autoencoder = SilhouetteAutoencoder(latent_dim=16, channels=16)
    conditioner = GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=3)
    loss = ConditionerIdentityLoss(
        autoencoder, conditioner, torch.nn.functional.normalize(torch.randn(10, 256), dim=-1)
    )
    loss.train()
    assert not loss.conditioner.training and not any(p.requires_grad for p in loss.parameters())
    clean = torch.randn(2, 6, 16)
    predicted = (clean + torch.randn_like(clean)).requires_grad_(True)
    assert torch.allclose(loss(clean, clean), torch.zeros(2), atol=1e-5)
    value = loss(predicted, clean)
    assert (value > 0).all()
    value.sum().backward()
    assert predicted.grad is not None and predicted.grad.abs().sum() > 0
