"""Novelty of synthetic people (judge reference templates), `studio synthesize`, and the
augmentation experiment's training / scoring / resume on a tiny walker set."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from evaluation.fidelity import novelty_report
from evaluation.novelty import ReferenceTemplates
from gaitdata.opengait import load_opengait
from gaitdata.walkers import render_walker_dataset
from recognizers import GaitSet
from studio.cli import main as studio_main
from studio.jobs.augmentation_experiment import run_augmentation_experiment

CONDITIONS = ["nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "nm-06", "bg-01", "bg-02", "cl-01", "cl-02"]


@pytest.fixture(scope="module")
def walkers(tmp_path_factory):
    """6 walkers (4 train, 2 test) × CASIA-B's ten conditions × 2 views, 20–24 frames."""
    root = tmp_path_factory.mktemp("walkers")
    render_walker_dataset(root, 6, CONDITIONS, ["000", "090"], frames=(20, 24), seed=5, workers=1)
    partition = root / "partition.json"
    partition.write_text(json.dumps({"TRAIN_SET": ["001", "002", "003", "004"], "TEST_SET": ["005", "006"]}))
    return root, partition


def _clustered_embeddings(subjects: int, clips: int, rng, spread: float = 0.05):
    centres = rng.standard_normal((subjects, 16, 8))  # 128 dims: random people are far apart
    emb = np.repeat(centres, clips, axis=0) + spread * rng.standard_normal((subjects * clips, 16, 8))
    ids = np.repeat([f"s{i}" for i in range(subjects)], clips)
    return emb.astype(np.float32), ids


def test_reference_templates_tell_known_people_from_new_ones(tmp_path):
    rng = np.random.default_rng(0)
    emb, ids = _clustered_embeddings(40, 4, rng)
    split = np.tile([True, True, False, False], 40)
    refs = ReferenceTemplates.from_embeddings(emb, ids, split, source="synthetic clusters")
    refs.save(tmp_path)
    loaded = ReferenceTemplates.load(tmp_path)
    assert loaded.subjects == refs.subjects and loaded.threshold == pytest.approx(refs.threshold)

    # new clips of a KNOWN person (s3) and of two new people
    known = emb[ids == "s3"] + 0.05 * rng.standard_normal((4, 16, 8)).astype(np.float32)
    # (a random person beats a FAR-1% threshold against 40 known ones 1 - 0.99^40 = 33% of the time;
    # this seed's two stay 0.03 below it)
    new, _ = _clustered_embeddings(2, 4, np.random.default_rng(104))
    report = loaded.check(np.concatenate([known, new]), ["copy"] * 4 + ["new-a"] * 4 + ["new-b"] * 4)
    assert report["per_identity"]["copy"] == {
        **report["per_identity"]["copy"],
        "nearest_known": "s3",
        "distinct": False,
    }
    assert report["per_identity"]["new-a"]["distinct"] and report["per_identity"]["new-b"]["distinct"]
    assert report["distinct"] == 2 and report["self_rank1"] == 100.0


def test_reference_templates_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="reference_templates.safetensors"):
        ReferenceTemplates.load(tmp_path)


def test_synthesized_people_carry_the_judges_verdict(walkers, tmp_path):
    from generators import load_generator
    from studio.jobs.synthesize import synthesize_dataset

    root, _ = walkers
    judge_dir = tmp_path / "judge"
    GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4, stem_stride=2, pool_stage2=False).save_pretrained(
        judge_dir
    )
    out = tmp_path / "eval.json"
    assert studio_main(["eval-recognizer", "--weights", str(judge_dir), "--data", str(root), "--out", str(out),
                        "--reference-templates"]) == 0  # fmt: skip
    refs = ReferenceTemplates.load(judge_dir)
    assert len(refs.subjects) == 6 and json.loads(out.read_text())["reference_templates"]["subjects"] == 6

    manifest = synthesize_dataset(
        load_generator(), tmp_path / "novel", 2, ["000", "090"], ["nm"], steps=2, num_frames=16,
        judge=GaitSet.from_pretrained(judge_dir), references=refs,
    )  # fmt: skip
    assert manifest["novelty"]["identities"] == 2
    for identity in manifest["identities"]:
        verdict = identity["novelty"]
        assert verdict["nearest_known"] in refs.subjects
        assert verdict["distinct"] == (verdict["similarity"] < refs.threshold)
    assert json.loads((tmp_path / "novel" / "manifest.json").read_text())["novelty"] == manifest["novelty"]


def test_person_noise_shares_the_asked_part_of_its_variance():
    from generators import load_generator

    pipeline = load_generator()
    same = pipeline.person_noise(3, 16, seed=1, share=1.0)
    assert torch.equal(same[0], same[1]) and torch.equal(same[0], same[2])
    mixed = pipeline.person_noise(400, 16, seed=1, share=0.9)
    assert mixed.std().item() == pytest.approx(1.0, abs=0.03)  # still the sampler's unit noise
    flat = mixed.flatten(1)
    corr = np.corrcoef(flat[:40].numpy())[np.triu_indices(40, 1)]
    assert corr.mean() == pytest.approx(0.9, abs=0.05)
    assert not torch.equal(pipeline.person_noise(2, 16, seed=2), pipeline.person_noise(2, 16, seed=3))
    with pytest.raises(ValueError, match="share must be within 0–1"):
        pipeline.person_noise(2, 16, share=1.5)


def test_clips_of_one_synthesized_person_are_one_person_to_the_bundled_judge(tmp_path):
    """What a user of `studio synthesize` relies on: the bundled judge (never the conditioner)
    groups each novel person's clips across views and clothing, far above chance."""
    from generators import load_generator
    from recognizers import load_judge
    from studio.jobs.synthesize import synthesize_dataset

    pipeline, judge = load_generator(), load_judge()
    views = ["018", "054", "090", "126", "162"]
    consistency = {}
    for share in (0.0, 1.0):
        manifest = synthesize_dataset(pipeline, tmp_path / f"share-{share}", 6, views, ["nm", "cl"], steps=10,
                                      identity_noise=share)  # fmt: skip
        assert manifest["settings"]["identity_noise"] == share
        clips, _ = load_opengait(tmp_path / f"share-{share}")
        assert len(clips) == 6 * len(views) * 2
        ids = np.array([clip.subject for clip in clips])
        embeddings = judge.embed(clips, bf16=True)
        # (the known-people side of the report is not what this test is about)
        consistency[share] = novelty_report(embeddings, ids, embeddings[:1], ["known"], 1.0)
    # chance is 1 in 6 (17%); one clip's own noise each leaves people less consistent
    assert consistency[1.0]["self_rank1"] >= 90, consistency
    assert consistency[1.0]["self_rank1"] > consistency[0.0]["self_rank1"] + 5, consistency


def test_studio_synthesize_checks_novel_people_with_the_bundled_judge(tmp_path):
    out = tmp_path / "novel"
    assert studio_main(["synthesize", "--out", str(out), "--novel-ids", "2", "--views", "000,090", "--conditions",
                        "nm", "--steps", "2", "--frames", "16", "--no-progress"]) == 0  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["sequences"]) == 4 and manifest["novelty"]["identities"] == 2
    assert all("distinct" in identity["novelty"] for identity in manifest["identities"])
    assert json.loads((out / "partition.json").read_text())["TRAIN_SET"] == ["novel-001", "novel-002"]


TINY_EXPERIMENT = {
    "recognizer": {
        "model": {"type": "GaitBase", "channels": [8, 16], "strides": [2, 1], "stem_channels": 8, "embedding_dim": 16},
        "sampler": {"p": 4, "k": 2, "frames": 10},
        "optimizer": {"type": "adamw", "lr": 0.003},
        "trainer": {"total_steps": 4, "log_every": 2, "save_every": 2, "seed": 0},
    },
    "edit": {},
    "novel": {},
    "evaluation": {"max_frames": 20},
}


def test_experiment_baseline_arm_trains_without_the_withheld_condition_and_resumes(walkers, tmp_path):
    root, partition = walkers
    out = tmp_path / "experiment"
    results = run_augmentation_experiment(root, partition, out, TINY_EXPERIMENT, arms=("real",), progress=False)
    arm = results["settings"]["no-cl"]["arms"]["real"]
    run = arm["runs"][0]
    assert run["training_subjects"] == 4
    assert run["training_sequences"] == 4 * 8 * 2  # every condition but cl-01 / cl-02
    assert set(arm["mean"]) == {"NM", "BG", "CL"} and all(0 <= v <= 100 for v in arm["mean"].values())
    assert arm["gain_over_real"] == {"NM": 0.0, "BG": 0.0, "CL": 0.0}
    assert "| real |" in (out / "results.md").read_text()

    # a rerun finds the finished arm and does not train it again
    again = run_augmentation_experiment(root, partition, out, TINY_EXPERIMENT, arms=("real",), progress=False)
    assert again["settings"]["no-cl"]["arms"]["real"]["runs"][0] == run


def test_experiment_table_gathers_runs_of_separate_invocations(walkers, tmp_path):
    """Seeds and settings run as separate jobs (one per core) end in one table, paired by seed."""
    root, partition = walkers
    out = tmp_path / "experiment"
    run_augmentation_experiment(root, partition, out, TINY_EXPERIMENT, arms=("real",), seeds=(0,), progress=False)
    run_augmentation_experiment(root, partition, out, TINY_EXPERIMENT, arms=("real",), seeds=(1,), progress=False)
    results = run_augmentation_experiment(
        root, partition, out, TINY_EXPERIMENT, settings=("no-bg",), arms=("real",), seeds=(0,), progress=False
    )
    assert set(results["settings"]) == {"no-cl", "no-bg"} and results["seeds"] == [0, 1]
    no_cl = results["settings"]["no-cl"]["arms"]["real"]
    assert [r["seed"] for r in no_cl["runs"]] == [0, 1]
    for k in ("NM", "BG", "CL"):
        assert no_cl["mean"][k] == pytest.approx(np.mean([r["rank1"][k] for r in no_cl["runs"]]), abs=0.01)
    assert no_cl["paired_gain_over_real"] == {"NM": [0.0, 0.0], "BG": [0.0, 0.0], "CL": [0.0, 0.0]}
    no_bg = results["settings"]["no-bg"]["arms"]["real"]["runs"][0]
    assert no_bg["training_sequences"] == 4 * 8 * 2  # every condition but bg-01 / bg-02
    table = (out / "results.md").read_text()
    assert "### no-cl" in table and "### no-bg" in table and "| real | 0, 1 |" in table

    # another budget in the same folder would mix budgets in one table: refused, naming the run
    with pytest.raises(ValueError, match="seed-0: holds a run of 4 steps"):
        run_augmentation_experiment(root, partition, out, TINY_EXPERIMENT, arms=("real",), steps=2, progress=False)


def test_walker_pretrained_arm_fine_tunes_from_the_given_weights(walkers, tmp_path):
    from recognizers.training import build_recognizer

    root, partition = walkers
    pretrained = tmp_path / "pretrained"
    build_recognizer(TINY_EXPERIMENT["recognizer"]["model"], class_num=7).save_pretrained(pretrained)
    config = {**TINY_EXPERIMENT, "pretrained": str(pretrained)}
    out = tmp_path / "experiment"
    results = run_augmentation_experiment(root, partition, out, config, arms=("real", "walker-pretrained"),
                                          progress=False)  # fmt: skip
    arms = results["settings"]["no-cl"]["arms"]
    run = arms["walker-pretrained"]["runs"][0]
    assert run["init"] == str(pretrained) and run["training_sequences"] == arms["real"]["runs"][0]["training_sequences"]
    assert set(arms["walker-pretrained"]["gain_over_real"]) == {"NM", "BG", "CL"}
    assert "| walker-pretrained |" in (out / "results.md").read_text()
    other = {**TINY_EXPERIMENT, "pretrained": "gaitset-walkers"}  # another architecture: refused by name
    with pytest.raises(ValueError, match="gaitset-walkers is a GaitSet"):
        run_augmentation_experiment(root, partition, tmp_path / "bad", other, arms=("walker-pretrained",),
                                    progress=False)  # fmt: skip


def test_an_arm_with_fewer_seeds_is_compared_on_the_seeds_both_ran():
    from studio.jobs.augmentation_experiment import _add_gains

    def arm(*runs):
        runs = [{"seed": seed, "rank1": {"NM": nm, "BG": 0.0, "CL": cl}} for seed, nm, cl in runs]
        return {"runs": runs, "mean": {k: float(np.mean([r["rank1"][k] for r in runs])) for k in ("NM", "BG", "CL")}}

    arms = {"real": arm((0, 90.0, 20.0), (1, 92.0, 30.0)), "real+edited": arm((0, 89.0, 35.0))}
    _add_gains(arms)
    assert arms["real+edited"]["gain_over_real"] == {"NM": -1.0, "BG": 0.0, "CL": 15.0}  # vs seed 0, not the mean
    assert arms["real+edited"]["paired_gain_over_real"]["CL"] == [15.0]


def test_experiment_refuses_bad_settings_and_writing_into_the_data(walkers, tmp_path):
    root, partition = walkers
    with pytest.raises(ValueError, match="unknown setting"):
        run_augmentation_experiment(root, partition, tmp_path / "x", TINY_EXPERIMENT, settings=("no-nm",))
    with pytest.raises(ValueError):
        run_augmentation_experiment(root, partition, root / "experiment", TINY_EXPERIMENT, arms=("real",))


def test_novel_identities_are_pushed_where_asked():
    from generators import load_generator
    from generators.identity_selection import nearest_known_similarity
    from studio.jobs.synthesize import novel_identities

    pipeline = load_generator()
    known = pipeline.identity_bank.embeddings
    standardized, info = novel_identities(pipeline, 8, seed=1)
    raw, _ = novel_identities(pipeline, 8, seed=1, space="raw")
    assert not np.allclose(standardized, raw) and all(i["source"] == "identity_bank" for i in info)
    # where the denoiser reads identities, the standardised ones stand farther from everyone known
    near = {name: nearest_known_similarity(e, known, pipeline.denoiser).mean() for name, e in
            (("standardized", standardized), ("raw", raw))}  # fmt: skip
    assert near["standardized"] < near["raw"], near
    with pytest.raises(ValueError, match="space must be 'standardized' or 'raw', got 'pixels'"):
        novel_identities(pipeline, 1, space="pixels")


def test_a_bad_push_is_refused_before_any_folder_is_made(tmp_path):
    out = tmp_path / "novel"
    assert studio_main(["synthesize", "--out", str(out), "--novel-ids", "2", "--views", "090", "--steps", "2",
                        "--novel-push", "-3", "--no-progress"]) == 2  # fmt: skip
    assert not out.exists()
