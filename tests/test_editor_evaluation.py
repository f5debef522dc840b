"""The editor's evaluation measures what it claims: baselines, motion agreement, leakage, end to end."""

import json

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler

from evaluation.leakage import leakage_report
from evaluation.motion import lagged_correlation, motion_agreement, summarize_motion
from gaitdata import GaitSequence, read_partition
from gaitdata.silhouette_stats import signal_period, width_signal
from gaitdata.walkers import identity_for, render_walker_dataset, render_walker_sequence, walk_for
from generators import GaitGenerationPipeline, GaitLatentDenoiser, IdentityBank, SilhouetteAutoencoder
from generators.baselines import blur_silhouettes, morph_silhouettes
from generators.editor import GaitEditor
from recognizers import CovariateClassifier, GaitBase, GaitSet, GEINet, calibrate
from studio.jobs.evaluate_editor import evaluate_editor, format_editor_report, shifted_view, source_views


@pytest.fixture(scope="module")
def side_clip():
    person = identity_for(7, "003")
    return render_walker_sequence(person, walk_for(7, person, "nm-05"), view_deg=90, num_frames=60)


# ---- baselines ------------------------------------------------------------------------------
@pytest.mark.parametrize("baseline", [blur_silhouettes, morph_silhouettes])
def test_baselines_change_the_silhouette_and_keep_shape_dtype_and_names(side_clip, baseline):
    out = baseline(side_clip, 1.0)
    assert out.frames.shape == side_clip.frames.shape and out.frames.dtype == np.uint8
    assert out.key == side_clip.key
    changed = (out.frames > 127) != (side_clip.frames > 127)
    assert changed.mean() > 0.005  # a visible share of the pixels flipped
    assert out.extra["baseline"]["name"] in ("blur", "morph")
    np.testing.assert_array_equal(baseline(side_clip, 0.0).frames, side_clip.frames)


def test_blur_is_rethresholded_and_stronger_blur_changes_more(side_clip):
    mild, strong = blur_silhouettes(side_clip, 0.3), blur_silhouettes(side_clip, 1.0)
    assert set(np.unique(strong.frames).tolist()) <= {0, 255}
    source = side_clip.frames > 127
    assert ((strong.frames > 127) != source).sum() > ((mild.frames > 127) != source).sum()


def test_closing_only_adds_and_erosion_only_removes(side_clip):
    source = side_clip.frames.astype(int)
    assert (morph_silhouettes(side_clip, 1.0, "close").frames.astype(int) >= source).all()
    assert (morph_silhouettes(side_clip, 1.0, "erode").frames.astype(int) <= source).all()


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: blur_silhouettes(c, 1.5), r"strength must lie in \[0, 1\]"),
        (lambda c: morph_silhouettes(c, -0.1), r"strength must lie in \[0, 1\]"),
        (lambda c: morph_silhouettes(c, 0.5, "smudge"), "operation must be one of"),
        (lambda c: blur_silhouettes(c.frames, 0.5), "expected a GaitSequence"),
    ],
)
def test_baselines_refuse_bad_input(side_clip, call, message):
    with pytest.raises(ValueError, match=message):
        call(side_clip)


# ---- motion ---------------------------------------------------------------------------------
def test_a_clip_agrees_perfectly_with_itself(side_clip):
    m = motion_agreement(side_clip.frames, side_clip.frames)
    assert m["measurable"] and 6 <= m["source_step_period"] <= 25
    assert m["cadence_relative_error"] == 0 and m["lag_frames"] == 0 and m["phase_error"] == 0
    assert m["correlation_lag0"] == pytest.approx(1.0)
    assert m["source_cadence_spm"] == pytest.approx(60 * 25 / m["source_step_period"])


@pytest.mark.parametrize("shift", [2, 4])
def test_a_time_shifted_copy_shows_the_shift(side_clip, shift):
    frames = side_clip.frames
    period = signal_period(width_signal(frames[: len(frames) - shift]))
    late = motion_agreement(frames[shift:], frames[: len(frames) - shift])  # the edit's steps come `shift` later
    early = motion_agreement(frames[: len(frames) - shift], frames[shift:])
    assert late["lag_frames"] == shift and early["lag_frames"] == -shift
    assert late["phase_offset"] == pytest.approx(shift / late["source_step_period"])
    assert late["phase_error"] == pytest.approx(shift / period, rel=0.2)
    assert late["correlation_best"] > late["correlation_lag0"]
    assert late["cadence_relative_error"] < 0.1  # same walk: same cadence


def test_lagged_correlation_aligns_a_shifted_signal():
    t = np.arange(50, dtype=float)
    signal = np.sin(2 * np.pi * t / 12)
    shifted = np.sin(2 * np.pi * (t - 3) / 12)  # the same wave, 3 samples later
    assert lagged_correlation(signal, shifted, 3) == pytest.approx(1.0)
    assert lagged_correlation(signal, shifted, 0) < 0.8


def test_motion_summary_counts_kept_and_lost(side_clip):
    frames = side_clip.frames
    flat = np.zeros_like(frames)
    flat[:, 10:60, 25:40] = 255  # a rigid block: no swing, no period
    rows = [motion_agreement(frames, frames), motion_agreement(frames, flat)]
    summary = summarize_motion(rows)
    assert summary["clips"] == 2 and summary["measurable"] == 2 and summary["lost_periodicity"] == 1
    assert summary["motion_kept"] == 50.0


# ---- leakage --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic_identities():
    """20 subjects: a centre each in [8, 4] part space; 4 gallery clips and 3 probe clips around it."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 8, 4))
    subjects = np.array([f"{i:03d}" for i in range(20)])
    gallery = np.repeat(centres, 4, axis=0) + 0.1 * rng.normal(size=(80, 8, 4))
    probes = np.repeat(centres, 3, axis=0) + 0.1 * rng.normal(size=(60, 8, 4))
    calibration = calibrate(
        np.concatenate([gallery, probes]), np.concatenate([np.repeat(subjects, 4), np.repeat(subjects, 3)])
    )
    return {
        "gallery": gallery,
        "gallery_subjects": np.repeat(subjects, 4),
        "probes": probes,
        "probe_subjects": np.repeat(subjects, 3),
        "calibration": calibration,
    }


def test_unmodified_clips_leak_fully(synthetic_identities):
    s = synthetic_identities
    r = leakage_report(
        s["probes"], s["probe_subjects"], s["probes"], s["gallery"], s["gallery_subjects"], s["calibration"]
    )
    assert r["rank1"] == 100 and r["tar_vs_source"] == 100 and r["tar_vs_gallery"] > 90
    assert r["chance_rank1"] == 5.0 and r["rank1_over_chance"] == 20.0
    assert r["distance_to_source"]["mean"] == 0 and r["impostor_accept_vs_gallery"] <= 2


def test_random_clips_leak_at_chance(synthetic_identities):
    s = synthetic_identities
    rng = np.random.default_rng(1)
    others = rng.normal(size=(600, 8, 4))  # nobody in particular, ten per probe
    source = np.repeat(s["probes"], 10, axis=0)
    subjects = np.repeat(s["probe_subjects"], 10)
    r = leakage_report(source, subjects, others, s["gallery"], s["gallery_subjects"], s["calibration"])
    assert abs(r["rank1"] - r["chance_rank1"]) < 3.5  # 600 probes: ±0.9 points standard error
    assert r["tar_vs_source"] < 2 and r["tar_vs_gallery"] < 2
    assert r["distance_to_source"]["p50"] > s["calibration"]["threshold"]


def test_leakage_report_refuses_what_it_cannot_measure(synthetic_identities):
    s = synthetic_identities
    keep = s["gallery_subjects"] != "000"
    with pytest.raises(ValueError, match="without gallery clips"):
        leakage_report(
            s["probes"],
            s["probe_subjects"],
            s["probes"],
            s["gallery"][keep],
            s["gallery_subjects"][keep],
            s["calibration"],
        )
    with pytest.raises(ValueError, match="differ in shape"):
        leakage_report(
            s["probes"], s["probe_subjects"], s["probes"][:5], s["gallery"], s["gallery_subjects"], s["calibration"]
        )
    with pytest.raises(ValueError, match="no 'threshold'"):
        leakage_report(
            s["probes"], s["probe_subjects"], s["probes"], s["gallery"], s["gallery_subjects"], {"metric": "euc"}
        )


# ---- source layout --------------------------------------------------------------------------
def test_views_rotate_over_subjects_and_view_edits_fold_back():
    views = ["000", "036", "072", "108", "144", "180"]
    assert source_views(0, views, 2) == ["000", "036"] and source_views(1, views, 2) == ["072", "108"]
    assert source_views(3, views, 2) == ["000", "036"]
    assert source_views(0, ["090"], 3) == ["090"]
    assert shifted_view("036", 54) == "090" and shifted_view("162", 54) == "108" and shifted_view("180", 54) == "126"


# ---- end to end -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_benchmark(tmp_path_factory):
    root = tmp_path_factory.mktemp("walkers")
    conditions = ["nm-01", "nm-02", "nm-03", "nm-04", "nm-05", "nm-06", "bg-01", "cl-01"]
    render_walker_dataset(root, 7, conditions, ["036", "090", "144"], frames=(30, 34), seed=4, workers=1)
    return root


@pytest.fixture(scope="module")
def tiny_editor():
    torch.manual_seed(0)
    conditioner = GaitBase(channels=(8, 16), strides=(2, 1), stem_channels=8, embedding_dim=16, class_num=4).eval()
    judge = GaitSet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()
    dim = int(np.prod(conditioner.embed(np.zeros((2, 64, 64), np.uint8)).shape))
    denoiser = GaitLatentDenoiser(latent_dim=16, identity_dim=dim, width=32, depth=1, heads=2)
    scheduler = DPMSolverMultistepScheduler(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    pipeline = GaitGenerationPipeline(SilhouetteAutoencoder(latent_dim=16, channels=16), denoiser, scheduler)
    pipeline.conditioner = conditioner
    bank = IdentityBank(np.random.default_rng(0).normal(size=(6, dim)), [f"{i:03d}" for i in range(6)])
    calibration = {"metric": "euc", "threshold": 0.05, "far": 0.01, "tar": 0.5}
    return GaitEditor(pipeline, bank=bank, judge=judge, calibration=calibration)


def test_eval_editor_writes_every_section(tiny_benchmark, tiny_editor, tmp_path):
    classifier = CovariateClassifier(in_channels=8, parts_num=62, part_channels=4, hidden=8).eval()
    out = tmp_path / "results.json"
    torch.manual_seed(2)
    attacker = GEINet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()  # no calibration.json: one is made
    result = evaluate_editor(
        tiny_benchmark,
        out,
        editor=tiny_editor,
        covariate_classifier=classifier,
        views_per_subject=2,
        steps=2,
        max_attempts=2,
        baseline_strengths=(0.5,),
        progress=False,
        attackers={"tiny-geinet": attacker},
    )
    assert json.loads(out.read_text()) == result
    tested = len(read_partition(tiny_benchmark / "partition.json").test)
    assert result["test_subjects"] == tested and result["source_clips"] == tested * 2
    assert set(result["edit"]) == {"source_rank1_nm", "BG", "CL", "VIEW"}
    for kind in ("BG", "CL", "VIEW"):
        edit = result["edit"][kind]
        assert edit["clips"] == tested * 2
        assert 0 <= edit["identity"]["edited_rank1"] <= 100 and 0 < edit["identity"]["real_rank1"] <= 100
        assert 0 <= edit["requested_attribute_accuracy"] <= 100
        assert edit["motion"]["clips"] == tested * 2
    assert list(result["anonymize"]) == ["unmodified", "blur@0.5", "morph@0.5", "anonymizer"]
    unmodified = result["anonymize"]["unmodified"]["leakage"]
    assert unmodified["tar_vs_source"] == 100 and unmodified["chance_rank1"] == pytest.approx(100 / tested, abs=0.01)
    for arm in result["anonymize"].values():
        assert arm["leakage"]["probes"] == tested * 2 and 0 <= arm["view_kept"] <= 100
        assert arm["frechet"]["real_vs_real"] > 0 and set(arm["view_kept_by_view"]) <= {"036", "090", "144"}
    reference = result["anonymize_frechet_reference"]
    assert reference["clips"] == tested * 2 and reference["other_people_null"]["ratio"] > 0
    anonymizer = result["anonymize"]["anonymizer"]
    assert 0 <= anonymizer["flagged_as_leaking"] <= 100 and sum(anonymizer["attempts"].values()) == tested * 2
    assert len(result["targets"]) == 3 * 2 + 5 and all(t["pass"] in (True, False) for t in result["targets"])
    table = format_editor_report(result)
    assert "ANONYMIZE" in table and "anonymizer" in table and "TARGETS" in table


def test_eval_editor_scores_every_arm_by_every_attacker(tiny_benchmark, tiny_editor, tmp_path):
    classifier = CovariateClassifier(in_channels=8, parts_num=62, part_channels=4, hidden=8).eval()
    torch.manual_seed(2)
    attacker = GEINet(channels=(4, 8, 8), embedding_dim=8, class_num=4).eval()  # no calibration.json: one is made
    result = evaluate_editor(
        tiny_benchmark,
        tmp_path / "r.json",
        editor=tiny_editor,
        covariate_classifier=classifier,
        views_per_subject=2,
        steps=2,
        max_attempts=1,
        baseline_strengths=(1.0,),
        parts=["anonymize"],
        progress=False,
        attackers={"tiny-geinet": attacker},
    )
    names = ["judge", "gei_same_view", "gei_cross_view", "tiny-geinet"]
    info = result["anonymize_attackers"]
    assert list(info) == names and info["gei_same_view"]["views"] == "same_view"
    assert "real probe clips" in info["tiny-geinet"]["calibration"]["source"]  # its own, on real pairs
    for arm, row in result["anonymize"].items():
        assert list(row["attackers"]) == names, arm
        judge = row["attackers"]["judge"]
        assert {k: judge[k] for k in row["leakage"]} == row["leakage"]  # the judge's column is the arm's leakage
        for report in row["attackers"].values():
            assert {"rank1", "chance_rank1", "rank1_over_chance", "tar_vs_gallery", "calibration"} <= set(report)
            assert report["probes"] + report["probes_left_out"] == result["source_clips"]
    # unmodified sources: the GEI matcher finds them in their own view and accepts them against their source
    unmodified = result["anonymize"]["unmodified"]["attackers"]
    assert unmodified["gei_same_view"]["rank1"] >= 75 and unmodified["gei_same_view"]["tar_vs_source"] == 100
    assert unmodified["gei_cross_view"]["tar_vs_source"] is None
    table = format_editor_report(result)
    assert "LEAKAGE BY ATTACKER" in table and "gei_cross_view" in table and "tiny-geinet" in table


def test_eval_editor_can_run_the_anonymization_alone(tiny_benchmark, tiny_editor, tmp_path):
    classifier = CovariateClassifier(in_channels=8, parts_num=62, part_channels=4, hidden=8).eval()
    result = evaluate_editor(
        tiny_benchmark,
        tmp_path / "r.json",
        editor=tiny_editor,
        covariate_classifier=classifier,
        subjects=2,
        views=["090"],
        steps=2,
        max_attempts=1,
        baseline_strengths=(1.0,),
        parts=["anonymize"],
        progress=False,
    )
    assert result["edit"] is None and result["edit_clips_per_second"] is None
    assert result["source_clips"] == 2 and set(result["source_views"]) == {"090"}
    assert [t["target"].split(":")[0] for t in result["targets"]] == ["anonymize"] * 5
    assert "EDIT" not in format_editor_report(result)


def test_eval_editor_refuses_a_gallery_probe(tiny_benchmark, tiny_editor, tmp_path):
    with pytest.raises(ValueError, match="gallery condition"):
        evaluate_editor(
            tiny_benchmark, tmp_path / "r.json", editor=tiny_editor, probe_condition="nm-01", progress=False
        )
    with pytest.raises(ValueError, match="parts must name"):
        evaluate_editor(tiny_benchmark, tmp_path / "r.json", editor=tiny_editor, parts=["edits"], progress=False)


def test_the_cli_knows_eval_editor():
    from studio.cli import build_parser

    args = build_parser().parse_args(
        ["eval-editor", "--data", "d", "--out", "r.json", "--views", "036,090", "--baseline-strengths", "0.3,1"]
    )
    assert args.views == ["036", "090"] and args.baseline_strengths == [0.3, 1.0] and args.subjects == 50
    assert args.parts == ["edit", "anonymize"]


def test_editor_inverts_with_the_bundled_samplers_linspace_spacing():
    """DDIMInverseScheduler knows no "linspace" (the bundled sampler's spacing): the editor picks its own grid."""
    from generators import load_generator
    from generators.editor import GaitEditor

    pipeline = load_generator()
    assert pipeline.scheduler.config.timestep_spacing == "linspace"
    clip = GaitSequence(np.zeros((20, 64, 64), np.uint8), "x", "nm-01", "090")
    clip.frames[:, 10:60, 26:38] = 255
    edited = GaitEditor(pipeline).edit(clip, clothing="coat", strength=0.5, steps=4)
    assert edited.frames.shape == clip.frames.shape and edited.condition == "cl-01"


def test_eval_editor_runs_each_edit_kind_at_its_own_setting(tiny_benchmark, tiny_editor, tmp_path):
    from generators.settings import EditSettings

    classifier = CovariateClassifier(in_channels=8, parts_num=62, part_channels=4, hidden=8).eval()
    per_change = {
        "carrying": EditSettings(strength=0.5, steps=2, guidance=3.0),
        "clothing": EditSettings(strength=0.7, steps=3, guidance=1.5),
        "view": EditSettings(strength=0.9, steps=2, guidance=2.0),
    }
    result = evaluate_editor(
        tiny_benchmark, tmp_path / "r.json", editor=tiny_editor, covariate_classifier=classifier, subjects=2,
        views=["090"], steps=2, parts=["edit"], progress=False, edit_settings=per_change,
    )  # fmt: skip
    for kind, change in (("BG", "carrying"), ("CL", "clothing"), ("VIEW", "view")):
        used = result["edit"][kind]["settings"]
        want = per_change[change]
        assert (used["strength"], used["steps"], used["guidance"]) == (want.strength, want.steps, want.guidance)
    assert result["settings"]["edit_settings_per_change"]["clothing"]["strength"] == 0.7
    assert "CL: strength 0.7, guidance 1.5" in format_editor_report(result)


def test_faithful_settings_of_an_edit_follow_what_it_changes():
    from generators.settings import FAITHFUL_EDITS, faithful_edit

    assert faithful_edit(carrying="bag") == FAITHFUL_EDITS["carrying"]
    both = faithful_edit(view=54, clothing="coat")
    assert both.guidance == max(FAITHFUL_EDITS["view"].guidance, FAITHFUL_EDITS["clothing"].guidance)
    assert both.conditioner_guidance > 0  # faithful edits are steered toward their source
    with pytest.raises(ValueError, match="nothing to edit"):
        faithful_edit()
