"""The fidelity report: what `studio evaluate` computes, and the page it writes from the same JSON.

Tiny rendered walker datasets and a small freshly initialised GaitSet stand in for the bundled
judge: the numbers mean little, the plumbing is what is tested.
"""

import json
import re
import sys
import types

import cv2
import numpy as np
import pytest
import torch

from evaluation.fidelity_report import fidelity_report, format_headline, headline
from evaluation.html_report import write_report
from evaluation.perceptual import iou_frames, lpips_status, perceptual_report, ssim_frames
from gaitdata import GaitDataError, GaitSequence, scan_opengait, write_pkl_sequence
from gaitdata.opengait import read_pkl_sequence
from gaitdata.walkers import render_walker_dataset
from recognizers import CovariateClassifier, GaitSet, GEINet

VIEWS = ["000", "090", "180"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A real walker set and a generated-like one: the same 6 people (same seed) in new walks."""
    root = tmp_path_factory.mktemp("fidelity")
    real_conditions = ["nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "bg-01", "cl-01"]
    render_walker_dataset(root / "real", 6, real_conditions, VIEWS, frames=(30, 32), seed=3, workers=1)
    render_walker_dataset(root / "generated", 6, ["nm-07", "cl-03"], VIEWS, frames=(30, 32), seed=3, workers=1)
    return root


@pytest.fixture(scope="module")
def judge(tmp_path_factory):
    torch.manual_seed(0)
    model = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
    # as `from_pretrained` leaves it: the folder it came from (here one without a calibration.json)
    model.register_to_config(_name_or_path=tmp_path_factory.mktemp("judge-folder"))
    return model


@pytest.fixture(scope="module")
def classifier():
    torch.manual_seed(1)
    return CovariateClassifier(in_channels=8, parts_num=62, part_channels=4, hidden=8).eval()


@pytest.fixture(scope="module")
def report(folders, judge, classifier):
    return fidelity_report(folders / "real", folders / "generated", judge=judge, covariate_classifier=classifier)


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    json_path, html_path = write_report(report, tmp_path_factory.mktemp("report"))
    return json.loads(json_path.read_text()), html_path.read_text()


def _copy(src_root, dst_root, rename=lambda key: key, transform=lambda frames: frames):
    """Copy an OpenGait folder clip by clip, renaming (subject, condition, view) and changing frames."""
    for entry in scan_opengait(src_root):
        seq = read_pkl_sequence(entry)
        subject, condition, view = rename(entry.key)
        write_pkl_sequence(dst_root, GaitSequence(transform(seq.frames), subject, condition, view))


def _lookup(report, path):
    value = report
    for part in path.split("."):
        value = value[part]
    return value


def test_every_section_is_reported(report):
    identity = report["identity"]
    assert identity["defined"] and identity["subjects_in_common"] == 6 and identity["clips_scored"] == 36
    assert set(identity["per_condition"]) == {"NM", "CL"}
    for row in [*identity["per_condition"].values(), identity["mean"]]:
        assert 0 <= row["generated_rank1"] <= 100 and 0 <= row["real_rank1"] <= 100
    assert identity["mean"]["generated_probes"] == 36 and identity["mean"]["types"] == ["CL", "NM"]
    assert identity["chance_rank1"] == pytest.approx(100 / 6, rel=1e-4)
    assert 0 <= identity["verification"]["generated_tar_percent"] <= 100
    assert report["leakage"] is None  # only for anonymized clips
    assert report["naturalness"]["frechet"]["real_vs_real"] > 0
    assert set(report["naturalness"]["statistics"]) == {"foreground", "height_px", "width_px", "flicker"}
    assert report["covariates"]["available"] and report["covariates"]["generated"]["count"] == 36
    assert report["diversity"]["generated"]["identities"] == 6 and report["diversity"]["ratio"] > 0
    # the judge ships no calibration here: it is computed from the real clips, and said so
    assert "computed here" in report["calibration"]["source"]
    hist = report["histograms"]
    assert len(hist["edges"]) == len(next(iter(hist["counts"].values()))) + 1
    assert len(report["samples"]) == 6
    # real clips read: the gallery (nm-01..04) and the generated condition types (nm, cl), not bg
    assert report["data"]["real"]["clips"] == 6 * 3 * 6 and report["data"]["real"]["condition_types"] == ["CL", "NM"]
    assert report["timing"]["clips_embedded"] == 108 + 36


def _assert_page_shows_the_json(data, page, at_least):
    """Every number cell of the page is the JSON value at its data-path, and every headline number is there."""
    cells = re.findall(r'<td class="num" data-path="([^"]+)">([^<]*)</td>', page)
    assert len(cells) > at_least
    for path, text in cells:
        value = _lookup(data, path.replace("&#x27;", "'"))
        if value is None:
            assert text == "n/a", path
            continue
        shown = float(text.rstrip("%"))
        decimals = len(text.rstrip("%").split(".")[1]) if "." in text else 0
        assert shown == pytest.approx(value, abs=0.5 * 10**-decimals + 1e-12, rel=5e-4), (path, text, value)
    # every headline number is on the page, under its JSON path
    shown_paths = {p for p, _ in cells}
    for row in headline(data):
        if isinstance(row["value"], (int, float)):
            assert row["path"] in shown_paths


def test_html_shows_exactly_the_json_numbers(report, written):
    data, page = written
    assert data == json.loads(json.dumps(report))  # what was computed is what was saved
    _assert_page_shows_the_json(data, page, at_least=60)


def test_html_is_self_contained(written):
    _, page = written
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    assert page.count("data:image/png;base64,") >= 3  # rank-1 per view, histograms, Fréchet (+ covariates)
    assert page.count("data:image/gif;base64,") == 6


def test_no_subject_in_common_leaves_identity_undefined_and_computes_the_rest(folders, judge, classifier, tmp_path):
    novel = tmp_path / "novel"
    _copy(folders / "generated", novel, rename=lambda k: (f"novel-{k[0]}", k[1], k[2]))
    report = fidelity_report(folders / "real", novel, judge=judge, covariate_classifier=classifier)
    assert not report["identity"]["defined"]
    assert "no subject in common" in report["identity"]["reason"]
    assert report["naturalness"]["frechet"]["available"]
    assert report["covariates"]["available"] and report["diversity"]["ratio"] is not None
    assert "generated, other subjects" in report["histograms"]["counts"]
    assert "no subject in common" in format_headline(report)
    _, html_path = write_report(report, tmp_path / "out")
    assert "Undefined: no generated clip claims a subject" in html_path.read_text()


def test_empty_folders_are_named(folders, judge, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GaitDataError, match=f"{empty}: the generated folder holds no sequences"):
        fidelity_report(folders / "real", empty, judge=judge)
    with pytest.raises(GaitDataError, match=f"{empty}: the real folder holds no sequences"):
        fidelity_report(empty, folders / "generated", judge=judge)
    with pytest.raises(GaitDataError, match="does not exist"):
        fidelity_report(folders / "real", tmp_path / "missing", judge=judge)


def test_other_frame_sizes_are_brought_to_the_model_crop(folders, judge, tmp_path):
    big = tmp_path / "big"

    def enlarge(frames):  # 64x64 → 128x88: twice the height, and narrower than the stored square
        return np.stack([cv2.resize(f[:, 10:54], (88, 128), interpolation=cv2.INTER_NEAREST) for f in frames])

    _copy(folders / "generated", big, transform=enlarge)
    report = fidelity_report(folders / "real", big, judge=judge, samples=0)
    assert report["data"]["generated"]["frame_sizes"] == {"128x88": 36}
    assert report["data"]["generated"]["resized"] == 36 and report["data"]["real"]["resized"] == 0
    assert report["identity"]["defined"] and report["identity"]["clips_scored"] == 36
    # the same clips at their stored size: statistics agree to within the resampling
    same = fidelity_report(folders / "real", folders / "generated", judge=judge, samples=0)
    for name in ("foreground", "width_px"):
        a = report["naturalness"]["statistics"][name]["generated"]
        assert a == pytest.approx(same["naturalness"]["statistics"][name]["generated"], rel=0.05)


@pytest.fixture(scope="module")
def jittered(folders, tmp_path_factory):
    """Anonymized-looking clips (`anon-<subject>`) of every real nm-05 clip, barely changed: they must leak."""
    anon = tmp_path_factory.mktemp("anon")
    rng = np.random.default_rng(0)

    def jitter(frames):  # a stand-in anonymizer that flips 1% of the pixels
        noise = rng.random(frames.shape) < 0.01
        return np.where(noise, 255 - frames, frames).astype(np.uint8)

    for entry in scan_opengait(folders / "real", conditions=["nm-05"]):
        seq = read_pkl_sequence(entry)
        write_pkl_sequence(anon, GaitSequence(jitter(seq.frames), f"anon-{seq.subject}", seq.condition, seq.view))
    return anon


def test_anonymized_clips_are_paired_with_their_source_and_leakage_is_reported(folders, judge, jittered):
    anon = jittered
    calibration = {"metric": "euc", "threshold": 1e9, "far": 0.01}  # hand-made: accepts every pair
    torch.manual_seed(2)
    attacker = GEINet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()  # no calibration.json: one is made
    report = fidelity_report(
        folders / "real", anon, kind="anonymized", judge=judge, calibration=calibration, attackers={"tiny": attacker}
    )
    leakage = report["leakage"]
    assert leakage["defined"] and leakage["chance_rank1"] == pytest.approx(100 / 6, rel=1e-4)
    assert leakage["tar_percent"] == 100 and leakage["chance_tar_percent"] == 1
    assert report["calibration"]["source"] == "given"
    sim = report["identity"]["similarity_to_source"]
    assert sim["available"] and sim["count"] == 18 and sim["mean"] > 0.9
    perceptual = report["perceptual"]
    assert perceptual["pairs"] == 18 and "anon-<subject> name" in perceptual["paired"]
    assert perceptual["ssim"]["mean"] > 0.5 and perceptual["iou"]["mean"] > 0.9
    assert all(s["is_source"] for s in report["samples"])
    assert headline(report)[0]["label"].startswith("leakage rank-1")
    # every attacker, anonymized beside unmodified, each at its own threshold
    attackers = report["attackers"]
    assert attackers["defined"] and attackers["probes"] == 18 and attackers["left_out"] == 0
    names = ["judge", "gei_same_view", "gei_cross_view", "tiny"]
    assert list(attackers["rows"]["anonymized"]) == names and list(attackers["rows"]["unmodified"]) == names
    assert attackers["rows"]["anonymized"]["judge"]["tar_vs_gallery"] == 100  # the hand-made judge threshold
    assert attackers["attackers"]["judge"]["calibration"]["source"] == "given"
    assert "real probe clips" in attackers["attackers"]["tiny"]["calibration"]["source"]
    same_view = attackers["rows"]["anonymized"]["gei_same_view"]
    assert same_view["rank1"] >= 80 and same_view["tar_vs_source"] == 100  # 1% flipped pixels hide nobody
    assert same_view["chance_rank1"] == pytest.approx(100 / 6, abs=0.01)
    unmodified = attackers["rows"]["unmodified"]["gei_same_view"]
    assert unmodified["rank1"] >= 80 and unmodified["distance_to_source"]["mean"] == 0


def test_the_attackers_table_is_on_the_page_with_the_json_numbers(folders, judge, jittered, tmp_path):
    import recognizers

    try:
        recognizers.load_attacker()
    except FileNotFoundError as err:
        pytest.skip(f"bundled attacker not installed: {err}")
    report = fidelity_report(folders / "real", jittered, kind="anonymized", judge=judge, samples=0)
    rows = report["attackers"]["rows"]["anonymized"]
    assert recognizers.ATTACKER in rows  # the default: the bundled attacker, at its own calibration
    assert rows[recognizers.ATTACKER]["rank1"] >= 80  # 1% flipped pixels hide nobody from it
    # (its verification distances do grow under salt-and-pepper noise, which it never saw: hence the ceiling here)
    ceiling = report["attackers"]["rows"]["unmodified"][recognizers.ATTACKER]
    assert ceiling["rank1"] >= 80 and ceiling["tar_vs_source"] == 100 and ceiling["tar_vs_gallery"] >= 50
    calibration = report["attackers"]["attackers"][recognizers.ATTACKER]["calibration"]
    assert "geinet-attacker-walkers/calibration.json" in calibration["source"]
    labels = [row["label"] for row in headline(report)]
    assert (
        f"leakage rank-1, attacker {recognizers.ATTACKER}" in labels
        and "leakage rank-1, attacker gei_same_view" in labels
    )
    json_path, html_path = write_report(report, tmp_path / "out")
    page = html_path.read_text()
    assert "Leakage by attacker" in page
    _assert_page_shows_the_json(json.loads(json_path.read_text()), page, at_least=60)


def test_a_manifest_names_the_source_of_edited_clips(folders, judge, tmp_path):
    edited = tmp_path / "edited"
    sequences = []
    for entry in scan_opengait(folders / "real", conditions=["nm-05"], views=["090"]):
        seq = read_pkl_sequence(entry)
        write_pkl_sequence(edited, GaitSequence(seq.frames, seq.subject, "cl-05", "090"))
        sequences.append({"subject": seq.subject, "condition": "cl-05", "view": "090", "source": seq.source})
    # an augmented dataset also carries real clips along, unmodified: they are not judged
    copy = read_pkl_sequence(scan_opengait(folders / "real", conditions=["nm-01"], views=["000"])[0])
    write_pkl_sequence(edited, copy)
    sequences.append(
        {"action": "copy", "source": "001/nm-01/000", "subject": "001", "condition": "nm-01", "view": "000"}
    )
    (edited / "manifest.json").write_text(json.dumps({"sequences": sequences}))
    report = fidelity_report(folders / "real", edited, kind="edited", judge=judge)
    assert report["data"]["generated"]["clips"] == 6 and report["data"]["generated"]["real_copies_left_out"] == 1
    assert report["data"]["sources_named"] == 6 and report["data"]["sources_in_real_folder"] == 6
    assert report["perceptual"]["ssim"]["mean"] == pytest.approx(1.0)  # unchanged frames
    assert "generated folder's manifest" in report["perceptual"]["paired"]


def test_lpips_is_reported_unavailable_with_a_reason(report):
    lpips = report["perceptual"]["lpips"]
    assert lpips["available"] is False and "lpips" in lpips["reason"]


def test_lpips_runs_only_with_package_and_local_backbone_weights(monkeypatch, tmp_path):
    fake = types.ModuleType("lpips")

    class FakeLPIPS(torch.nn.Module):
        def __init__(self, net, verbose):
            super().__init__()

        def forward(self, x, y):  # [T, 3, H, W] in [-1, 1] twice → [T, 1, 1, 1]
            assert x.shape[1] == 3 and x.min() >= -1 and x.max() <= 1
            return (x - y).abs().mean(dim=(1, 2, 3), keepdim=True)

    fake.LPIPS = FakeLPIPS
    monkeypatch.setitem(sys.modules, "lpips", fake)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    status = lpips_status()
    assert not status["available"] and "not on disk" in status["reason"]
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "alexnet-owt-7be5be79.pth").write_bytes(b"")
    assert lpips_status()["available"]
    clip = np.zeros((10, 64, 44), np.uint8)
    clip[:, 10:50, 15:30] = 255
    result = perceptual_report([(clip, clip), (clip, np.zeros_like(clip))], "test pairs")
    assert result["lpips"]["available"] and result["lpips"]["median"] >= 0


def test_ssim_and_iou_of_known_frames():
    a = np.zeros((3, 64, 44), np.uint8)
    a[:, 10:40, 10:20] = 255
    b = np.zeros_like(a)
    b[:, 10:40, 25:35] = 255
    assert ssim_frames(a, a) == pytest.approx(np.ones(3))
    assert iou_frames(a, a) == pytest.approx(np.ones(3)) and iou_frames(a, b) == pytest.approx(np.zeros(3))
    assert (ssim_frames(a, b) < 0.8).all()
    assert len(ssim_frames(a, a[:2])) == 2  # the shorter length


def test_cli_writes_both_files_and_refuses_to_write_into_an_input(folders, judge, monkeypatch, capsys, tmp_path):
    import recognizers
    from studio.cli import main

    def no_classifier():
        raise FileNotFoundError("covariates-walkers: not bundled")

    monkeypatch.setattr(recognizers, "load_judge", lambda: judge)
    monkeypatch.setattr(recognizers, "load_covariate_classifier", no_classifier)
    out = tmp_path / "report"
    args = ["evaluate", "--real", str(folders / "real"), "--generated", str(folders / "generated"), "--out", str(out)]
    assert main([*args, "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"HTML: {out / 'fidelity_report.html'}" in printed
    assert "identity rank-1 (generated, mean over types)" in printed
    data = json.loads((out / "fidelity_report.json").read_text())
    assert data["covariates"] == {"available": False, "reason": "no covariate classifier given and none bundled"}
    inside = ["evaluate", "--real", str(folders / "real"), "--generated", str(folders / "generated")]
    assert main([*inside, "--out", str(folders / "real" / "report"), "--no-progress"]) == 2
    assert "overlaps the input" in capsys.readouterr().err


def test_principal_axes_through_the_gram_matrix_span_the_svd_subspace():
    from evaluation.fidelity import principal_axes

    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 300)) @ rng.normal(size=(300, 300))  # N < D: the Gram route
    x -= x.mean(0)
    axes = principal_axes(x, 8)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    overlap = np.abs(vt[:8] @ axes)  # |cos| between matching axes
    assert np.allclose(np.diag(overlap), 1.0, atol=1e-6)


def test_the_bundled_judge_finds_the_same_people_in_new_walks(folders, tmp_path):
    """A known answer: new walks of the same rendered people keep identity, look natural and read right."""
    import recognizers

    try:
        judge, classifier = recognizers.load_judge(), recognizers.load_covariate_classifier()
    except FileNotFoundError as err:
        pytest.skip(f"bundled judge / covariate classifier not installed: {err}")
    report = fidelity_report(folders / "real", folders / "generated", judge=judge, covariate_classifier=classifier)
    identity = report["identity"]
    assert identity["mean"]["generated_rank1"] >= 0.8 * identity["mean"]["real_rank1"]
    assert identity["mean"]["generated_rank1"] > 3 * identity["chance_rank1"]
    assert "gaitset-walkers/calibration.json" in report["calibration"]["source"]
    assert report["covariates"]["generated"]["clothing"] >= 90
    assert 0.5 < report["diversity"]["ratio"] < 2
    # the same clips claimed by the wrong people: identity preservation collapses
    rotate = {f"{i:03d}": f"{i % 6 + 1:03d}" for i in range(1, 7)}
    _copy(folders / "generated", tmp_path / "swapped", rename=lambda k: (rotate[k[0]], k[1], k[2]))
    swapped = fidelity_report(folders / "real", tmp_path / "swapped", judge=judge, covariate_classifier=classifier)
    assert swapped["identity"]["mean"]["generated_rank1"] < 0.3 * identity["mean"]["generated_rank1"]
