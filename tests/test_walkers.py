"""Procedural walkers: determinism, covariates, CASIA-B realism, mocap calibration, dataset writer."""

import hashlib
import json
from dataclasses import replace

import numpy as np
import pytest

from gaitdata import load_opengait, read_partition
from gaitdata.job_folder import read_rows
from gaitdata.silhouette_stats import silhouette_stats
from gaitdata.walkers import (
    CASIA_B_CONDITIONS,
    camera_for,
    identity_for,
    render_walker_dataset,
    render_walker_masks,
    render_walker_sequence,
    sample_identity,
    sample_walk,
    walk_for,
)
from gaitdata.walkers.covariates import sample_bag, sample_coat
from gaitdata.walkers.realism import CASIA_B_REFERENCE, mocap_gait_figures, procedural_gait_figures
from gaitdata.walkers.style import CALIBRATED, WALKER_STYLES
from studio.cli import main as studio_main

CLEAN = {"edge_noise": 0.0, "hole_rate": 0.0, "shadow": 0.0}  # noise-free camera, for geometric checks


def _clip(subject="001", condition="nm-01", view="090", seed=0, **camera_changes):
    identity = identity_for(seed, subject)
    walk = walk_for(seed, identity, condition)
    camera = replace(camera_for(seed, subject, condition, view), **camera_changes)
    return render_walker_sequence(identity, walk, camera.view_deg, camera=camera)


# --- the public API ----------------------------------------------------------------------------


def test_a_clip_is_a_pretreated_opengait_sequence_with_ground_truth():
    seq = _clip(num_frames=40)
    assert seq.frames.shape == (40, 64, 64) and seq.frames.dtype == np.uint8
    assert (seq.subject, seq.condition, seq.view, seq.fps) == ("001", "nm-01", "090", 25.0)
    soft = ((seq.frames > 12) & (seq.frames < 243)).mean()
    assert 0 < soft < 0.1, "edges are soft after the downscale, as in CASIA-B"
    truth = json.loads(json.dumps(seq.extra))["walker"]  # JSON-serialisable
    assert truth["identity"]["subject"] == "001" and truth["walk"]["condition"] == "nm-01"
    assert truth["camera"]["num_frames"] == 40


def test_same_seed_same_bytes_other_seed_other_clip():
    a, b = _clip(seed=3), _clip(seed=3)
    np.testing.assert_array_equal(a.frames, b.frames)
    c = _clip(seed=4)
    assert a.frames.shape != c.frames.shape or not np.array_equal(a.frames, c.frames)


def test_identities_differ_in_body_and_gait():
    people = [identity_for(0, f"{i:03d}") for i in range(1, 31)]
    for field in ("height", "leg_length", "shoulder_width", "build", "cadence", "arm_swing", "stride_scale"):
        values = np.array([getattr(p, field) for p in people])
        assert values.std() / values.mean() > 0.01, f"{field} barely varies"
    a = _clip("001", num_frames=30, **CLEAN)
    b = _clip("002", num_frames=30, **CLEAN)
    assert np.abs(a.model_input().mean(0) - b.model_input().mean(0)).mean() > 0.01


def test_sample_identity_takes_a_seed_or_a_generator():
    assert sample_identity(7, "x") == sample_identity(np.random.default_rng(7), "x")
    assert sample_identity(7, "x") != sample_identity(8, "x")


def test_any_view_angle_renders():
    seq = _clip(view="045.5", num_frames=12)
    assert seq.view == "045.5" and seq.frames.shape == (12, 64, 64)
    identity = identity_for(0, "005")
    seq = render_walker_sequence(identity, walk_for(0, identity, "bg-02"), 271.25, num_frames=8)
    assert seq.view == "271.2" or seq.view == "271.3"


def test_front_view_is_narrower_than_side_view():
    side = np.mean([silhouette_stats(_clip(f"{i:03d}", view="090", **CLEAN).frames)["width_px"] for i in range(1, 6)])
    front = np.mean([silhouette_stats(_clip(f"{i:03d}", view="000", **CLEAN).frames)["width_px"] for i in range(1, 6)])
    assert front < side - 2, (front, side)


def _raw_area(identity, walk, view, frames=25):
    camera = replace(camera_for(0, identity.subject, "nm-01", view), num_frames=frames, **CLEAN)
    return (render_walker_masks(identity, walk, camera) > 0).mean(axis=(1, 2)) * 1.0


@pytest.mark.parametrize("kind", ["long_coat", "coat", "trench", "parka", "jacket"])
def test_a_coat_widens_the_outline_and_hides_the_legs(kind):
    identity = identity_for(0, "010")
    nm = walk_for(0, identity, "nm-01")
    coat = sample_coat(np.random.default_rng(1), kind)
    cl = replace(nm, coat=coat)
    cam = replace(camera_for(0, "010", "nm-01", "090"), num_frames=30, **CLEAN)
    a = render_walker_sequence(identity, nm, 90, camera=cam).model_input()
    b = render_walker_sequence(identity, cl, 90, camera=cam).model_input()
    assert b.mean() > a.mean() + 0.01, "a coat adds foreground"
    # Between the hips (row ~30 of 64) and the hem the gap between the legs fills in: leg motion shows less.
    hem_row = int(64 * (1 - coat.hem)) - 1
    if hem_row > 32:  # a jacket ends at the hips
        band_a, band_b = a[:, 30:hem_row], b[:, 30:hem_row]
        assert band_b.mean() > band_a.mean() + 0.02
        assert np.abs(np.diff(band_b, axis=0)).mean() < np.abs(np.diff(band_a, axis=0)).mean()


@pytest.mark.parametrize("kind", ["backpack", "shoulder_bag", "handbag"])
def test_a_bag_adds_area(kind):
    identity = identity_for(0, "011")
    nm = walk_for(0, identity, "nm-01")
    bag = replace(sample_bag(np.random.default_rng(2), kind), side=-1)  # on the right: the cameras' side
    bg = replace(nm, bag=bag, carry_side=0 if kind == "backpack" else bag.side, carry_damp=0.3, carry_kind=kind)
    for view in ("090", "054"):
        assert _raw_area(identity, bg, view).mean() > _raw_area(identity, nm, view).mean() * 1.02, view


def test_conditions_are_validated():
    identity = identity_for(0, "001")
    with pytest.raises(ValueError, match="unknown condition 'walk-01'"):
        sample_walk(identity, "walk-01", 0)
    with pytest.raises(ValueError, match="num_frames"):
        render_walker_sequence(identity, walk_for(0, identity, "nm-01"), 90.0, num_frames=0)


# --- realism: CASIA-B silhouettes and real motion capture ---------------------------------------

# Rendered figures must lie within 25 % of the CASIA-B reference (the centre of its range).
TOLERANCE = 0.25


def test_silhouette_statistics_match_casia_b():
    groups = {"front_back": ("000", "180"), "oblique": ("036", "144"), "side": ("090",)}
    foreground = {}
    for group, views in groups.items():
        for condition in ("nm-01", "bg-01", "cl-01"):
            stats = [silhouette_stats(_clip(f"{i:03d}", condition, v).frames) for i in range(1, 9) for v in views]
            measured = {k: float(np.nanmean([s[k] for s in stats])) for k in stats[0]}
            foreground[group, condition[:2]] = measured["foreground"]
            print(f"{group:10s} {condition[:2]}", {k: round(v, 3) for k, v in measured.items()})
            if condition != "nm-01":
                continue
            for key, (lo, hi) in CASIA_B_REFERENCE[group].items():
                ref = (lo + hi) / 2
                assert abs(measured[key] - ref) <= TOLERANCE * ref, (
                    f"{group} {key}: {measured[key]:.3f} vs CASIA-B {ref}"
                )
            assert 0.015 <= measured["soft"] <= 0.06, "CASIA-B has ~3 % soft pixels"
    for group in groups:
        # CASIA-B: CL and BG add 1-3 points of foreground over NM; allow 0-5.
        for cov in ("bg", "cl"):
            gain = foreground[group, cov] - foreground[group, "nm"]
            assert -0.002 <= gain <= 0.05, f"{group} {cov} adds {gain:.3f}"
    assert foreground["side", "cl"] > foreground["side", "nm"] + 0.01


def test_walk_cycle_matches_real_motion_capture(shared_data):
    real = mocap_gait_figures(shared_data / "cmu-walk")
    ours = procedural_gait_figures(num_identities=16)
    print("\n figure                     real   procedural")
    for key in real:
        print(f" {key:26s} {real[key]:6.1f} {ours[key]:8.1f}")
    assert ours["hip_rom"] == pytest.approx(real["hip_rom"], abs=6.0)  # deg
    assert ours["knee_rom"] == pytest.approx(real["knee_rom"], abs=6.0)
    assert ours["ankle_rom"] == pytest.approx(real["ankle_rom"], abs=8.0)
    assert ours["knee_peak_swing_pct"] == pytest.approx(real["knee_peak_swing_pct"], abs=4.0)  # % of cycle
    assert ours["hip_peak_extension_pct"] == pytest.approx(real["hip_peak_extension_pct"], abs=4.0)
    # Walkers step a little faster than these six trials, as CASIA-B's walkers do (half cycle 12-13 frames).
    assert ours["cadence_steps_per_min"] == pytest.approx(real["cadence_steps_per_min"], rel=0.12)


def test_half_gait_cycle_is_casia_b_like():
    periods = [silhouette_stats(_clip(f"{i:03d}", view="090", num_frames=60).frames)["half_cycle"] for i in range(1, 9)]
    assert 11.0 <= np.nanmean(periods) <= 14.5, periods


# --- the dataset writer -------------------------------------------------------------------------

SMALL = {"num_subjects": 3, "conditions": ["nm-01", "bg-01", "cl-02"], "views": ["000", "090"], "frames": (8, 12)}


def test_dataset_layout_partition_ground_truth_and_resume(tmp_path):
    root = tmp_path / "walkers"
    calls = []
    summary = render_walker_dataset(root, workers=1, progress=lambda done, total: calls.append((done, total)), **SMALL)
    assert summary["written"] == 18 and summary["skipped"] == 0
    assert calls[-1] == (18, 18) and len(calls) == 9  # one call per (subject, condition)
    sequences, report = load_opengait(root)
    assert report.loaded == 18 and not report.skipped
    assert {s.view for s in sequences} == {"000", "090"} and all(8 <= s.num_frames <= 12 for s in sequences)
    assert sorted(p.name for p in (root / "001" / "nm-01" / "090").iterdir()) == ["090.pkl"]
    partition = read_partition(root / "partition.json")
    assert partition.train == ["001", "002"] and partition.test == ["003"]
    truth = json.loads((root / "ground_truth.json").read_text())
    assert set(truth["identities"]) == {"001", "002", "003"}
    assert truth["cameras"]["002/cl-02/000"]["num_frames"] == next(
        s.num_frames for s in sequences if s.key == ("002", "cl-02", "000")
    )
    assert truth["walks"]["003/cl-02"]["coat"] is not None and truth["walks"]["003/bg-01"]["bag"] is not None

    # A killed run resumes: nothing new the second time; a lost sequence comes back byte-identical.
    victim = root / "002" / "bg-01" / "000" / "000.pkl"
    original = victim.read_bytes()
    assert render_walker_dataset(root, workers=1, **SMALL)["written"] == 0
    victim.unlink()
    again = render_walker_dataset(root, workers=2, **SMALL)
    assert again["written"] == 1 and again["skipped"] == 17
    assert victim.read_bytes() == original
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["settings"]["seed"] == 0
    assert manifest["written"] == 1 and manifest["kind"] == "gait-studio procedural walkers"
    rows = read_rows(root / "manifest.jsonl")  # one row per sequence, in the dataset's order
    assert len(rows) == 18 and rows[0] == {"path": "001/nm-01/000/000.pkl", "subject": "001", "condition": "nm-01",
                                           "view": "000", "frames": rows[0]["frames"], "status": "done"}  # fmt: skip
    assert [r["path"] for r in rows[:3]] == ["001/nm-01/000/000.pkl", "001/nm-01/090/090.pkl", "001/bg-01/000/000.pkl"]


def test_two_workers_write_the_same_bytes_as_one(tmp_path):
    render_walker_dataset(tmp_path / "a", workers=1, **SMALL)
    render_walker_dataset(tmp_path / "b", workers=2, **SMALL)
    for pkl in sorted((tmp_path / "a").rglob("*.pkl")):
        assert pkl.read_bytes() == (tmp_path / "b" / pkl.relative_to(tmp_path / "a")).read_bytes()


def test_dataset_refuses_foreign_folders_and_other_settings(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        render_walker_dataset(foreign, **SMALL)
    root = tmp_path / "walkers"
    render_walker_dataset(root, workers=1, **SMALL)
    with pytest.raises(ValueError, match="other settings"):
        render_walker_dataset(root, workers=1, **{**SMALL, "frames": (8, 13)})


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"frames": (60, 30)}, "min <= max"),
        ({"frames": (0, 3)}, "min <= max"),
        ({"conditions": ["nm-01", "rain-01"]}, "unknown condition 'rain-01'"),
        ({"conditions": []}, "no conditions"),
        ({"num_subjects": 0}, "positive integer"),
        ({"views": ["side"]}, "not a number of degrees"),
        ({"views": ["090", "90"]}, "listed twice"),
    ],
)
def test_bad_dataset_arguments_say_what_is_wrong(tmp_path, changes, problem):
    with pytest.raises(ValueError, match=problem):
        render_walker_dataset(tmp_path / "x", **{**SMALL, **changes})
    assert not (tmp_path / "x").exists(), "nothing is written before the arguments are checked"


def test_cli_synth_data(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["synth-data", "--out", str(out), "--subjects", "2", "--conditions", "nm-01,cl-01", "--views", "090,45.5"]
    assert studio_main([*args, "--frames", "5", "6", "--no-progress", "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == 8
    assert (out / "002" / "cl-01" / "045.5" / "045.5.pkl").is_file()
    assert studio_main(["synth-data", "--out", str(tmp_path / "bad"), "--frames", "9", "3"]) == 2
    assert "min <= max" in capsys.readouterr().err


def test_default_conditions_are_casia_b():
    assert CASIA_B_CONDITIONS == (
        "nm-01",
        "nm-02",
        "nm-03",
        "nm-04",
        "nm-05",
        "nm-06",
        "bg-01",
        "bg-02",
        "cl-01",
        "cl-02",
    )


# --- walker styles: the default stays, the calibrated one is opt-in ------------------------------

# Measured on a render made before walker styles existed: the bundled models were trained on
# exactly these walkers, so the default style must keep rendering them byte for byte.
DEFAULT_RENDER = {
    "num_subjects": 4,
    "conditions": ["nm-01", "bg-01", "bg-02", "cl-01", "cl-02"],
    "views": ["000", "054", "090", "180"],
    "frames": (6, 9),
}
DEFAULT_RENDER_SHA256 = "8a5b46333d6ddfa1821c084d1df6eabf8076b8e77acba929e15298998677d85a"
DEFAULT_TRUTH_SHA256 = "e2226454a59bbe9c1f4b2952b433a198a35bee108eae4993c6bd8dceb67ff516"


def _render_digest(root) -> str:
    digest = hashlib.sha256()
    for pkl in sorted(root.rglob("*.pkl")):
        digest.update(str(pkl.relative_to(root)).encode())
        digest.update(pkl.read_bytes())
    return digest.hexdigest()


def test_the_default_style_renders_the_same_bytes_as_before_styles_existed(tmp_path):
    render_walker_dataset(tmp_path / "d", workers=1, **DEFAULT_RENDER)
    assert _render_digest(tmp_path / "d") == DEFAULT_RENDER_SHA256
    truth = json.loads((tmp_path / "d" / "ground_truth.json").read_text())
    assert truth.pop("style") == "default"
    # Apart from the style's name, the ground truth is the one written before styles existed.
    old_layout = json.dumps({"seed": truth.pop("seed"), **truth}, separators=(",", ":")) + "\n"
    assert hashlib.sha256(old_layout.encode()).hexdigest() == DEFAULT_TRUTH_SHA256


def test_the_calibrated_style_is_opt_in_and_recorded(tmp_path):
    assert WALKER_STYLES == ("default", "calibrated")
    root = tmp_path / "cal"
    summary = render_walker_dataset(root, workers=1, style="calibrated", **SMALL)
    assert summary["style"] == "calibrated" and summary["written"] == 18
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["settings"]["style"] == "calibrated"
    truth = json.loads((root / "ground_truth.json").read_text())
    assert truth["style"] == "calibrated" and "arm_abduction" in truth["calibrated_look"]
    person = truth["identities"]["001"]
    assert person["outfit"]["lower"] in ("trousers", "wide_trousers", "skirt")
    camera = truth["cameras"]["001/nm-01/090"]
    assert camera["from_left"] is True and "threshold" in camera["segmentation"]
    # Same identity, other look: the calibrated walkers are other frames than the default ones.
    default = render_walker_dataset(tmp_path / "def", workers=1, **SMALL)
    assert default["style"] == "default"
    pkl = "001/nm-01/090/090.pkl"
    assert (root / pkl).read_bytes() != (tmp_path / "def" / pkl).read_bytes()
    # A folder rendered in one style is not resumed in the other.
    with pytest.raises(ValueError, match="other settings.*style"):
        render_walker_dataset(root, workers=1, **SMALL)
    with pytest.raises(ValueError, match="unknown walker style 'cartoon'"):
        render_walker_dataset(tmp_path / "x", style="cartoon", **SMALL)


def test_a_default_render_made_before_styles_existed_still_resumes(tmp_path):
    root = tmp_path / "old"
    render_walker_dataset(root, workers=1, **SMALL)
    manifest = json.loads((root / "manifest.json").read_text())
    del manifest["settings"]["style"]  # as written before styles existed
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert render_walker_dataset(root, workers=1, **SMALL)["written"] == 0


def test_a_render_made_before_the_one_manifest_format_is_resumed_not_redone(tmp_path):
    root = tmp_path / "old"
    render_walker_dataset(root, workers=1, **SMALL)
    settings = json.loads((root / "manifest.json").read_text())["settings"]
    del settings["style"]  # made before styles existed, too
    # as that version left a killed render: walkers_manifest.json and the pkls, one not written yet
    for name in ("manifest.json", "manifest.jsonl"):
        (root / name).unlink()
    old = {"kind": "gait-studio procedural walkers", "generator_version": 1, "settings": settings,
           "complete": False, "sequences": 18}  # fmt: skip
    (root / "walkers_manifest.json").write_text(json.dumps(old))
    victim = root / "003" / "cl-02" / "090" / "090.pkl"
    original = victim.read_bytes()
    victim.unlink()
    with pytest.raises(ValueError, match="other settings.*seed"):
        render_walker_dataset(root, workers=1, **SMALL, seed=1)
    again = render_walker_dataset(root, workers=1, **SMALL)
    assert again["written"] == 1 and again["skipped"] == 17 and victim.read_bytes() == original
    assert not (root / "walkers_manifest.json").exists()  # converted into the one format
    assert len(read_rows(root / "manifest.jsonl")) == 18
    assert json.loads((root / "manifest.json").read_text())["status"] == "complete"


def _calibrated_clip(subject="001", condition="nm-01", view="090", frames=30, steady=False):
    identity = identity_for(0, subject, "calibrated")
    camera = replace(camera_for(0, subject, condition, view, style="calibrated"), num_frames=frames)
    if steady:  # without the frame misalignment of a glitchy segmentation: the body's own motion only
        camera = replace(camera, segmentation=replace(camera.segmentation, misalign_px=0.0, misalign_scale=0.0))
    return render_walker_sequence(identity, walk_for(0, identity, condition), camera.view_deg, camera=camera)


def test_calibrated_walkers_keep_their_ground_truth_semantics():
    person = identity_for(0, "010", "calibrated")
    plain = identity_for(0, "010")
    # The same person: proportions, gait and belongings are the default identity's.
    for name in ("height", "leg_length", "cadence", "stride_scale", "coats"):
        assert getattr(person, name) == getattr(plain, name), name
    # Same kinds of bag; size, side and drop are re-fitted (real bags show on a fitted side).
    assert [b.kind for b in person.bags] == [b.kind for b in plain.bags]
    assert all(b.side in (-1, 1) and b.drop >= p.drop for b, p in zip(person.bags, plain.bags))
    assert person.style == "calibrated" and plain.style == "default" and plain.outfit is None
    # Everyday clothes belong to the person: every condition of one identity wears the same outfit.
    assert identity_for(0, "010", "calibrated").outfit == person.outfit
    # The second fit's shapes (soft shoulders, torso breadth, merged legs) are drawn within the look.
    outfit, look = person.outfit, CALIBRATED
    assert look.shoulder_drop[0] <= outfit.shoulder_drop <= look.shoulder_drop[1]
    assert look.leg_inset[0] <= outfit.leg_inset <= look.leg_inset[1]
    assert look.arm_inset[0] <= outfit.arm_inset <= look.arm_inset[1] and outfit.trunk_width > 0.5
    nm, cl, bg = (_calibrated_clip("010", c, steady=True).model_input() for c in ("nm-01", "cl-01", "bg-01"))
    assert cl.mean() > nm.mean() + 0.005, "a coat over the clothes adds foreground"
    band_nm, band_cl = nm[:, 30:44], cl[:, 30:44]
    # subject 010's long coat covers the thighs and the gap between them (a flared hem still swings,
    # so frame-to-frame change is no sign of it)
    assert band_cl.mean() > band_nm.mean() + 0.03, "coats hide legs"
    assert bg.mean() > nm.mean(), "a bag adds area"
    seq = _calibrated_clip(view="045.5", frames=10)
    assert seq.view == "045.5" and seq.frames.shape == (10, 64, 64)
    # Without a camera, a calibrated identity gets the calibrated camera of its sequence.
    auto = render_walker_sequence(person, walk_for(0, person, "nm-01"), 90.0)
    assert auto.extra["walker"]["camera"]["from_left"] is True


def test_cli_synth_data_style(tmp_path, capsys):
    out = tmp_path / "cal"
    args = ["synth-data", "--out", str(out), "--subjects", "2", "--conditions", "nm-01", "--views", "090"]
    assert studio_main([*args, "--frames", "5", "6", "--no-progress", "--workers", "1", "--style", "calibrated"]) == 0
    assert json.loads(capsys.readouterr().out)["style"] == "calibrated"
    assert json.loads((out / "ground_truth.json").read_text())["style"] == "calibrated"
    assert studio_main([*args[:2], str(tmp_path / "bad"), "--style", "cartoon"]) == 2
    assert "unknown walker style 'cartoon'" in capsys.readouterr().err
