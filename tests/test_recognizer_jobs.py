"""Recognizer jobs as library calls: train, evaluate, embed — what `studio train-recognizer`,
`eval-recognizer` and `embed` run, called directly on a tiny rendered walker dataset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gaitdata import GaitDataError, read_partition
from gaitdata.walkers.dataset import render_walker_dataset
from recognizers import GaitSet, load_model
from studio.jobs.embed_dataset import embed_dataset_to_npz
from studio.jobs.evaluate_recognizer import evaluate_recognizer_job
from studio.jobs.train_recognizer import train_recognizer_job

CONDITIONS = ["nm-01", "nm-05", "cl-01"]  # a gallery condition and two probe sets (NM, CL)
VIEWS = ["000", "090"]
TINY_GAITBASE = {
    "model": {"type": "GaitBase", "channels": [4, 8], "strides": [2, 1], "stem_channels": 4, "embedding_dim": 8},
    "sampler": {"p": 2, "k": 2, "frames": 6},
    "trainer": {"total_steps": 2, "log_every": 1, "eval_every": 0, "save_every": 0, "seed": 0},
    "evaluator": {"protocol": "casia-b", "max_frames": 10},
}
TINY_JUDGE = dict(channels=(4, 8, 8), embedding_dim=8, class_num=2)


@pytest.fixture(scope="module")
def walkers(tmp_path_factory) -> tuple[Path, Path]:
    """4 walkers (2 train, 2 test) × 3 conditions × 2 views, 8–10 frames. Returns (root, partition JSON)."""
    root = tmp_path_factory.mktemp("jobs") / "walkers"
    render_walker_dataset(root, 4, CONDITIONS, VIEWS, frames=(8, 10), workers=1)
    return root, root / "partition.json"


@pytest.fixture(scope="module")
def trained(walkers, tmp_path_factory) -> tuple[dict, Path]:
    """A 2-step GaitBase run: (the job's result, its run folder)."""
    root, partition = walkers
    out = tmp_path_factory.mktemp("jobs") / "run"
    return train_recognizer_job(TINY_GAITBASE, root, partition, out, progress=False), out


def test_train_recognizer_job_writes_a_run_folder_and_returns_its_scores(walkers, trained):
    root, partition = walkers
    result, out = trained
    assert result["kind"] == "recognizer" and result["model_type"] == "GaitBase"
    for name in ("model/config.json", "config.json", "log.jsonl", "curves.png"):
        assert (out / name).stat().st_size > 0, name
    assert result["weights"] == str(out / "model") and result["steps"] == 2
    assert result["train"]["sequences"] == 2 * len(CONDITIONS) * len(VIEWS) and result["train"]["subjects"] == 2
    assert {"NM", "BG", "CL"} == set(result["eval"])  # rank-1 of the test split, logged at the end
    assert json.loads(json.dumps(result)) == result  # JSON-ready
    assert TINY_GAITBASE["trainer"]["total_steps"] == 2  # the caller's config is copied, never changed

    resumed = train_recognizer_job(TINY_GAITBASE, root, read_partition(partition), out, steps=3, resume=True,
                                   progress=False)  # fmt: skip
    assert resumed["steps"] == 3
    with pytest.raises(FileExistsError, match="not empty"):
        train_recognizer_job(TINY_GAITBASE, root, partition, out, progress=False)


def test_a_run_of_the_checkpoint_layout_before_resumes(walkers, trained, tmp_path):
    """`checkpoints/step-N/` with "torch_rng", as runs before the one training loop wrote them."""
    import shutil

    import torch

    root, partition = walkers
    out = tmp_path / "old"
    shutil.copytree(trained[1], out)
    new = sorted((out / "checkpoints" / "recognizer").iterdir())[-1]
    state = torch.load(new / "training_state.pt", weights_only=True)
    state["torch_rng"] = state.pop("rng")["torch"]
    torch.save(state, new / "training_state.pt")
    new.rename(out / "checkpoints" / new.name)
    (out / "checkpoints" / "recognizer").rmdir()
    step = state["step"]
    resumed = train_recognizer_job(TINY_GAITBASE, root, partition, out, steps=step + 1, resume=True, progress=False)
    assert resumed["steps"] == step + 1
    assert [p.name for p in (out / "checkpoints" / "recognizer").iterdir()] == [f"step-{step + 1:06d}"]


def test_evaluate_recognizer_job_writes_what_it_returns_and_calibrates(walkers, trained, tmp_path):
    root, partition = walkers
    weights = Path(trained[0]["weights"])
    evaluation = evaluate_recognizer_job(weights, tmp_path / "eval.json", root, partition, calibrate=True,
                                         progress=False)  # fmt: skip
    assert json.loads((tmp_path / "eval.json").read_text()) == evaluation.to_dict()
    results = evaluation.results
    assert results["sequences"] == 2 * len(CONDITIONS) * len(VIEWS) and results["skipped"] == []
    assert set(results["casia-b"]["mean"]) == {"NM", "BG", "CL"} and results["metric"] == "euc"
    assert "rank-1" in evaluation.table and evaluation.read_summary.startswith("12 sequences read")
    assert (weights / "calibration.json").is_file() and results["calibration"]["threshold"] > 0


def test_embeddings_npz_feeds_another_protocol(walkers, trained, tmp_path):
    root, partition = walkers
    weights = trained[0]["weights"]
    npz = tmp_path / "train.npz"
    written = embed_dataset_to_npz(weights, root, npz, partition, split="train", max_frames=10, progress=False)
    assert written["sequences"] == 12 and written["shape"][0] == 12 and written["weights"] == weights
    with np.load(npz) as data:
        assert set(data["subject"].tolist()) == set(read_partition(partition).train)
    evaluation = evaluate_recognizer_job(weights, tmp_path / "reid.json", embeddings=npz, protocol="reid")
    assert evaluation.results["data"] == str(root)  # read from the .npz's meta
    assert evaluation.read_summary is None and 0 <= evaluation.results["reid"]["mINP"] <= 100


def test_covariate_classifier_job_scores_the_test_split(walkers, tmp_path):
    root, partition = walkers
    judge = tmp_path / "judge"
    GaitSet(**TINY_JUDGE).save_pretrained(judge)
    config = {"model": {"type": "CovariateClassifier", "view_angles": [0, 90], "hidden": 8}, "steps": 3,
              "frames": 6, "bf16": False}  # fmt: skip
    with pytest.raises(ValueError, match="needs a judge"):
        train_recognizer_job(config, root, partition, tmp_path / "none", progress=False)
    result = train_recognizer_job(config, root, partition, tmp_path / "cov", judge=judge, progress=False)
    assert result["kind"] == "covariate-classifier" and result["judge"] == str(judge)
    assert {"view_within_tolerance", "clothing", "carrying"} <= set(result["test"])
    assert json.loads(Path(result["results"]).read_text())["test"] == result["test"]
    assert load_model(result["weights"]).config.judge == str(judge)

    evaluation = evaluate_recognizer_job(result["weights"], tmp_path / "cov.json", root, partition, progress=False)
    assert evaluation.table is None and set(evaluation.results["covariates"]) == set(result["test"])


def test_bad_config_or_partition_is_refused_naming_the_file(walkers, tmp_path):
    root, partition = walkers
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ValueError, match="broken.json: not valid JSON"):
        train_recognizer_job(broken, root, partition, tmp_path / "a")
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"model": {"type": "ResNet"}}))
    with pytest.raises(ValueError, match=r"unknown.json: 'model.type' must be one of .*GaitBase.*got 'ResNet'"):
        train_recognizer_job(unknown, root, partition, tmp_path / "b")
    with pytest.raises(ValueError, match="'model.type' must be one of"):
        train_recognizer_job({"trainer": {}}, root, partition, tmp_path / "c")
    with pytest.raises(GaitDataError, match="missing.json"):
        train_recognizer_job(TINY_GAITBASE, root, tmp_path / "missing.json", tmp_path / "d")
    one_sided = tmp_path / "one_sided.json"
    one_sided.write_text(json.dumps({"TRAIN_SET": ["001"]}))
    with pytest.raises(GaitDataError, match="one_sided.json"):
        train_recognizer_job(TINY_GAITBASE, root, one_sided, tmp_path / "e")
    misspelt = tmp_path / "misspelt.json"
    misspelt.write_text(json.dumps({**TINY_GAITBASE, "transform": {"morf_prob": 0.3}}))
    with pytest.raises(ValueError, match="misspelt.json: bad 'transform' section: .*morf_prob"):
        train_recognizer_job(misspelt, root, partition, tmp_path / "f")
    with pytest.raises(ValueError, match="transform.blur_prob must be a probability"):
        train_recognizer_job({**TINY_GAITBASE, "transform": {"blur_prob": 2}}, root, partition, tmp_path / "g")
    assert not any((tmp_path / name).exists() for name in "abcdefg")  # refused before any work


def test_evaluate_recognizer_job_refuses_missing_inputs_before_any_work(tmp_path):
    judge = tmp_path / "judge"
    GaitSet(**TINY_JUDGE).save_pretrained(judge)
    with pytest.raises(ValueError, match="--data .* or --embeddings"):
        evaluate_recognizer_job(judge, tmp_path / "out.json")
    with pytest.raises(ValueError, match="protocol must be 'casia-b' or 'reid'"):
        evaluate_recognizer_job(judge, tmp_path / "out.json", tmp_path, protocol="lfw")
    with pytest.raises(FileNotFoundError, match="no model folder"):
        evaluate_recognizer_job(tmp_path / "nowhere", tmp_path / "out.json", tmp_path)
    with pytest.raises(ValueError, match="split must be one of"):
        embed_dataset_to_npz(judge, tmp_path, tmp_path / "out.npz", split="validation")
    assert not (tmp_path / "out.json").exists()


def test_fine_tuning_starts_from_trained_weights_with_a_new_head(walkers, trained, tmp_path):
    """Walker pretraining for a user's data: every weight but the classifier head comes from the
    trained model; the head is sized for the new subjects."""
    import torch

    from recognizers import load_recognizer
    from recognizers.training import build_recognizer, initialise_from

    root, _ = walkers
    pretrained = load_recognizer(trained[0]["weights"])  # 2 training subjects
    model = build_recognizer(TINY_GAITBASE["model"], class_num=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    head = initialise_from(model, TINY_GAITBASE["model"], pretrained, "run")
    assert head  # the class_num-sized weights
    for name, value in model.state_dict().items():
        if name in head:
            assert torch.equal(value, before[name]), name  # left freshly initialised
        else:
            assert torch.equal(value, pretrained.state_dict()[name]), name

    subjects = sorted(p.name for p in root.iterdir() if p.is_dir())
    three = tmp_path / "three.json"
    three.write_text(json.dumps({"TRAIN_SET": subjects[:3], "TEST_SET": subjects[3:]}))
    result = train_recognizer_job(TINY_GAITBASE, root, three, tmp_path / "tuned", steps=1, init=trained[0]["weights"],
                                  progress=False)  # fmt: skip
    assert result["init"] == trained[0]["weights"]
    assert load_model(result["weights"]).config.class_num == 3
    assert json.loads((tmp_path / "tuned" / "config.json").read_text())["trainer"]["init"] == trained[0]["weights"]


def test_fine_tuning_from_another_architecture_names_both(walkers, trained, tmp_path):
    root, partition = walkers
    wider = {**TINY_GAITBASE, "model": {**TINY_GAITBASE["model"], "embedding_dim": 16}}
    with pytest.raises(
        ValueError, match=r"is a GaitBase\(.*embedding_dim=8.*config builds a GaitBase\(.*embedding_dim=16"
    ):
        train_recognizer_job(wider, root, partition, tmp_path / "wider", init=trained[0]["weights"], progress=False)
    judge = GaitSet(**TINY_JUDGE)
    judge.save_pretrained(tmp_path / "judge")
    with pytest.raises(ValueError, match=r"is a GaitSet\(.*config builds a GaitBase"):
        train_recognizer_job(
            TINY_GAITBASE, root, partition, tmp_path / "other", init=tmp_path / "judge", progress=False
        )
    assert not (tmp_path / "wider").exists() and not (tmp_path / "other").exists()


def test_domain_augmentation_config_trains(walkers, tmp_path):
    """The shipped domain-augmentation config's `transform` section is one the trainer accepts."""
    root, partition = walkers
    shipped = json.loads((Path(__file__).parents[1] / "configs/recognizers/gaitbase_calibrated_domain.json").read_text())
    config = {**TINY_GAITBASE, "transform": shipped["transform"]}
    assert shipped["transform"]["morph_prob"] > 0 and shipped["transform"]["edge_noise_prob"] > 0
    result = train_recognizer_job(config, root, partition, tmp_path / "run", progress=False)
    logged = [json.loads(line) for line in (tmp_path / "run/log.jsonl").read_text().splitlines()]
    assert result["steps"] == 2 and all(np.isfinite(r["loss"]) for r in logged if "loss" in r)
