"""Evaluation protocols and metrics on hand-built embeddings whose right answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from evaluation import CasiaBProtocol, ReIDProtocol, average_precision_stats, rank_k_accuracy
from recognizers.calibration import calibrate, threshold_at_far, verify
from recognizers.distance import pairwise_distance


def labelled(rows):
    """rows of (subject, condition, view, 1-D position) → embeddings [N, 1, 1] and labels."""
    emb = np.asarray([[[pos]] for *_, pos in rows], np.float32)
    labels = {k: np.asarray([r[i] for r in rows]) for i, k in enumerate(("subject", "condition", "view"))}
    return emb, labels


def test_identical_view_exclusion_changes_the_answer():
    # Each probe sits on its own subject's gallery entry of the SAME view, but nearer to the
    # other subject's entry of the other view: counted only when identical views are included.
    rows = [
        ("a", "nm-01", "000", 0.0), ("a", "nm-01", "090", 10.0),
        ("b", "nm-01", "000", 5.0), ("b", "nm-01", "090", 1.0),
        ("a", "nm-05", "000", 0.0), ("a", "nm-05", "090", 10.0),
        ("b", "nm-05", "000", 5.0), ("b", "nm-05", "090", 1.0),
    ]  # fmt: skip
    emb, labels = labelled(rows)
    probes = {"NM": ("nm-05",)}
    excluded = CasiaBProtocol(probe_conditions=probes).evaluate(emb, labels)
    included = CasiaBProtocol(probe_conditions=probes, exclude_identical_view=False).evaluate(emb, labels)
    # probe a@000 (0.0) vs gallery@090 {a: 10, b: 1} → b: wrong; b@000 (5.0) → b (1.0): right
    assert excluded.accuracy["NM"][0, 1] == 50.0
    # probe a@090 (10) vs gallery@000 {a: 0, b: 5} → b: wrong; b@090 (1) → a (0): wrong
    assert excluded.accuracy["NM"][1, 0] == 0.0
    assert np.isnan(excluded.accuracy["NM"][0, 0])
    assert excluded.mean["NM"] == pytest.approx(25.0)
    # diagonals are perfect, so including them lifts the mean: (100+50)/2 and (0+100)/2 → 62.5
    assert included.mean["NM"] == pytest.approx(62.5)


def test_rank1_exactly_one_half_and_the_report():
    # Two probes per view, one matched right and one wrong in every cross-view pair.
    rows = []
    for view in ("000", "090"):
        rows += [("a", "nm-01", view, 0.0), ("b", "nm-01", view, 10.0)]
        rows += [("a", "cl-01", view, 1.0), ("b", "cl-01", view, 2.0)]  # b's coat makes it look like a
    emb, labels = labelled(rows)
    result = CasiaBProtocol(gallery_conditions=("nm-01",), probe_conditions={"CL": ("cl-01",)}).evaluate(emb, labels)
    assert result.mean["CL"] == 50.0
    assert result.per_view["CL"].tolist() == [50.0, 50.0]
    report = result.to_dict()
    assert report["mean"] == {"CL": 50.0} and report["per_view"]["CL"] == {"000": 50.0, "090": 50.0}
    assert report["accuracy"]["CL"] == [[None, 50.0], [50.0, None]]
    assert "CL" in result.format_table()


def test_rank_k_map_and_minp_by_hand():
    dist = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
    gallery = np.array(["x", "y", "x", "y"])
    probes = np.array(["y", "y"])
    assert rank_k_accuracy(dist, probes, gallery, ks=(1, 2)) == {1: 50.0, 2: 100.0}
    # probe 0 ranks x y x y → hits at 2, 4: AP = (1/2 + 2/4) / 2 = 1/2, INP = 2/4
    # probe 1 ranks y x y x → hits at 1, 3: AP = (1 + 2/3) / 2 = 5/6, INP = 2/3
    mean_ap, minp = average_precision_stats(dist, probes, gallery)
    assert mean_ap == pytest.approx(100 * (1 / 2 + 5 / 6) / 2)
    assert minp == pytest.approx(100 * (1 / 2 + 2 / 3) / 2)


def test_reid_leave_one_out_never_matches_itself():
    emb = np.array([[[0.0]], [[0.1]], [[5.0]], [[5.1]], [[9.0]]], np.float32)
    labels = {"subject": np.array(list("aabbc")), "condition": np.array(["x"] * 5), "view": np.array(["1"] * 5)}
    result = ReIDProtocol().evaluate(emb, labels)
    # a, a, b, b find their twin first; c has no other sequence and misses at rank 1 and 5
    assert result.rank1 == pytest.approx(80.0)
    assert result.mAP == pytest.approx(100.0)  # c has no true match: left out of mAP
    assert result.num_probes == 5


def test_part_distances_match_opengait_definitions():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 8, 4)), rng.normal(size=(5, 8, 4))
    euc = np.linalg.norm(a[:, None] - b[None], axis=2).mean(-1)
    np.testing.assert_allclose(pairwise_distance(a, b, "euc"), euc, rtol=1e-4)
    an, bn = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    cos = 1 - np.einsum("icp,jcp->ijp", an, bn).mean(-1)
    np.testing.assert_allclose(pairwise_distance(a, b, "cos"), cos, rtol=1e-4, atol=1e-6)


def test_threshold_at_far_accepts_the_allowed_share_of_impostors():
    impostor = np.arange(1, 201, dtype=float)  # 200 impostor pairs at distances 1..200
    genuine = np.array([0.5, 1.5, 2.5, 250.0])
    calibration = threshold_at_far(genuine, impostor, far=0.01)
    assert calibration["far"] == pytest.approx(0.01)  # distances 1 and 2 accepted, 3 not
    assert 2.0 <= calibration["threshold"] < 3.0
    assert calibration["tar"] == pytest.approx(0.75)


def test_calibrate_from_labelled_embeddings():
    emb = np.array([[[0.0]], [[0.1]], [[5.0]], [[5.2]]], np.float32)
    result = calibrate(emb, np.array(["a", "a", "b", "b"]), far=0.0)
    assert result["far"] == 0.0 and result["tar"] == 1.0
    assert result["genuine_pairs"] == 2 and result["impostor_pairs"] == 4
    assert verify(emb[[0, 0]], emb[[1, 2]], result).tolist() == [True, False]
