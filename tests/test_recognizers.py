"""Recognizers: model folders, embedding, data sampling, losses, and a short train → evaluate run
on a tiny dataset with the quirks of real CASIA-B files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gaitdata import GaitSequence, write_pkl_sequence
from recognizers import CovariateClassifier, GaitBase, GaitSet, GEINet, load_model, load_recognizer
from recognizers.augment import ClipAugment
from recognizers.data import TripletSampler, sample_clip
from recognizers.losses import LossAggregator, TripletLoss
from studio.cli import main as studio_main

TINY_BASE = dict(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=4)
TINY_SET = dict(channels=(4, 8, 8), embedding_dim=8, class_num=4)
TINY_GEI = dict(channels=(4, 8, 8), embedding_dim=8, class_num=4)

# ---------------------------------------------------------------- a tiny CASIA-B-like dataset

# (subject index, condition, view) → frames: a 1-frame test sequence, 300-frame train and test ones
QUIRKY_LENGTHS = {(5, "nm-05", "000"): 1, (4, "nm-06", "090"): 300, (1, "nm-02", "000"): 300}
CONDITIONS = ("nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "nm-06", "bg-01", "cl-01")
VIEWS = ("000", "090")


def render_blob(subject_index: int, condition: str, view: str, frames: int, rng) -> np.ndarray:
    """`uint8 [frames, 64, 64]` soft silhouettes: an ellipse body with swinging legs, per-subject shape."""
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    height = 22 + 2.5 * (subject_index % 5)
    width = (5 + 1.5 * (subject_index % 3)) * (1.4 if view == "090" else 1.0) + 3 * condition.startswith("cl")
    period, phase = 8 + 2 * (subject_index % 4), rng.uniform(0, 2 * np.pi)
    out = np.zeros((frames, 64, 64), np.float32)
    for t in range(frames):
        swing = np.sin(2 * np.pi * t / period + phase) * (subject_index % 3 + 1) * 0.4
        frame = (((xx - 32) / width) ** 2 + ((yy - 32) / height) ** 2 <= 1) | (
            (yy > 40) & (np.abs(xx - 32 - swing * (yy - 40)) < 2.5)
        )
        frame = frame.astype(np.float32)
        if condition.startswith("bg"):
            frame[26:36, 32 + int(width) : 36 + int(width)] = 1
        # soft edges, like resized real silhouettes
        out[t] = (frame + sum(np.roll(frame, d, axis) for d in (1, -1) for axis in (0, 1))) / 5
    return np.clip(out * 255, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def fake_casia(tmp_path_factory) -> tuple[Path, Path]:
    """6 subjects (4 train, 2 test) × 8 conditions × 2 views, 12 frames; plus a 1-frame sequence,
    a 300-frame sequence and a truncated pkl. Returns (root, partition JSON)."""
    root = tmp_path_factory.mktemp("fake_casia")
    rng = np.random.default_rng(0)
    subjects = [f"{i + 1:03d}" for i in range(6)]
    for i, subject in enumerate(subjects):
        for condition in CONDITIONS:
            for view in VIEWS:
                n = QUIRKY_LENGTHS.get((i, condition, view), 12)
                frames = render_blob(i, condition, view, n, rng)
                write_pkl_sequence(root, GaitSequence(frames, subject, condition, view))
    bad = root / "006" / "bg-01" / "000" / "000.pkl"
    bad.write_bytes(bad.read_bytes()[:40])
    partition = root / "partition.json"
    partition.write_text(json.dumps({"TRAIN_SET": subjects[:4], "TEST_SET": subjects[4:]}))
    return root, partition


TINY_CONFIG = {
    "model": {"type": "GaitBase", "channels": [8, 16], "strides": [2, 1], "stem_channels": 8, "embedding_dim": 16},
    "sampler": {"p": 4, "k": 2, "frames": 10},
    "optimizer": {"type": "adamw", "lr": 0.003},
    "trainer": {"total_steps": 6, "log_every": 2, "eval_every": 3, "save_every": 3, "seed": 1},
    "evaluator": {"protocol": "casia-b", "max_frames": 30},
}

# ---------------------------------------------------------------- models


@pytest.mark.parametrize("cls,kwargs", [(GaitBase, TINY_BASE), (GaitSet, TINY_SET), (GEINet, TINY_GEI)])
def test_model_folder_round_trip(tmp_path, cls, kwargs):
    model = cls(**kwargs).eval()
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["_class_name"] == cls.__name__ and config["class_num"] == 4  # every constructor argument
    loaded = load_recognizer(tmp_path)
    x = torch.rand(2, 7, 64, 44)
    out = model(x)
    assert torch.equal(out.embeddings, loaded(x).embeddings)
    parts = {GaitBase: 16, GaitSet: 62, GEINet: 31}[cls]
    assert out.embeddings.shape == (2, kwargs["embedding_dim"], parts)
    assert out.logits.shape == (2, 4, parts)


def test_embed_any_lengths_batches_like_one_at_a_time():
    model = GaitSet(**TINY_SET).eval()
    rng = np.random.default_rng(0)
    sequences = [GaitSequence(rng.integers(0, 256, (t, 64, 64), dtype=np.uint8)) for t in (1, 5, 40, 3)]
    together = model.embed(sequences, batch_frames=16)
    assert together.shape == (4, 8, 62) and together.dtype == np.float32
    for seq, row in zip(sequences, together, strict=True):
        np.testing.assert_allclose(model.embed(seq), row, atol=1e-5)
    # the frame cap keeps a centred window
    capped = model.embed(sequences[2], max_frames=10)
    np.testing.assert_allclose(capped, model.embed(sequences[2].frames[15:25]), atol=1e-5)


def test_geinet_sees_only_the_gait_energy_image():
    """The attacker averages a clip over time first: frame order does not matter, each clip of a batch is its own."""
    torch.manual_seed(0)
    model = GEINet(**TINY_GEI).eval()
    clip = torch.rand(1, 9, 64, 44)
    with torch.no_grad():
        emb = model(clip).embeddings
        torch.testing.assert_close(model(clip[:, torch.randperm(9)]).embeddings, emb, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(model(clip.mean(1, keepdim=True)).embeddings, emb, atol=1e-5, rtol=1e-5)
        other = torch.rand(1, 4, 64, 44)
        both = model(torch.cat([clip, other], dim=1), seq_lengths=[9, 4]).embeddings
        torch.testing.assert_close(both, torch.cat([emb, model(other).embeddings]), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="do not add up"):
        model(clip, seq_lengths=[3, 3])


def test_covariate_classifier_folder_and_prediction(tmp_path):
    classifier = CovariateClassifier(in_channels=8, parts_num=62, part_channels=4, hidden=8, judge="some-judge").eval()
    classifier.save_pretrained(tmp_path)
    loaded = load_model(tmp_path)
    assert isinstance(loaded, CovariateClassifier) and loaded.config.judge == "some-judge"
    prediction = loaded.predict(np.random.default_rng(0).normal(size=(3, 8, 62)).astype(np.float32))
    assert set(prediction["view"].tolist()) <= set(loaded.config.view_angles)
    assert prediction["clothing_probability"].shape == (3, 2)


# ---------------------------------------------------------------- data and losses


def test_clip_sampling_handles_one_frame_and_long_sequences():
    rng = np.random.default_rng(0)
    one = np.full((1, 64, 44), 7, np.uint8)
    assert sample_clip(one, 30, "contiguous", rng).shape == (30, 64, 44)
    long = np.arange(300, dtype=np.int16)[:, None, None].repeat(64, 1).repeat(44, 2)
    clip = sample_clip(long, 30, "contiguous", rng)
    assert np.all(np.diff(clip[:, 0, 0].astype(int)) == 1)  # consecutive frames
    assert len(np.unique(sample_clip(long, 30, "unordered", rng)[:, 0, 0])) == 30


def test_triplet_sampler_draws_p_identities_k_each():
    subjects = ["a"] * 5 + ["b"] * 2 + ["c"] * 9
    batch = next(iter(TripletSampler(subjects, p=2, k=4, seed=0)))
    drawn = [subjects[i] for i in batch]
    assert len(batch) == 8 and len(set(drawn)) == 2 and all(drawn.count(s) == 4 for s in set(drawn))


def test_augment_keeps_shape_and_range():
    clips = torch.rand(6, 5, 64, 44)
    out = ClipAugment(rotate_prob=1, erase_prob=1, flip_prob=0.5)(clips.clone(), torch.Generator().manual_seed(0))
    assert out.shape == clips.shape and out.min() >= 0 and out.max() <= 1 and not torch.equal(out, clips)


def test_triplet_loss_is_zero_when_identities_are_far_apart():
    labels = torch.tensor([0, 0, 1, 1])
    emb = torch.tensor([0.0, 0.1, 5.0, 5.1])[:, None, None].repeat(1, 3, 2)
    loss, _ = TripletLoss(margin=0.2)(emb, labels)
    assert float(loss) == 0.0
    loss, _ = TripletLoss(margin=0.2)(emb, torch.tensor([0, 1, 0, 1]))
    assert float(loss) > 1.0
    total, logs = LossAggregator()(GaitBase(**TINY_BASE)(torch.rand(4, 3, 64, 44)), labels)
    assert total.requires_grad and {"triplet", "ce", "loss"} <= set(logs)


# ---------------------------------------------------------------- train → evaluate on real-data quirks


def test_train_resume_evaluate_embed_on_quirky_dataset(fake_casia, tmp_path):
    root, partition = fake_casia
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY_CONFIG))
    out = tmp_path / "run"
    common = ["--config", str(config), "--data", str(root), "--partition", str(partition), "--out", str(out)]
    assert studio_main(["train-recognizer", *common, "--steps", "3", "--no-progress"]) == 0
    assert studio_main(["train-recognizer", *common, "--steps", "6", "--resume", "--no-progress"]) == 0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [2, 3, 4, 6]  # the second run resumed at 3
    assert {"NM", "BG", "CL"} <= set(log[-1]["eval"])
    assert (out / "curves.png").stat().st_size > 0

    results = tmp_path / "results.json"
    weights = out / "model"
    eval_args = ["--weights", str(weights), "--data", str(root), "--partition", str(partition)]
    assert studio_main(["eval-recognizer", *eval_args, "--out", str(results), "--calibrate"]) == 0
    report = json.loads(results.read_text())
    assert len(report["skipped"]) == 1  # the truncated pkl, counted, not fatal
    assert report["sequences"] == 31  # 2 test subjects × 16 sequences − the corrupt one (the 1-frame one is kept)
    assert set(report["casia-b"]["mean"]) == {"NM", "BG", "CL"}
    assert (weights / "calibration.json").is_file()

    npz = tmp_path / "emb.npz"
    assert studio_main(["embed", "--weights", str(weights), "--data", str(root), "--out", str(npz)]) == 0
    with np.load(npz) as data:
        assert data["embeddings"].shape == (95, 16, 16) and len(data["subject"]) == 95
    reid = tmp_path / "reid.json"
    assert studio_main(["eval-recognizer", "--weights", str(weights), "--embeddings", str(npz), "--out", str(reid),
                        "--protocol", "reid"]) == 0  # fmt: skip
    assert 0 <= json.loads(reid.read_text())["reid"]["mINP"] <= 100


def test_covariate_classifier_trains_on_judge_features(fake_casia, tmp_path):
    root, partition = fake_casia
    judge = tmp_path / "judge"
    GaitSet(**TINY_SET).save_pretrained(judge)
    config = tmp_path / "cov.json"
    config.write_text(json.dumps({"model": {"type": "CovariateClassifier", "view_angles": [0, 90], "hidden": 16},
                                  "steps": 30, "frames": 10, "bf16": False}))  # fmt: skip
    out = tmp_path / "cov"
    args = ["train-recognizer", "--config", str(config), "--data", str(root), "--partition", str(partition)]
    assert studio_main([*args, "--out", str(out), "--judge", str(judge), "--no-progress"]) == 0
    scores = json.loads((out / "results.json").read_text())["test"]
    assert {"view_within_tolerance", "clothing", "carrying"} <= set(scores)
    assert load_model(out / "model").config.judge == str(judge)


def test_bundled_weights_load_without_arguments():
    import recognizers
    from recognizers.calibration import load_calibration

    clip = np.zeros((30, 64, 64), np.uint8)
    clip[:, 10:60, 25:40] = 255
    conditioner, judge = recognizers.load_conditioner(), recognizers.load_judge()
    assert isinstance(conditioner, GaitBase) and isinstance(judge, GaitSet)
    assert conditioner.embed(clip).ndim == 2
    features = judge.embed(clip)
    classifier = recognizers.load_covariate_classifier()
    assert classifier.config.judge == recognizers.JUDGE  # it reads the judge's features, not the conditioner's
    assert classifier.predict(features[None])["view"].shape == (1,)
    attacker = recognizers.load_attacker()  # never consulted by the anonymizer: another architecture and seed
    assert isinstance(attacker, GEINet) and attacker.embed(clip).shape == (64, 31)
    assert attacker.config.class_num == 74  # trained on the 74 walker training subjects
    for name in (recognizers.CONDITIONER, recognizers.JUDGE, recognizers.ATTACKER):
        calibration = load_calibration(recognizers.resolve_weights(name))
        assert calibration["far"] == pytest.approx(0.01, abs=0.002) and calibration["threshold"] > 0
