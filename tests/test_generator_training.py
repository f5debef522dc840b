"""Generator training runs, checkpoints, and resumes where it stopped (tiny sizes)."""

import json

import numpy as np
import torch

from gaitdata import GaitSequence
from generators.data import ClipConditions, LatentClipDataset
from generators.denoiser import GaitLatentDenoiser
from generators.training import (
    AutoencoderTrainingConfig,
    DenoiserTrainingConfig,
    encode_sequences,
    train_autoencoder,
    train_denoiser,
)


def _bars(n, rng):
    frames = np.zeros((n, 64, 44), np.uint8)
    for i in range(n):
        h = int(rng.integers(10, 20))
        frames[i, 5:60, 22 - h // 2 : 22 + h // 2] = 255
    return frames


def test_autoencoder_and_denoiser_train_and_resume(tmp_path):
    rng = np.random.default_rng(0)
    frames = _bars(400, rng)
    config = AutoencoderTrainingConfig(steps=10, batch_size=16, checkpoint_every=5, channels=16, latent_dim=16)
    train_autoencoder(frames[:300], frames[300:], tmp_path, config)
    config.steps = 15  # a longer schedule resumes from step 10
    ae, metrics = train_autoencoder(frames[:300], frames[300:], tmp_path, config)
    steps = [json.loads(line).get("step") for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert 0 <= metrics["mean_iou"] <= 1 and metrics["frames"] == 100
    assert ae.config.scaling_factor != 1.0, "latent scale fitted after training"
    assert (tmp_path / "autoencoder" / "config.json").exists() and steps.count(None) == 2

    seqs = [
        GaitSequence(np.pad(frames[i * 30 : (i + 1) * 30], ((0, 0), (0, 0), (10, 10))), f"{i % 3:03d}", c, "090")
        for i, c in enumerate(["nm-01", "bg-01", "cl-01"] * 3)
    ]
    latents = encode_sequences(ae, [f[:, :, 10:54] for f in (s.frames for s in seqs)])
    dataset = LatentClipDataset(
        latents,
        [s.subject for s in seqs],
        [ClipConditions.from_sequence(s) for s in seqs],
        rng.normal(size=(len(seqs), 8)).astype(np.float32),
    )
    item = dataset[0]
    assert item["latents"].shape == (30, 16)
    assert item["present"].tolist() == [True, True, True, True, False, False, False], "no reference, no motion"
    dn_config = DenoiserTrainingConfig(steps=6, batch_size=3, checkpoint_every=3, width=16, depth=1, heads=2)
    train_denoiser(dataset, tmp_path, dn_config)
    dn_config.steps = 9
    denoiser, metrics = train_denoiser(dataset, tmp_path, dn_config)
    assert metrics["steps"] == 9 and isinstance(denoiser, GaitLatentDenoiser)
    assert GaitLatentDenoiser.from_pretrained(tmp_path / "denoiser").config.identity_dim == 8


def test_reference_and_motion_pathways_train_from_pairs_of_one_person(tmp_path):
    rng = np.random.default_rng(1)
    latents = [rng.normal(size=(int(rng.integers(20, 45)), 16)).astype(np.float32) for _ in range(8)]
    subjects = ["a", "a", "a", "b", "b", "b", "c", "c"]
    seqs = [GaitSequence(np.zeros((3, 64, 64), np.uint8), s, "nm-01", "090") for s in subjects]
    embedded = np.array([1, 1, 0, 1, 0, 1, 1, 1], bool)
    dataset = LatentClipDataset(
        latents,
        subjects,
        [ClipConditions.from_sequence(s) for s in seqs],
        rng.normal(size=(8, 8)).astype(np.float32),
        motions=[rng.normal(size=(len(z), 3)).astype(np.float32) for z in latents],
        reference_frames=15,
        embedded=embedded,
    )
    for i in range(8):
        item = dataset[i]
        assert item["reference"].shape == (15, 16) and item["motion"].shape == (30, 3)
        assert item["present"].tolist()[-2:] == [True, True]
        # the reference is another embedded clip of the same person, and the identity is ITS embedding
        ref = [j for j in range(8) if embedded[j] and np.allclose(dataset.identities[j], item["identity"].numpy())]
        assert len(ref) == 1 and subjects[ref[0]] == subjects[i] and (ref[0] != i or subjects.count(subjects[i]) == 1)
    config = DenoiserTrainingConfig(
        steps=4,
        batch_size=4,
        checkpoint_every=2,
        width=16,
        depth=1,
        heads=2,
        reference_frames=15,
        motion_dim=3,
        standardize_identity=True,
        identity_dropout=0.5,
    )
    denoiser, _ = train_denoiser(dataset, tmp_path, config)
    loaded = GaitLatentDenoiser.from_pretrained(tmp_path / "denoiser")
    mean = dataset.identities[embedded].mean(0)
    assert np.allclose(loaded.identity_mean.numpy(), mean, atol=1e-5), "identity statistics saved with the weights"
    # a masked reference changes nothing but what the clip may attend to
    x = torch.randn(2, 30, 16)
    ref = torch.randn(2, 15, 16)
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[:, 5] = False
    with torch.no_grad():
        a = loaded(x, 10, reference=ref, condition_mask=mask)
        b = loaded(x, 10, reference=torch.randn(2, 15, 16), condition_mask=mask)
    assert torch.allclose(a, b, atol=1e-5)


def test_dataset_refuses_a_subject_with_no_reference():
    import pytest

    seqs = [GaitSequence(np.zeros((3, 64, 64), np.uint8), s, "nm-01", "090") for s in "ab"]
    with pytest.raises(ValueError, match="without any embedded reference"):
        LatentClipDataset(
            [np.zeros((30, 4), np.float32)] * 2,
            ["a", "b"],
            [ClipConditions.from_sequence(s) for s in seqs],
            np.zeros((2, 8), np.float32),
            embedded=[True, False],
        )


def test_a_run_of_the_checkpoint_layout_before_resumes(tmp_path):
    """`checkpoint_denoiser/` (model/, ema/, optimizer.pt), as runs before the one training loop wrote it."""
    import shutil

    rng = np.random.default_rng(2)
    seqs = [GaitSequence(np.zeros((3, 64, 64), np.uint8), s, "nm-01", "090") for s in "aabb"]
    dataset = LatentClipDataset(
        [rng.normal(size=(32, 8)).astype(np.float32) for _ in seqs],
        [s.subject for s in seqs],
        [ClipConditions.from_sequence(s) for s in seqs],
        rng.normal(size=(4, 8)).astype(np.float32),
    )
    config = DenoiserTrainingConfig(steps=2, batch_size=2, width=16, depth=1, heads=2, bf16=False)
    train_denoiser(dataset, tmp_path, config)
    new = tmp_path / "checkpoints" / "denoiser" / "step-000002"
    old = tmp_path / "checkpoint_denoiser"
    state = torch.load(new / "training_state.pt", weights_only=True)
    for part in ("model", "ema"):
        shutil.copytree(new / part, old / part)
    torch.save({"optimizer": state["optimizer"], "step": 2}, old / "optimizer.pt")
    shutil.rmtree(tmp_path / "checkpoints")

    config.steps = 4
    _, metrics = train_denoiser(dataset, tmp_path, config)
    assert metrics["steps"] == 4 and (tmp_path / "checkpoints" / "denoiser" / "step-000004" / "ema").is_dir()
    resumed = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in resumed if "loss" in r] == [2, 4], "resumed at step 2, not from scratch"
