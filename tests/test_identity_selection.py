"""Best-of-K identity selection (`candidates`): the conditioner picks, the plain call stays the first
candidate, and every way of asking for it wrongly is refused by name."""

import numpy as np
import pytest
import torch

from generators.identity_selection import candidate_seed, check_candidates, identity_similarity


@pytest.fixture(scope="module")
def pipeline():
    from generators import load_generator

    return load_generator()


@pytest.fixture(scope="module")
def references():
    from gaitdata.walkers import identity_for, render_walker_sequence, walk_for

    clips = []
    for subject in ("001", "002"):
        person = identity_for(seed=5, subject_id=subject)
        clip = render_walker_sequence(person, walk_for(5, person, "nm-05"), view_deg=54.0, num_frames=40)
        clip.subject = subject
        clips.append(clip)
    return clips


@pytest.mark.parametrize("bad", [0, 17, 2.5, True, "3"])
def test_candidates_out_of_range_are_refused_by_value(bad):
    with pytest.raises(ValueError, match="candidates"):
        check_candidates(bad)


def test_the_chosen_clip_is_the_candidate_the_conditioner_reads_closest(pipeline, references):
    kwargs = dict(identity=references, view=90, clothing="normal", carrying="none", num_clips=2, steps=4, seed=3)
    plain = pipeline(**kwargs)
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(plain, pipeline(**kwargs, candidates=1)))
    best = pipeline(**kwargs, candidates=3)
    target = pipeline.encode_identity(references)

    def similarity(clips):
        return identity_similarity(pipeline.conditioner.embed(clips), target, pipeline.denoiser).numpy()

    reported = np.array([c.extra["identity_similarity"] for c in best])
    np.testing.assert_allclose(similarity(best), reported, atol=2e-3)  # the figure is the output's own
    assert (reported >= similarity(plain) - 2e-3).all()  # never worse than the plain call (candidate 0)
    for i, clip in enumerate(best):
        assert clip.extra["candidates"] == 3 and 0 <= clip.extra["candidate"] < 3
        k = clip.extra["candidate"]
        if k == 0:
            assert np.array_equal(clip.frames, plain[i].frames)
        else:  # a chosen candidate is reproducible from its own seed
            noise = torch.randn(
                (2, 30, pipeline.denoiser.config.latent_dim),
                generator=torch.Generator().manual_seed(candidate_seed(3, k)),
            )
            again = pipeline(**kwargs, latents=noise)[i]
            assert np.array_equal(clip.frames, again.frames)


def test_candidates_without_an_identity_or_a_conditioner_are_refused(pipeline, references, monkeypatch):
    with pytest.raises(ValueError, match="no identity was given"):
        pipeline(num_clips=1, steps=2, candidates=2)
    embedding = pipeline.conditioner.embed(references[:1])
    monkeypatch.setattr(pipeline, "conditioner", None)
    with pytest.raises(ValueError, match="needs the pipeline's conditioner"):
        pipeline(identity=embedding, num_clips=1, steps=2, candidates=2)


def test_a_conditioner_of_another_size_is_refused_by_its_numbers():
    with pytest.raises(ValueError, match="reads 2048 numbers per clip but the identities have 16"):
        identity_similarity(torch.randn(2, 2048), torch.randn(2, 16))


def test_a_novel_persons_first_clip_is_the_candidate_farthest_from_everyone_known(pipeline):
    from generators.identity_selection import nearest_known_similarity

    embeddings, _ = pipeline.identity_bank.novel(2, seed=4)
    plain = pipeline.novel_person(embeddings, seed=6, steps=4)
    assert all("nearest_known_similarity" not in c.extra for c in plain)  # one draw: the plain call
    known = pipeline.identity_bank.embeddings
    best = pipeline.novel_person(embeddings, seed=6, steps=4, candidates=3)
    nearest = nearest_known_similarity(pipeline.conditioner.embed(best), known, pipeline.denoiser).numpy()
    reported = np.array([c.extra["nearest_known_similarity"] for c in best])
    np.testing.assert_allclose(nearest, reported, atol=2e-3)  # the figure is the kept clip's own
    before = nearest_known_similarity(pipeline.conditioner.embed(plain), known, pipeline.denoiser).numpy()
    assert (reported <= before + 2e-3).all()  # never closer to a known person than the plain call
    for clip, first in zip(best, plain):
        assert clip.extra["candidates"] == 3
        if clip.extra["candidate"] == 0:
            assert np.array_equal(clip.frames, first.frames)
    # a user's own people count as known too; of another size they are refused by both sizes
    with pytest.raises(ValueError, match="known people have 16 numbers each, the denoiser expects 2048"):
        pipeline.novel_person(embeddings, seed=6, steps=4, candidates=2, known=np.ones((3, 16), np.float32))
