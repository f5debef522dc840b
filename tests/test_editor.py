"""Editing and anonymizing keep their promises (tiny untrained models: behaviour, not quality)."""

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler

from gaitdata.walkers import identity_for, render_walker_sequence, walk_for
from generators import GaitGenerationPipeline, GaitLatentDenoiser, IdentityBank, SilhouetteAutoencoder
from generators.editor import MIN_FRAMES, GaitEditor, source_covariates
from recognizers import GaitBase, GaitSet


@pytest.fixture(scope="module")
def clip():
    person = identity_for(5, "001")
    return render_walker_sequence(person, walk_for(5, person, "nm-02"), view_deg=90, num_frames=40)


@pytest.fixture(scope="module", params=["pooled identity", "reference and motion"])
def editor(request):
    torch.manual_seed(0)
    conditioner = GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=4).eval()
    judge = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
    dim = int(np.prod(conditioner.embed(np.zeros((2, 64, 64), np.uint8)).shape))
    pathways = {"reference_frames": 15, "motion_dim": 3, "standardize_identity": True}
    extra = pathways if request.param == "reference and motion" else {}
    denoiser = GaitLatentDenoiser(latent_dim=16, identity_dim=dim, width=32, depth=1, heads=2, **extra)
    torch.nn.init.normal_(denoiser.proj_out.weight, std=0.02)
    scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    pipeline = GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=16, channels=16), denoiser, scheduler)
    pipeline.conditioner = conditioner
    bank = IdentityBank(np.random.default_rng(0).normal(size=(6, dim)), [f"{i:03d}" for i in range(6)])
    return GaitEditor(pipeline, bank=bank, judge=judge, calibration={"metric": "euc", "threshold": 0.5})


def test_strength_zero_returns_the_source_unchanged(editor, clip):
    out = editor.edit(clip, clothing="coat", strength=0.0)
    np.testing.assert_array_equal(out.frames, clip.frames)


@pytest.mark.parametrize("method", ["invert", "noise"])
def test_edit_keeps_length_and_names_the_new_covariates(editor, clip, method):
    out = editor.edit(clip, view=36, clothing="coat", strength=0.5, steps=3, method=method)
    assert out.frames.shape == clip.frames.shape
    assert (out.condition, out.view, out.subject) == ("cl-02", "036", clip.subject)
    assert out.extra["edit"]["to"] == {"view": 36.0, "clothing": "coat", "carrying": "none"}


def test_long_clips_are_edited_in_windows(editor):
    person = identity_for(5, "002")
    long_clip = render_walker_sequence(person, walk_for(5, person, "nm-01"), view_deg=0, num_frames=75)
    assert editor.edit(long_clip, carrying="bag", strength=0.3, steps=2).num_frames == 75


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(strength=1.5, clothing="coat"), r"strength must lie in \[0, 1\]"),
        (dict(strength=0.5), "nothing to edit"),
        (dict(clothing="tuxedo"), "unknown clothing"),
        (dict(view=500), "outside 0–360"),
        (dict(clothing="coat", method="magic"), "method must be one of"),
    ],
)
def test_bad_edits_say_what_is_wrong(editor, clip, kwargs, message):
    with pytest.raises(ValueError, match=message):
        editor.edit(clip, **kwargs)


def test_too_short_a_clip_states_the_minimum(editor, clip):
    short = clip.with_frames(clip.frames[: MIN_FRAMES - 1])
    with pytest.raises(ValueError, match=f"at least {MIN_FRAMES}"):
        editor.edit(short, clothing="coat")


def test_an_edit_to_the_same_covariates_warns(editor, clip):
    with pytest.warns(UserWarning, match="equal the source"):
        editor.edit(clip, view=90, clothing="normal", strength=0.2, steps=2)


def _anonymize(editor, clips, **settings):
    from studio.jobs.anonymization import anonymize_until_unverified

    return anonymize_until_unverified(editor, editor.judge, editor.calibration, clips, range(len(clips)), **settings)


def test_anonymize_reports_leakage(editor, clip):
    (result,) = _anonymize(editor, [clip], strength=0.6, steps=2, max_attempts=2)
    assert result.sequence.frames.shape == clip.frames.shape
    assert result.sequence.view == clip.view and result.sequence.condition == clip.condition
    assert result.sequence.subject == "anon-001" and 1 <= result.attempts <= 2
    assert result.leaks == (result.source_distance <= result.threshold)
    assert result.sequence.extra["leakage"]["leaks"] == result.leaks


def test_only_the_clips_that_leak_are_tried_again(editor, clip):
    """The judge decides; nothing verifies at threshold -1, everything at a huge one."""
    clips = [clip, clip.with_frames(clip.frames[::-1].copy())]
    editor_low = GaitEditor(editor.pipeline, editor.bank, editor.judge, {"metric": "euc", "threshold": -1.0})
    assert [r.attempts for r in _anonymize(editor_low, clips, strength=0.6, steps=2)] == [1, 1]
    editor_high = GaitEditor(editor.pipeline, editor.bank, editor.judge, {"metric": "euc", "threshold": 1e9})
    results = _anonymize(editor_high, clips, strength=0.6, steps=2, max_attempts=3)
    assert [(r.attempts, r.leaks) for r in results] == [(3, True), (3, True)]
    assert [r.sequence.extra["anonymize"]["strength"] for r in results] == pytest.approx([0.8, 0.8])


def test_anonymize_refuses_what_would_not_anonymize(editor, clip):
    with pytest.raises(ValueError, match="strength 0"):
        editor.anonymize_many([clip], strength=0.0)
    own = editor.pipeline.encode_identity(clip).numpy()[0]
    with pytest.raises(ValueError, match="equals the source"):
        editor.anonymize_many([clip], targets=[own])
    with pytest.raises(ValueError, match="max_attempts must be at least 1"):
        _anonymize(editor, [clip], max_attempts=0)


def test_clips_of_one_pseudonym_become_one_person_whichever_batch_they_are_in(editor):
    from generators.editor import Pseudonym

    person = identity_for(5, "007")
    clips = [
        render_walker_sequence(person, walk_for(5, person, cond), view_deg=view, num_frames=30)
        for cond, view in (("nm-01", 90), ("nm-02", 90), ("bg-01", 90), ("nm-01", 0))
    ]
    people = [Pseudonym(41, anchor=clips[0])] * len(clips)
    together = editor.anonymization_targets(clips, [1, 2, 3, 4], steps=2, people=people)
    for target in together[1:3]:  # one person for all the person's clips in a view ...
        torch.testing.assert_close(target["embedding"], together[0]["embedding"])
    if together[0]["reference"] is not None:  # ... whose first clip there is their reference
        torch.testing.assert_close(together[1]["reference"], together[0]["reference"])
        torch.testing.assert_close(together[2]["reference"], together[0]["reference"])
        assert not torch.allclose(together[3]["reference"], together[0]["reference"])
    # a later batch holding only some of the person's clips makes the same person
    (later,) = editor.anonymization_targets(clips[2:3], [9], steps=2, people=people[2:3])
    torch.testing.assert_close(later["embedding"], together[2]["embedding"], atol=1e-5, rtol=1e-4)
    if later["reference"] is not None:
        torch.testing.assert_close(later["reference"], together[2]["reference"], atol=1e-3, rtol=1e-3)
    # without pseudonyms each clip is a person of its own; another pseudonym, another person
    alone = editor.anonymization_targets(clips[:2], [1, 2], steps=2)
    assert not torch.allclose(alone[0]["embedding"], alone[1]["embedding"])
    other = editor.anonymization_targets(clips[:1], [1], steps=2, people=[Pseudonym(42, anchor=clips[0])])
    assert not torch.allclose(other[0]["embedding"], together[0]["embedding"])
    with pytest.raises(ValueError, match="either targets or people"):
        editor.anonymize_many(clips[:1], targets=[np.ones(16)], people=people[:1])


def test_the_judge_cannot_be_the_conditioner(editor, clip):
    with pytest.raises(ValueError, match="judge must not be the conditioner"):
        GaitEditor(editor.pipeline, judge=editor.pipeline.conditioner)
    from studio.jobs.anonymization import anonymize_until_unverified

    with pytest.raises(ValueError, match="judge must not be the conditioner"):
        anonymize_until_unverified(editor, editor.pipeline.conditioner, editor.calibration, [clip], [0])


def test_a_cancelled_edit_stops_between_denoising_steps(editor, clip):
    from generators import GenerationCancelled

    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(GenerationCancelled):
        editor.edit(clip, clothing="coat", strength=1.0, steps=10, method="noise", cancel=cancel)
    assert len(calls) == 3  # stopped at the third step, not after ten


def test_source_covariates_from_metadata(clip):
    assert source_covariates(clip) == {"view": 90.0, "clothing": "normal", "carrying": "none"}
    assert source_covariates(clip.with_frames(clip.frames, view="unk", condition="x")) == {
        "view": None,
        "clothing": None,
        "carrying": None,
    }


def test_an_anonymized_walker_is_not_retrieved_as_themselves_by_the_bundled_judge(tmp_path):
    """The promise of the anonymizer, with the bundled models on people none of them saw."""
    from gaitdata import load_opengait
    from gaitdata.walkers import render_walker_dataset
    from recognizers.distance import pairwise_distance
    from studio.jobs.edit_dataset import load_editor

    render_walker_dataset(tmp_path, 8, ["nm-01", "nm-02", "nm-05"], ["090"], frames=(40, 44), seed=7, workers=1)
    sequences, _ = load_opengait(tmp_path)
    gallery = [s for s in sequences if s.condition in ("nm-01", "nm-02")]
    probe = next(s for s in sequences if s.subject == "003" and s.condition == "nm-05")
    editor = load_editor()
    gallery_embeddings = editor.judge.embed(gallery)
    subjects = np.array([s.subject for s in gallery])

    def retrieved(clip) -> str:
        return str(subjects[pairwise_distance(editor.judge.embed(clip)[None], gallery_embeddings, "euc")[0].argmin()])

    assert retrieved(probe) == "003"  # the unmodified clip is found: the test can fail
    (result,) = _anonymize(editor, [probe], strength=0.9, steps=10)
    assert not result.leaks and retrieved(result.sequence) != "003"
    assert result.sequence.num_frames == probe.num_frames and result.sequence.view == "090"


@pytest.mark.parametrize("length", [16, 29, 30, 31, 45, 60, 61, 75, 120])
def test_windows_are_equal_and_give_every_frame_once(length):
    from generators.editor import WINDOW, _windows

    covered = []
    for frames, part in _windows(length):
        assert frames.stop - frames.start == min(length, WINDOW)  # equal windows batch together
        covered += list(range(frames.start, frames.stop))[part]
    assert covered == list(range(length))


def test_many_clips_edit_and_anonymize_as_each_does_alone(editor):
    clips = []
    for k, frames in enumerate((40, 75, 20)):
        person = identity_for(5, f"00{k + 3}")
        clips.append(render_walker_sequence(person, walk_for(5, person, "nm-01"), view_deg=90, num_frames=frames))
    together = editor.edit_many(clips, clothing="coat", strength=0.6, steps=3, seeds=[11, 12, 13])
    for clip, seed, out in zip(clips, [11, 12, 13], together):
        alone = editor.edit(clip, clothing="coat", strength=0.6, steps=3, seed=seed)
        assert out.frames.shape == clip.frames.shape and out.condition == alone.condition
        assert np.abs(out.frames.astype(int) - alone.frames.astype(int)).max() <= 2  # batch-size rounding only
    anonymized = editor.anonymize_many(clips, strength=1.0, steps=3, seeds=5, method="noise")
    assert [a.subject for a in anonymized] == [f"anon-{c.subject}" for c in clips]
    assert [a.num_frames for a in anonymized] == [c.num_frames for c in clips]
    assert [a.extra["anonymize"]["seed"] for a in anonymized] == [5, 6, 7]
    alone = editor.anonymize_many(clips[1:2], strength=1.0, steps=3, seeds=[6], method="noise")[0]
    assert np.abs(anonymized[1].frames.astype(int) - alone.frames.astype(int)).max() <= 2


def test_edit_many_names_a_mismatched_argument(editor, clip):
    with pytest.raises(ValueError, match="2 seeds for 1 clips"):
        editor.edit_many([clip], clothing="coat", seeds=[1, 2])
    with pytest.raises(ValueError, match="view has 2 entries for 1 clips"):
        editor.edit_many([clip], view=[0, 18])


def test_clip_scores_use_the_result_embeddings_the_caller_already_has(clip):
    """The anonymize job's retry policy has embedded each result: the scorer reuses what it is given."""
    from evaluation.clip_scores import ClipScorer

    torch.manual_seed(0)
    judge = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
    embedded = []

    class CountingJudge:
        def embed(self, clips):
            embedded.append(len(clips))
            return judge.embed(clips)

    scorer = ClipScorer(CountingJudge(), {"metric": "euc", "threshold": 0.5}, covariate_classifier=None)
    results = [clip.with_frames(clip.frames[::-1].copy()), clip]
    sources = judge.embed([clip, clip])
    plain = scorer.many(["a", "a"], [clip, clip], results, [None, None], source_embeddings=sources)
    known = [judge.embed(results[0]), None]
    given = scorer.many(["a", "a"], [clip, clip], results, [None, None], sources, result_embeddings=known)
    assert embedded == [2, 1]  # the second call embeds only the result it was not given
    for a, b in zip(plain, given):
        assert a["identity"]["cosine"] == pytest.approx(b["identity"]["cosine"], abs=1e-6)
    with pytest.raises(ValueError, match="1 result embeddings for 2 results"):
        scorer.many(["a", "a"], [clip, clip], results, [None, None], sources, result_embeddings=known[:1])
