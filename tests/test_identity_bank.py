"""Novel identities are mixtures of known ones, pushed away from all of them."""

import numpy as np
import pytest

from gaitdata import GaitDataError
from generators.identity_bank import IdentityBank


@pytest.fixture
def bank():
    rng = np.random.default_rng(0)
    clips = rng.normal(size=(40, 4, 8)) + np.repeat(rng.normal(size=(10, 4, 8)) * 3, 4, axis=0)
    return IdentityBank.from_embeddings(clips, np.repeat([f"{i:03d}" for i in range(10)], 4))


def test_one_unit_template_per_subject(bank):
    assert len(bank) == 10 and bank.embeddings.shape == (10, 32)
    np.testing.assert_allclose(np.linalg.norm(bank.embeddings, axis=1), 1.0, rtol=1e-5)
    subject, sim = bank.nearest(bank.embeddings[3])
    assert subject == "003" and sim == pytest.approx(1.0)


def test_novel_identities_are_seeded_and_kept_away_from_everyone(bank):
    a, info = bank.novel(20, seed=1, max_similarity=0.9)
    b, _ = bank.novel(20, seed=1, max_similarity=0.9)
    np.testing.assert_array_equal(a, b)
    assert (bank.similarity(a).max(axis=1) <= 0.9).all()
    assert all(2 <= len(i["parents"]) <= 4 for i in info)
    # the push moves them further from the real identities than plain mixtures
    plain, _ = bank.novel(20, seed=1, push=0.0)
    assert bank.similarity(a).max(axis=1).mean() < bank.similarity(plain).max(axis=1).mean()


def test_novel_identities_made_in_a_standardised_space_keep_away_there():
    # raw embeddings share one large direction (as walker embeddings do, cosine ~0.97): people
    # differ only in small per-dimension offsets, which standardising brings out
    rng = np.random.default_rng(4)
    common = np.full(32, 5.0)
    people = common + rng.normal(size=(12, 32)) * np.linspace(0.05, 0.5, 32)
    bank = IdentityBank(people, [f"{i:02d}" for i in range(12)])
    mean, scale = bank.embeddings.mean(0), 1 / bank.embeddings.std(0)
    novel, info = bank.novel(10, seed=3, parents=(2, 2), standardization=(mean, scale))
    assert novel.shape == (10, 32) and np.allclose(np.linalg.norm(novel, axis=1), 1, atol=1e-5)
    assert (novel @ bank.embeddings.T).min() > 0.9  # still in the raw space's crowd of people ...
    z = lambda x: (x - mean) * scale / np.linalg.norm((x - mean) * scale, axis=1, keepdims=True)  # noqa: E731
    standardised = (z(novel) @ z(bank.embeddings).T).max(1)
    np.testing.assert_allclose(standardised, [i["nearest_similarity"] for i in info], atol=1e-3)
    plain, _ = bank.novel(10, seed=3, parents=(2, 2), push=0.0, standardization=(mean, scale))
    assert standardised.mean() < (z(plain) @ z(bank.embeddings).T).max(1).mean()  # ... but pushed from each
    with pytest.raises(ValueError, match="standardization has 8 / 8 numbers, the identities 32"):
        bank.novel(1, standardization=(np.zeros(8), np.ones(8)))


def test_excluded_embeddings_are_avoided_too(bank):
    source = bank.embeddings[0] + 0.01
    novel, _ = bank.novel(5, seed=2, max_similarity=0.8, exclude=source[None])
    assert (novel @ (source / np.linalg.norm(source)) <= 0.8).all()
    assert bank.farthest(source, bank.embeddings) != 0


def test_impossible_demands_fail_clearly(bank):
    with pytest.raises(RuntimeError, match="no novel identity"):
        bank.novel(1, max_similarity=-1.0, max_tries=5)
    for bad in (-3.0, 2.5, True):
        with pytest.raises(ValueError, match=f"push .* must be within 0–2, got {bad!r}"):
            bank.novel(1, push=bad)


def test_save_and_load(bank, tmp_path):
    bank.save(tmp_path / "bank")
    back = IdentityBank.load(tmp_path / "bank")
    np.testing.assert_allclose(back.embeddings, bank.embeddings, rtol=1e-6)
    assert back.subjects == bank.subjects
    with pytest.raises(GaitDataError, match="not an identity bank"):
        IdentityBank.load(tmp_path / "missing")
