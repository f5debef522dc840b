"""Fidelity measures give the known answer on constructed data."""

import numpy as np
import pytest

from evaluation.fidelity import (
    clip_statistics,
    frechet_distance,
    frechet_report,
    novelty_report,
    real_people_distinct,
    statistics_report,
    template_threshold,
)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(20000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, a + np.array([2.0, 0, 0])) == pytest.approx(4.0, rel=0.01)


def _clusters(rng, subjects, clips, dim=32, spread=0.3, centres=None):
    centres = rng.normal(size=(subjects, dim)) if centres is None else centres
    emb = np.repeat(centres, clips, axis=0) + spread * rng.normal(size=(subjects * clips, dim))
    ids = np.repeat([f"{i:03d}" for i in range(subjects)], clips)
    return emb, ids, centres


def test_frechet_ratio_is_near_one_for_the_same_distribution_and_large_for_another():
    rng = np.random.default_rng(1)
    real, _, centres = _clusters(rng, 40, 20)
    same, _, _ = _clusters(rng, 40, 20, centres=centres)
    other, _, _ = _clusters(rng, 40, 20, centres=centres + 1.5)
    assert frechet_report(real, same, dims=16)["ratio"] < 1.3
    assert frechet_report(real, other, dims=16)["ratio"] > 3


def test_template_threshold_and_novelty():
    rng = np.random.default_rng(2)
    centres = np.zeros((50, 64))
    centres[:, :32] = rng.normal(size=(50, 32))  # real people live in the first 32 dimensions
    real, ids, centres = _clusters(rng, 50, 8, dim=64, spread=0.5, centres=centres)
    split = np.tile(np.arange(8) < 4, 50)
    calib = template_threshold(real, ids, split)
    assert calib["tar"] > 0.95 and 0 < calib["threshold"] < 1
    # copies of real people are not novel; people away from all of them are, each consistent with
    # itself. (A merely random newcomer would exceed a 1%-FAR threshold against one of 50 real
    # people ~40% of the time: novel identities must be pushed away, which is what this checks.)
    copies, copy_ids, _ = _clusters(rng, 10, 6, dim=64, spread=0.5, centres=centres[:10])
    away = np.zeros((10, 64))
    away[:, 32:] = rng.normal(size=(10, 32))  # orthogonal to every real person
    fresh, fresh_ids, _ = _clusters(rng, 10, 6, dim=64, spread=0.5, centres=away)
    copied = novelty_report(
        copies, copy_ids, real, ids, calib["threshold"], more_thresholds={"lax": 1.01, "none": -1.01}
    )
    assert copied["distinct"] == 0 and copied["distinct_at"] == {"lax": 10, "none": 0}
    report = novelty_report(fresh, fresh_ids, real, ids, calib["threshold"])
    assert report["distinct"] == 10 and report["self_rank1"] == 100.0


def test_real_people_are_judged_distinct_from_everyone_but_themselves():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(6, 32))
    centres[1] = centres[0] + 0.01  # two near-twins
    emb, ids, _ = _clusters(rng, 6, 8, spread=0.05, centres=centres)
    probe = np.tile(np.arange(8) < 3, 6)
    result = real_people_distinct(emb[probe], ids[probe], emb[~probe], ids[~probe], threshold=0.99)
    # each person's own gallery is left out; the twins clash with each other, the rest are distinct
    assert {k: result[k] for k in ("subjects", "distinct", "known_subjects")} == {
        "subjects": 6,
        "distinct": 4,
        "known_subjects": 6,
    }
    assert result["threshold_95"] > 0.99  # the twins set it


def test_clip_statistics_of_a_known_box():
    frames = np.zeros((4, 64, 64), np.uint8)
    frames[:, 10:50, 25:35] = 255  # 40 rows, 10 columns, inside the 64x44 crop
    frames[1::2, 10:50, 35] = 255  # every other frame one column wider
    s = clip_statistics(frames)
    assert s["height_px"] == 40 and s["width_px"] == 10.5
    assert s["foreground"] == pytest.approx((400 + 20) / (64 * 44))
    assert s["flicker"] == pytest.approx(40 / (64 * 44))
    report = statistics_report([frames], [frames])
    assert all(v["relative_difference"] == 0 for v in report.values())
