"""Covariate means (`generators.covariate_means`): the conditioner's mean embedding per condition
type and view, and the move that asks steering for the person under the clip's own covariates
rather than the reference's."""

import numpy as np
import pytest
import torch

from gaitdata import GaitDataError
from generators.covariate_means import FILE, CovariateMeans, condition_type
from generators.identity_bank import IdentityBank

E = 16


def _means() -> CovariateMeans:
    """Clips whose embeddings are one basis direction per type plus a small one per view."""
    rng = np.random.default_rng(0)
    rows, conditions, views = [], [], []
    for t, kind in enumerate(("nm", "bg", "cl")):
        for v, view in enumerate(("000", "090", "180")):
            for _ in range(4):
                x = np.zeros(E, np.float32)
                x[t], x[3 + v] = 1.0, 0.3
                rows.append(x + rng.normal(0, 0.01, E))
                conditions.append(f"{kind}-0{1 + len(rows) % 2}")
                views.append(view)
    rows.append(np.ones(E))  # a clip of no known type is left out
    conditions.append("xx-01")
    views.append("090")
    return CovariateMeans.from_embeddings(np.stack(rows), conditions, views)


def test_type_reads_the_covariates_and_leaves_open_what_they_leave_open():
    assert condition_type({"clothing": "coat", "carrying": None}) == "cl"
    assert condition_type({"clothing": "normal", "carrying": "bag"}) == "bg"
    assert condition_type({"clothing": 0, "carrying": 0}) == "nm"
    assert condition_type({"clothing": "normal", "carrying": None}) is None
    assert condition_type({}) is None


def test_shift_moves_from_the_reference_cell_to_the_target_cell():
    means = _means()
    assert len(means.means) == 9 and means.counts[("cl", 90)] == 4
    nm90 = {"view": 90, "clothing": "normal", "carrying": "none"}
    shift = means.shift(nm90, {"view": None, "clothing": "coat", "carrying": None})
    np.testing.assert_allclose(shift, means.means[("cl", 90)] - means.means[("nm", 90)], atol=1e-6)
    assert shift[2] > 0.9 and shift[0] < -0.9 and abs(shift[4]) < 0.05  # coat on, nm off, view kept
    # a view edit keeps the type; a target leaving everything open asks for no move
    view_shift = means.shift(nm90, {"view": "180", "clothing": None, "carrying": None})
    assert view_shift[5] > 0.25 and view_shift[4] < -0.25 and abs(view_shift[0]) < 0.05
    np.testing.assert_allclose(means.shift(nm90, {"view": None, "clothing": None, "carrying": None}), 0, atol=1e-6)


def test_unknown_type_or_view_is_the_mean_over_it():
    means = _means()
    pooled = means.mean(None, 90)
    np.testing.assert_allclose(pooled, np.mean([means.means[(k, 90)] for k in ("nm", "bg", "cl")], 0), atol=1e-6)
    # 45° is no stored view: the mean over all views of the type
    np.testing.assert_allclose(means.mean("cl", 45), means.mean("cl", None), atol=1e-6)
    # 355° wraps to 000 (within 9°)
    np.testing.assert_allclose(means.mean("cl", 355), means.means[("cl", 0)], atol=1e-6)


def test_bank_round_trip_keeps_the_means_and_a_bank_without_them_has_none(tmp_path):
    embeddings = np.eye(3, E, dtype=np.float32)
    IdentityBank(embeddings, ["a", "b", "c"]).save(tmp_path / "plain")
    assert IdentityBank.load(tmp_path / "plain").covariate_means is None
    IdentityBank(embeddings, ["a", "b", "c"], _means()).save(tmp_path / "with")
    loaded = IdentityBank.load(tmp_path / "with").covariate_means
    assert loaded.counts == _means().counts
    np.testing.assert_allclose(loaded.means[("bg", 180)], _means().means[("bg", 180)])


def test_a_damaged_means_file_is_refused_by_name(tmp_path):
    IdentityBank(np.eye(3, E, dtype=np.float32), ["a", "b", "c"]).save(tmp_path)
    (tmp_path / FILE).write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    with pytest.raises(GaitDataError, match="covariate-means"):
        IdentityBank.load(tmp_path)


def test_the_bundled_generator_moves_steering_targets_only_where_covariates_change():
    from generators import load_generator

    pipeline = load_generator()
    assert pipeline.identity_bank.covariate_means is not None, "bundled bank lacks covariate means"
    nm = {"view": 90.0, "clothing": "normal", "carrying": "none"}
    shifts = pipeline.covariate_shifts(
        [nm, nm, None], [{"view": None, "clothing": "coat", "carrying": None}, dict(nm), dict(nm)]
    )
    assert shifts.shape == (3, pipeline.denoiser.config.identity_dim)
    assert torch.linalg.norm(shifts[0]) > 0.01  # the coat is a real move in the conditioner's space
    assert torch.count_nonzero(shifts[1:]) == 0  # the same covariates, or no reference: no move


def test_means_of_another_size_than_the_denoiser_are_refused_with_both_sizes(monkeypatch):
    from generators import load_generator

    pipeline = load_generator()
    monkeypatch.setattr(pipeline.identity_bank, "covariate_means", _means())
    nm = {"view": 90.0, "clothing": "normal", "carrying": "none"}
    with pytest.raises(ValueError, match=f"16 numbers, the denoiser expects {pipeline.denoiser.config.identity_dim}"):
        pipeline.covariate_shifts([nm], [{"view": None, "clothing": "coat", "carrying": None}])
