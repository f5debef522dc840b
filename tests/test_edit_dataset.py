"""Batch editing, anonymization and augmentation keep their promises to a user with a dataset.

The bundled generator edits a tiny rendered walker dataset with 2–4 sampler steps (behaviour, not
quality). The judge is the bundled one when it is installed, else a freshly initialised small
GaitSet with a hand-made calibration: no assertion here depends on how good the judge is.
"""

import json

import numpy as np
import pytest
import torch

from gaitdata import load_opengait, read_partition, read_sequence, scan_opengait
from gaitdata.safe_pickle import dump_array_pickle
from gaitdata.walkers.dataset import render_walker_dataset
from generators.conditions import covariates_from_condition
from generators.editor import MIN_FRAMES, GaitEditor
from recognizers import WEIGHTS_DIR, GaitSet
from recognizers.covariates import covariate_targets
from recognizers.data import TripletSampler, load_clip_store
from studio.cli import main
from studio.jobs import edit_dataset as batch
from studio.jobs.edit_dataset import anonymize_dataset, augment_dataset, clip_seed, edit_dataset

STEPS = 2
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def editor():
    """The bundled generator with the bundled judge (or a small stand-in until it is installed)."""
    if (WEIGHTS_DIR / "gaitset-walkers" / "calibration.json").is_file():
        return batch.load_editor(with_judge=True)
    edit_only = batch.load_editor(with_judge=False)
    torch.manual_seed(0)
    judge = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
    calibration = {"metric": "euc", "threshold": 0.05, "far": 0.01}
    return GaitEditor(edit_only.pipeline, bank=edit_only.bank, judge=judge, calibration=calibration)


@pytest.fixture
def walkers(tmp_path):
    """3 subjects (001, 002 train; 003 test) × nm-01, cl-01 × 000, 090: 12 clips of 16–20 frames."""
    root = tmp_path / "walkers"
    render_walker_dataset(root, 3, ["nm-01", "cl-01"], ["000", "090"], frames=(MIN_FRAMES, 20), seed=3, workers=1)
    return root


def _rows(out):
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


class CountingEditor:
    """The editor, noting the batches it is asked to make (to see what a resumed job redoes)."""

    def __init__(self, editor):
        self._editor, self.calls = editor, []

    def __getattr__(self, name):
        return getattr(self._editor, name)

    def edit_many(self, sequences, **kwargs):
        self.calls.append([s.key for s in sequences])
        return self._editor.edit_many(sequences, **kwargs)


def _files(root):
    """Every file under `root` but the summary (which holds timings) → its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and p.name != "manifest.json"}  # fmt: skip


def test_the_output_is_never_inside_the_input(editor, walkers):
    before = sorted(p.relative_to(walkers) for p in walkers.rglob("*"))
    for out in (walkers, walkers / "edited", walkers / "001" / "edited"):
        with pytest.raises(ValueError, match="overlaps the input"):
            edit_dataset(editor, walkers, out, clothing="coat", steps=STEPS)
    clip = walkers / "001" / "nm-01" / "090" / "090.pkl"
    with pytest.raises(ValueError, match="overlaps the input"):
        anonymize_dataset(editor, clip, clip.parent, steps=STEPS)
    with pytest.raises(ValueError, match="overlaps the input"):
        augment_dataset(editor, walkers, walkers / "partition.json", walkers / "aug", steps=STEPS)
    assert sorted(p.relative_to(walkers) for p in walkers.rglob("*")) == before


def test_edit_writes_a_dataset_with_a_manifest_row_per_clip(editor, walkers, tmp_path):
    out = tmp_path / "edited"
    calls = []
    manifest = edit_dataset(
        editor, walkers, out, clothing="coat", strength=0.6, steps=STEPS, progress=lambda *a: calls.append(a)
    )
    assert calls[0] == (0, 12) and calls[-1] == (12, 12)
    counts = manifest["counts"]
    assert (counts["clips"], counts["written"], counts["skipped"], counts["resumed"]) == (12, 12, 0, 0)
    assert json.loads((out / "manifest.json").read_text())["counts"] == manifest["counts"]
    assert len(_rows(out)) == 12
    sequences, report = load_opengait(out)
    assert len(sequences) == 12 and not report.skipped
    by_output = {row["output"]: row for row in manifest["sequences"]}
    for seq in sequences:
        row = by_output[f"{seq.subject}/{seq.condition}/{seq.view}/{seq.view}.pkl"]
        source = read_sequence(walkers / row["source"])
        assert seq.condition == f"cl-gen-{source.condition}" and seq.view == source.view
        assert covariates_from_condition(seq.condition).clothing == "coat"
        assert row["frames"] == seq.num_frames == source.num_frames
        assert row["seed"] == clip_seed(0, *source.key, "")
        assert row["target"]["clothing"] == "coat"
        assert -1.0 <= row["scores"]["identity"]["cosine"] <= 1.0
        assert isinstance(row["scores"]["identity"]["same_person"], bool)


def test_an_edit_of_the_view_names_the_source_view_so_clips_never_collide(editor, walkers, tmp_path):
    manifest = edit_dataset(editor, walkers, tmp_path / "edited", view="036", subjects=["001"], steps=STEPS)
    outputs = sorted(row["output"] for row in manifest["sequences"])
    assert outputs == [
        "001/cl-gen-cl-01-000/036/036.pkl",
        "001/cl-gen-cl-01-090/036/036.pkl",
        "001/nm-gen-nm-01-000/036/036.pkl",
        "001/nm-gen-nm-01-090/036/036.pkl",
    ]


def test_unreadable_and_too_short_clips_are_skipped_and_counted_by_name(editor, walkers, tmp_path):
    (walkers / "002" / "nm-01" / "000" / "000.pkl").write_bytes(b"this is not a pickle")
    with open(walkers / "002" / "cl-01" / "090" / "090.pkl", "wb") as f:
        dump_array_pickle(np.zeros((MIN_FRAMES - 1, 64, 64), np.uint8), f)
    manifest = anonymize_dataset(editor, walkers, tmp_path / "anon", steps=STEPS, max_attempts=1)
    assert manifest["counts"]["skipped"] == 2 and manifest["counts"]["written"] == 10
    reasons = {row["source"]: row["reason"] for row in manifest["skipped"]}
    assert set(reasons) == {"002/nm-01/000", "002/cl-01/090"}
    assert reasons["002/nm-01/000"].startswith("unreadable")
    assert reasons["002/cl-01/090"] == f"too short: {MIN_FRAMES - 1} frames, at least {MIN_FRAMES} are needed"
    assert not (tmp_path / "anon" / "anon-002" / "nm-01" / "000").exists()


def test_a_killed_job_resumes_without_redoing_finished_batches(editor, walkers, tmp_path):
    out = tmp_path / "edited"

    def killed_after_five(done, total):
        if done == 5:
            raise KeyboardInterrupt

    # batch_clips=4: each subject's 4 clips are one batch
    first = CountingEditor(editor)
    with pytest.raises(KeyboardInterrupt):
        edit_dataset(first, walkers, out, carrying="bag", steps=STEPS, batch_clips=4, progress=killed_after_five)
    assert [{key[0] for key in batch} for batch in first.calls] == [{"001"}, {"002"}] and len(_rows(out)) == 5
    assert json.loads((out / "manifest.json").read_text())["status"] == "running"
    with open(out / "manifest.jsonl", "a") as f:
        f.write('{"source": "001/nm-0')  # the half-written row of a kill mid-write

    with pytest.raises(ValueError, match="other settings"):
        edit_dataset(editor, walkers, out, carrying="bag", steps=STEPS + 1, batch_clips=4)
    second = CountingEditor(editor)
    manifest = edit_dataset(second, walkers, out, carrying="bag", steps=STEPS, batch_clips=4)
    # 002's batch is made again whole (a clip's pixels depend on its batch); only its 3 missing clips are written
    assert [{key[0] for key in batch} for batch in second.calls] == [{"002"}, {"003"}]
    counts = manifest["counts"]
    assert (counts["written"], counts["resumed"], counts["written_this_run"]) == (12, 5, 7)
    assert manifest["status"] == "complete" and len(manifest["sequences"]) == 12
    assert sorted(r["output"] for r in _rows(out)) == sorted(r["output"] for r in manifest["sequences"])

    # the same bytes (clips and rows) as an uninterrupted run
    whole = tmp_path / "whole"
    edit_dataset(editor, walkers, whole, carrying="bag", steps=STEPS, batch_clips=4)
    assert _files(out) == _files(whole)
    # a clip's result depends on its batch only: a fresh run of one subject writes the same clips
    alone = edit_dataset(editor, walkers, tmp_path / "alone", carrying="bag", steps=STEPS, subjects=["002"])
    for row in alone["sequences"]:
        a, b = read_sequence(tmp_path / "alone" / row["output"]), read_sequence(out / row["output"])
        np.testing.assert_array_equal(a.frames, b.frames)


def test_augment_writes_a_partition_and_conditions_the_trainer_reads(editor, walkers, tmp_path):
    out = tmp_path / "augmented"
    manifest = augment_dataset(
        editor,
        walkers,
        walkers / "partition.json",
        out,
        add_conditions="cl,bg",
        views=["090"],
        steps=STEPS,
        include_real=True,
    )
    train = read_partition(walkers / "partition.json").train
    assert read_partition(out / "partition.json").train == sorted(train) == manifest["subjects"]
    assert read_partition(out / "partition.json").test == []
    store = load_clip_store(out, subjects=train, progress=False)
    generated = sorted(c for c in store.conditions if "-gen-" in c)
    assert generated == ["bg-gen-nm-01", "bg-gen-nm-01", "cl-gen-nm-01", "cl-gen-nm-01"]
    assert sorted(c for c in store.conditions if "-gen-" not in c) == ["cl-01", "cl-01", "nm-01", "nm-01"]
    assert set(store.views) == {"090"} and not store.report.skipped
    assert manifest["counts"]["real_copied"] == 4 and manifest["counts"]["written"] == 8
    # the trainer's sampler, the covariate classifier's labels and the condition filter read the names
    TripletSampler(store.subjects, p=2, k=2)
    targets = covariate_targets(store.conditions, store.views, (0, 90), ("normal", "coat"), ("none", "bag"))
    coat = [c.startswith("cl") for c in store.conditions]
    np.testing.assert_array_equal(targets["clothing"], np.asarray(coat, int))
    assert len(scan_opengait(out, conditions=["cl"])) == 4  # cl-01 and cl-gen-nm-01 of both subjects


def test_anonymize_flags_every_leak_and_counts_it(editor, walkers, tmp_path):
    def with_threshold(threshold):
        return GaitEditor(editor.pipeline, editor.bank, editor.judge, {**editor.calibration, "threshold": threshold})

    # a threshold no distance exceeds: the judge "recognises" everybody, so every clip must be flagged
    leaky = anonymize_dataset(
        with_threshold(1e6), walkers, tmp_path / "leaky", steps=STEPS, views=["090"], max_attempts=2
    )
    assert leaky["counts"]["leaks"] == leaky["counts"]["written"] == 6 and leaky["counts"]["anonymous"] == 0
    assert sorted(leaky["leaking"]) == sorted(row["output"] for row in leaky["sequences"])
    assert all(row["leaks"] and row["attempts"] == 2 for row in leaky["sequences"])
    # a threshold no distance reaches: nothing leaks
    clean = anonymize_dataset(with_threshold(-1.0), walkers, tmp_path / "clean", steps=STEPS, views=["090"])
    assert clean["counts"]["leaks"] == 0 and clean["counts"]["anonymous"] == 6 and clean["leaking"] == []
    row = clean["sequences"][0]
    assert row["subject"] == "anon-" + row["source"].split("/")[0] and row["attempts"] == 1
    assert row["judge_distance"] > row["threshold"] == -1.0


def test_anonymize_makes_each_source_person_one_new_person_across_batches(editor, walkers, tmp_path, monkeypatch):
    """A person split over batches (batch_clips 3 < their 4 clips) keeps one pseudonym: the same
    seed and the same anchor (their first clip) in every batch."""
    seen = []
    anonymize_many = GaitEditor.anonymize_many

    def spy(self, sequences, *args, people=None, **kwargs):
        seen.extend((s.subject, p.seed, p.anchor.key) for s, p in zip(sequences, people))
        return anonymize_many(self, sequences, *args, people=people, **kwargs)

    monkeypatch.setattr(GaitEditor, "anonymize_many", spy)
    manifest = anonymize_dataset(editor, walkers, tmp_path / "anon", steps=STEPS, batch_clips=3)
    assert manifest["counts"]["written"] == 12
    by_subject = {}
    for subject, seed, anchor in seen:
        by_subject.setdefault(subject, set()).add((seed, anchor))
    assert sorted(by_subject) == ["001", "002", "003"]
    assert all(len(pseudonyms) == 1 for pseudonyms in by_subject.values())  # attempt 1 of each clip
    assert len({next(iter(p))[0] for p in by_subject.values()}) == 3
    assert manifest["settings"]["people"] == "one new person per source person"


def test_anonymize_embeds_each_source_and_each_result_once(editor, walkers, tmp_path):
    """The judge is the job's costliest reader: the retry policy's embeddings are the scores'."""
    embedded = []

    class CountingJudge:
        def __getattr__(self, name):
            return getattr(editor.judge, name)

        def embed(self, sequences, **kwargs):
            embedded.extend(sequences)
            return editor.judge.embed(sequences, **kwargs)

    calibration = {**editor.calibration, "threshold": -1.0}  # nothing leaks: one attempt per clip
    counting = GaitEditor(editor.pipeline, editor.bank, CountingJudge(), calibration)
    manifest = anonymize_dataset(counting, walkers, tmp_path / "anon", steps=STEPS, views=["090"])
    assert manifest["counts"]["written"] == 6 and len(embedded) == 12


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda e, d, o: edit_dataset(e, d, o), "nothing to edit"),
        (lambda e, d, o: edit_dataset(e, d, o, clothing="coat", strength=1.5), r"strength must lie in \[0, 1\]"),
        (lambda e, d, o: edit_dataset(e, d, o, clothing="tuxedo"), "unknown clothing"),
        (lambda e, d, o: anonymize_dataset(e, d, o, strength=0.0), "strength 0"),
        (lambda e, d, o: anonymize_dataset(e, d, o, subjects=["999"]), r"no sequence folders .* of subjects \['999'\]"),
        (lambda e, d, o: augment_dataset(e, d, d / "partition.json", o, add_conditions="xx"), "add_conditions"),
    ],
)
def test_bad_requests_say_what_is_wrong_and_write_nothing(editor, walkers, tmp_path, call, message):
    with pytest.raises(ValueError, match=message):
        call(editor, walkers, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_edits_one_clip_and_anonymizes_with_a_summary(editor, walkers, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(batch, "load_editor", lambda with_judge=True, generator=None: editor)
    clip = walkers / "003" / "nm-01" / "000" / "000.pkl"
    out = tmp_path / "one"
    assert main(["edit", str(clip), "--out", str(out), "--clothing", "coat", "--steps", "2", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "1 of 1 clips edited" in printed and f"manifest: {out / 'manifest.json'}" in printed
    assert [s.key for s in load_opengait(out)[0]] == [("003", "cl-gen-nm-01", "000")]
    assert main(["anonymize", str(walkers), "--out", str(walkers / "anon"), "--steps", "2"]) == 2
    assert "overlaps the input" in capsys.readouterr().err


def test_a_clip_outside_any_dataset_is_named_after_its_file(editor, walkers, tmp_path):
    loose = tmp_path / "downloads" / "walk.pkl"
    loose.parent.mkdir()
    loose.write_bytes((walkers / "001" / "nm-01" / "090" / "090.pkl").read_bytes())
    manifest = edit_dataset(editor, loose, tmp_path / "out", clothing="cl", steps=STEPS)
    assert [row["output"] for row in manifest["sequences"]] == ["walk/cl-gen-unknown/unknown/unknown.pkl"]
    assert manifest["sequences"][0]["source"] == "walk.pkl" and manifest["settings"]["input_kind"] == "clip"


def test_an_empty_clip_is_skipped_and_counted_not_fatal(editor, walkers, tmp_path):
    """A clip with no body in it stops nothing: it is skipped with the reason, the rest is made."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(walkers / "001", data / "001")
    with open(data / "001" / "nm-01" / "090" / "090.pkl", "wb") as f:
        dump_array_pickle(np.zeros((40, 64, 64), np.uint8), f)
    manifest = anonymize_dataset(editor, data, tmp_path / "anon", steps=STEPS, max_attempts=1)
    assert manifest["counts"]["skipped"] == 1 and manifest["counts"]["written"] >= 1
    (row,) = manifest["skipped"]
    assert row["source"] == "001/nm-01/090" and row["reason"].startswith("empty: no body in its frames")


def test_cli_faithful_edits_take_the_measured_setting_of_their_change(editor, walkers, tmp_path, monkeypatch):
    from generators import settings

    monkeypatch.setattr(batch, "load_editor", lambda with_judge=True, generator=None: editor)
    measured = settings.EditSettings(
        strength=0.8, steps=STEPS, guidance=5.0, conditioner_guidance=0.2, covariate_shift=1
    )
    monkeypatch.setitem(settings.FAITHFUL_EDITS, "carrying", measured)
    clip = walkers / "003" / "nm-01" / "000" / "000.pkl"
    out = tmp_path / "faithful"
    assert main(["edit", str(clip), "--out", str(out), "--carrying", "bag", "--faithful", "--no-progress"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    keys = ("strength", "steps", "guidance", "conditioner_guidance", "covariate_shift")
    used = {k: manifest["settings"][k] for k in keys}
    assert used == {"strength": 0.8, "steps": STEPS, "guidance": 5.0, "conditioner_guidance": 0.2, "covariate_shift": 1}
    plain = edit_dataset(editor, clip, tmp_path / "plain", carrying="bag", strength=0.8, steps=STEPS, guidance=5.0)
    assert "conditioner_guidance" not in plain["settings"]  # unsteered jobs record what they always did
    steered, _ = load_opengait(out)
    unsteered, _ = load_opengait(tmp_path / "plain")
    assert not np.array_equal(steered[0].frames, unsteered[0].frames)  # the steering reached the edit


def test_a_job_names_the_generator_it_used_and_is_not_resumed_with_another(editor, walkers, tmp_path, capsys):
    """`--generator` (e.g. one adapted to the user's data by `train-generator --init walkers`) is
    the generator that edits; the manifest names it, and a job folder started with one generator
    is refused to another instead of mixing their clips."""
    from generators import resolve_generator

    adapted = tmp_path / "adapted"
    editor.pipeline.save_pretrained(adapted)  # another folder, as `train-generator` writes one
    clip = walkers / "003" / "nm-01" / "000" / "000.pkl"
    out = tmp_path / "edited"
    args = ["edit", str(clip), "--out", str(out), "--clothing", "coat", "--steps", "2", "--no-judge", "--no-progress"]
    assert main([*args, "--generator", str(adapted)]) == 0
    assert json.loads((out / "manifest.json").read_text())["settings"]["generator"] == str(adapted.resolve())
    assert main(args) == 2, "the bundled generator does not resume another generator's job"
    assert "generator" in capsys.readouterr().err
    bundled = tmp_path / "bundled"
    assert main(["edit", str(clip), "--out", str(bundled), "--clothing", "coat", "--steps", "2", "--no-judge",
                 "--no-progress", "--generator", str(resolve_generator())]) == 0  # fmt: skip
    assert "generator" not in json.loads((bundled / "manifest.json").read_text())["settings"]
    assert main([*args[:2], "--out", str(tmp_path / "none"), *args[4:], "--generator", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err
