"""Realism against real CASIA-B GEI statistics (`evaluation.realism`, `studio realism`).

Pinned on the shared reference statistics (`../shared/data/real-gei/casia_b_gei_stats.npz`):
real against itself scores 0, GEIs drawn from the real Gaussian score small, rendered walkers
score far larger (the calibrated style much less so), and a bad reference file is refused by name.
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from scipy import linalg

from evaluation.realism import (
    MIN_FRAMES,
    RealismResult,
    frechet_to_reference,
    gaussian_frechet,
    load_reference,
    measure_realism,
    write_realism_report,
)
from gaitdata import GaitDataError, GaitSequence, Partition, write_partition, write_pkl_sequence
from gaitdata.walkers import render_walker_dataset
from studio.cli import main

TEST_SUBJECTS = [f"t{i:02d}" for i in range(20)]
TRAIN_SUBJECTS = ["r01", "r02"]


@pytest.fixture(scope="module")
def reference_path(shared_data):
    path = shared_data / "real-gei" / "casia_b_gei_stats.npz"
    if not path.is_file():
        pytest.skip(f"real GEI statistics {path} are absent")
    return path


@pytest.fixture(scope="module")
def reference(reference_path):
    return load_reference(reference_path)


def gei_clip(gei: np.ndarray, frames: int = MIN_FRAMES) -> np.ndarray:
    """A clip whose GEI is `gei` (clipped to [0, 1], 8-bit): identical 64×64 frames, 10 empty columns each side."""
    frame = np.round(np.clip(gei, 0, 1) * 255).astype(np.uint8)
    return np.repeat(np.pad(frame, ((0, 0), (10, 10)))[None], frames, axis=0)


@pytest.fixture(scope="module")
def real_like(reference, tmp_path_factory):
    """A dataset of real-looking GEIs in the reference protocol's shape.

    Test subjects: one clip per view whose GEI is drawn from that view's real Gaussian.
    Training subjects: clips whose GEI is the real mean GEI (nm at every view, bg at 000 and 090;
    cl absent). Plus a clip at a view the reference lacks and one too short to count.
    """
    root = tmp_path_factory.mktemp("real_like")
    for j, view in enumerate(reference.views):
        geis = reference.sample_geis(len(TEST_SUBJECTS), seed=j, view=view)
        for subject, gei in zip(TEST_SUBJECTS, geis):
            write_pkl_sequence(root, GaitSequence(gei_clip(gei), subject, "nm-01", view))
    for subject in TRAIN_SUBJECTS:
        for j, view in enumerate(reference.views):
            write_pkl_sequence(root, GaitSequence(gei_clip(reference.mean_gei[0, j]), subject, "nm-01", view))
        for view in ("000", "090"):
            gei = reference.mean_gei[1, reference.views.index(view)]
            write_pkl_sequence(root, GaitSequence(gei_clip(gei), subject, "bg-01", view))
    odd = reference.sample_geis(1, seed=99, view="036")[0]
    write_pkl_sequence(root, GaitSequence(gei_clip(odd), "t00", "nm-02", "045"))
    write_pkl_sequence(root, GaitSequence(gei_clip(odd, frames=MIN_FRAMES - 1), "t01", "nm-02", "000"))
    write_partition(root / "partition.json", Partition(TRAIN_SUBJECTS, TEST_SUBJECTS))
    return root


@pytest.fixture(scope="module")
def walkers(tmp_path_factory, reference):
    """As many rendered walkers as `real_like` has test subjects, nm at every view."""
    root = tmp_path_factory.mktemp("walkers")
    render_walker_dataset(root, len(TEST_SUBJECTS), ["nm-01"], reference.views, frames=(20, 24), workers=1)
    return root


# ---------------------------------------------------------------------------------------------
# The distances
# ---------------------------------------------------------------------------------------------


def test_the_real_gaussian_against_itself_is_zero(reference):
    mean, cov = reference.real_mean, reference.real_cov
    assert abs(gaussian_frechet(mean, cov, mean, cov)) < 1e-6
    for view in reference.views:
        mean, cov = reference.view_mean[view], reference.view_cov[view]
        assert abs(gaussian_frechet(mean, cov, mean, cov)) < 1e-6


def test_gaussian_frechet_agrees_with_the_matrix_square_root(reference):
    # Two different real Gaussians (front view against side view): the eigen route equals sqrtm's.
    a, b = ("000", "090")
    ma, ca, mb, cb = reference.view_mean[a], reference.view_cov[a], reference.view_mean[b], reference.view_cov[b]
    root = linalg.sqrtm(ca @ cb).real
    expected = ((ma - mb) ** 2).sum() + np.trace(ca) + np.trace(cb) - 2 * np.trace(root)
    assert gaussian_frechet(ma, ca, mb, cb) == pytest.approx(expected, rel=1e-6)
    assert expected > 20  # people seen from the front and from the side are far apart


def test_samples_of_the_real_gaussian_score_near_zero(reference):
    z = np.random.default_rng(0).multivariate_normal(reference.real_mean, reference.real_cov, 4000)
    assert frechet_to_reference(z, reference) < 0.2
    geis = reference.sample_geis(2000, seed=1, view="090")
    assert frechet_to_reference(reference.project(geis), reference, "090") < 0.2


# ---------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------


def test_real_looking_geis_score_small_and_walkers_far_larger(reference, real_like, walkers):
    real = measure_realism(real_like, reference)
    assert isinstance(real, RealismResult)
    # the default is the reference protocol: Fréchet on TEST_SET, mean GEIs on TRAIN_SET
    assert real.protocol["frechet_subjects"].startswith("TEST_SET")
    assert real.protocol["mean_gei_subjects"].startswith("TRAIN_SET")
    assert real.too_short == 1 and real.frechet_sequences == 11 * len(TEST_SUBJECTS) + 1
    walker = measure_realism(walkers, reference, frechet_subjects="all", mean_gei_subjects="all")
    assert walker.frechet_sequences == 11 * len(TEST_SUBJECTS)
    # 221 real-looking GEIs (8-bit, clipped to [0, 1]) against as many walker GEIs
    assert real.gei_frechet < 6
    assert walker.gei_frechet > 25 and walker.gei_frechet > 6 * real.gei_frechet
    for view in reference.views:
        assert walker.frechet_per_view[view]["distance"] > 3 * real.frechet_per_view[view]["distance"], view
        assert real.frechet_per_view[view]["reliable"] is False  # 20 GEIs for 64 dimensions
    assert real.frechet_per_view["045"] == {
        "sequences": 1,
        "reliable": False,
        "distance": None,
        "note": "no real statistics for this view",
    }
    # mean GEIs: a copy of the real ones scores ~0 (8-bit rounding); what is not there is absent
    l1 = real.mean_gei_l1
    assert l1["present"] == 13 and l1["max"] < 0.003
    assert l1["cells"]["cl"]["090"] is None and "cl/090" in l1["absent"] and "bg/036" in l1["absent"]
    assert walker.mean_gei_l1["present"] == 11 and walker.mean_gei_l1["mean"] > 0.04
    # silhouette statistics ride along, per view and type, beside what CASIA-B measures
    side = walker.silhouette["per_view"]["090"]
    assert 0.15 < side["foreground"] < 0.35 and side["sequences"] == len(TEST_SUBJECTS)
    assert side["casia_b"]["width_px"] == [25.0, 26.5]
    assert side["by_type"]["nm"]["real_foreground"] == pytest.approx(float(reference.mean_gei[0, 5].mean()), abs=1e-4)


# Measured on this very render (8 subjects x 5 conditions x 11 views, 12-18 frames, seed 0):
# the calibrated style with its mean-shape warp scores 6.0 and 0.023 (bounds with a margin for
# platform noise; the fits before the warp scored 12.0 and 0.040, 13.3 and 0.042, 15.4 and 0.044);
# default walkers score about 36 and 0.063 on the full test split, real people 1.93 and 0.011.
CALIBRATED_FRECHET_AT_MOST = 7.5
CALIBRATED_L1_AT_MOST = 0.028


def test_calibrated_walkers_come_much_closer_to_real_people(reference, tmp_path):
    root = tmp_path / "calibrated"
    conditions = ["nm-01", "nm-02", "nm-03", "bg-01", "cl-01"]  # CASIA-B's 6:2:2 mix of types
    render_walker_dataset(root, 8, conditions, reference.views, frames=(12, 18), workers=1, style="calibrated")
    result = measure_realism(root, reference, frechet_subjects="all", mean_gei_subjects="all")
    print(result.summary(), {v: e["distance"] for v, e in result.frechet_per_view.items()})
    assert result.frechet_sequences == 8 * 5 * 11
    assert result.gei_frechet < CALIBRATED_FRECHET_AT_MOST
    assert result.mean_gei_l1["present"] == 33 and result.mean_gei_l1["mean"] < CALIBRATED_L1_AT_MOST


def test_subject_sets_are_explicit_and_too_few_gei_leave_a_view_blank(reference, real_like):
    result = measure_realism(real_like, reference, frechet_subjects=["t02"], mean_gei_subjects="all")
    assert result.frechet_sequences == 11 and result.gei_frechet is not None
    assert result.frechet_per_view["000"]["distance"] is None
    assert result.frechet_per_view["000"]["note"] == "fewer than 2 GEIs"
    assert result.protocol["frechet_subjects"] == "1 listed subjects"
    with pytest.raises(ValueError, match="is not one of test, train, all"):
        measure_realism(real_like, reference, frechet_subjects="everyone")


def test_without_a_partition_every_subject_counts(reference, tmp_path):
    geis = reference.sample_geis(3, seed=5, view="090")
    for i, gei in enumerate(geis):
        write_pkl_sequence(tmp_path, GaitSequence(gei_clip(gei), f"{i:03d}", "cl-01", "090"))
    result = measure_realism(tmp_path, reference)
    assert result.protocol["partition"] is None and result.protocol["frechet_subjects"] == "all subjects"
    assert result.frechet_sequences == 3 and result.mean_gei_counts.sum() == 3
    with pytest.raises(ValueError, match="needs a partition"):
        measure_realism(tmp_path, reference, frechet_subjects="test")


# ---------------------------------------------------------------------------------------------
# Bad reference files
# ---------------------------------------------------------------------------------------------


def _arrays(reference_path) -> dict:
    with np.load(reference_path, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def test_a_missing_reference_is_refused_by_name(tmp_path):
    with pytest.raises(GaitDataError, match=r"nowhere\.npz: reference GEI statistics: file does not exist"):
        load_reference(tmp_path / "nowhere.npz")


def test_a_reference_of_another_shape_is_refused_by_name(reference_path, tmp_path):
    arrays = _arrays(reference_path)
    arrays["mean_gei"] = np.zeros((3, 11, 64, 64), np.float16)  # uncropped GEIs
    path = tmp_path / "wide.npz"
    np.savez(path, **arrays)
    with pytest.raises(GaitDataError, match=r"wide\.npz: .*'mean_gei' has shape \(3, 11, 64, 64\), expected"):
        load_reference(path)
    del arrays["real_cov_090"]
    np.savez(path, **arrays)
    with pytest.raises(GaitDataError, match=r"wide\.npz: .*no array 'real_cov_090'"):
        load_reference(path)


def test_a_reference_holding_pickled_objects_is_refused_never_unpickled(reference_path, tmp_path):
    arrays = _arrays(reference_path)
    arrays["types"] = np.array(["nm", "bg", {"a": "dict"}], dtype=object)
    path = tmp_path / "objects.npz"
    np.savez(path, **arrays)  # numpy pickles object arrays into the archive
    with pytest.raises(GaitDataError, match=r"objects\.npz: .*'types' holds pickled Python objects; refused"):
        load_reference(path)
    pickled = tmp_path / "pickled.npz"
    pickled.write_bytes(pickle.dumps(arrays))
    with pytest.raises(GaitDataError, match=r"pickled\.npz: .*is a Python pickle, not an \.npz archive"):
        load_reference(pickled)
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, arrays["mean_gei"])
    with pytest.raises(GaitDataError, match=r"single\.npz: .*single \.npy array"):
        load_reference(single)


# ---------------------------------------------------------------------------------------------
# Report and command line
# ---------------------------------------------------------------------------------------------


def test_the_report_is_json_and_a_png(reference, real_like, tmp_path):
    result = measure_realism(real_like, reference)
    json_path, png_path = write_realism_report(result, reference, tmp_path / "report")
    report = json.loads(json_path.read_text())
    assert report["gei_frechet"] == result.gei_frechet and report["real_vs_real"]["gei_frechet"] == 1.93
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in json_path.parent.iterdir()) == ["realism_mean_gei.png", "realism_report.json"]


def test_cli_writes_json_and_png(reference_path, real_like, tmp_path, capsys):
    out = tmp_path / "realism"
    assert main(["realism", "--reference", str(reference_path), "--data", str(real_like), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "GEI Fréchet" in printed and str(out / "realism_report.json") in printed
    assert (out / "realism_mean_gei.png").stat().st_size > 10_000
    assert json.loads((out / "realism_report.json").read_text())["frechet_sequences"] == 221


def test_cli_refuses_a_bad_reference_and_an_output_inside_the_data(real_like, tmp_path, capsys):
    missing = tmp_path / "missing.npz"
    assert main(["realism", "--reference", str(missing), "--data", str(real_like), "--out", str(tmp_path / "o")]) == 2
    assert "missing.npz: reference GEI statistics: file does not exist" in capsys.readouterr().err
    inside = real_like / "reports"
    assert main(["realism", "--reference", str(missing), "--data", str(real_like), "--out", str(inside)]) == 2
    assert "overlaps the input" in capsys.readouterr().err and not inside.exists()
