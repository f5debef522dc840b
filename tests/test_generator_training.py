"""Generator training runs, checkpoints, and resumes where it stopped (tiny sizes)."""

import json

import numpy as np

from generators.data import ClipConditions, LatentClipDataset
from generators.denoiser import GaitLatentDenoiser
from generators.training import (
    AutoencoderTrainingConfig,
    DenoiserTrainingConfig,
    encode_sequences,
    train_autoencoder,
    train_denoiser,
)
from studio.data import GaitSequence


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
    assert item["latents"].shape == (30, 16) and item["present"].tolist() == [True, True, True, True, False]
    dn_config = DenoiserTrainingConfig(steps=6, batch_size=3, checkpoint_every=3, width=16, depth=1, heads=2)
    train_denoiser(dataset, tmp_path, dn_config)
    dn_config.steps = 9
    denoiser, metrics = train_denoiser(dataset, tmp_path, dn_config)
    assert metrics["steps"] == 9 and isinstance(denoiser, GaitLatentDenoiser)
    assert GaitLatentDenoiser.from_pretrained(tmp_path / "denoiser").config.identity_dim == 8
