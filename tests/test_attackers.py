"""Attackers the anonymizer never consulted: the GEI template matcher and any recognizer at its own threshold.

Small rendered walker sets stand in for the benchmark: 12 people, gallery nm-01…04 and probes
nm-05 / nm-06 at three views, 30 frames each (about two seconds to render).
"""

import numpy as np
import pytest

from evaluation.attackers import (
    GeiTemplateMatcher,
    calibrate_on_real,
    euclidean_distances,
    gait_energy_image,
    gait_energy_images,
    gei_leakage,
    leakage_from_distances,
    own_calibration,
    recognizer_leakage,
    view_relation,
)
from evaluation.leakage import leakage_report
from gaitdata import GaitSequence
from gaitdata.walkers import identity_for, render_walker_sequence, walk_for

VIEWS = (36, 90, 144)
GALLERY = ("nm-01", "nm-02", "nm-03", "nm-04")
SUBJECTS = [f"{i:03d}" for i in range(1, 13)]


def _render(seed: int, subjects, conditions) -> list[GaitSequence]:
    clips = []
    for subject in subjects:
        person = identity_for(seed, subject)
        for condition in conditions:
            for view in VIEWS:
                clips.append(render_walker_sequence(person, walk_for(seed, person, condition), view, 30, seed=seed))
    return clips


def _columns(clips):
    return np.array([c.subject for c in clips]), np.array([c.view for c in clips])


@pytest.fixture(scope="module")
def walkers():
    """GEIs and labels of the gallery (nm-01…04), the sources (nm-05) and the calibration probes (nm-06)."""
    out = {}
    for name, conditions in (("gallery", GALLERY), ("sources", ("nm-05",)), ("real", ("nm-06",))):
        clips = _render(11, SUBJECTS, conditions)
        subjects, views = _columns(clips)
        out[name] = {"clips": clips, "geis": gait_energy_images(clips), "subjects": subjects, "views": views}
    return out


@pytest.fixture(scope="module")
def strangers():
    """36 other people (never in the gallery) at the same views, nm-05: three per source subject."""
    return _render(99, [f"{i:03d}" for i in range(50, 86)], ("nm-05",))


def _thrice(*arrays):
    """Each source three times, so that every source subject is claimed by three strangers."""
    return [np.concatenate([a] * 3) for a in arrays]


def _matcher(walkers, mode):
    g, r = walkers["gallery"], walkers["real"]
    matcher = GeiTemplateMatcher(g["geis"], g["subjects"], g["views"], mode)
    matcher.calibrate(r["geis"], r["subjects"], r["views"])
    return matcher


# ---- the GEI ----------------------------------------------------------------------------------------
def test_gei_is_the_mean_of_the_model_input_frames(walkers):
    clip = walkers["sources"]["clips"][0]
    gei = gait_energy_image(clip)
    assert gei.shape == (64 * 44,) and gei.dtype == np.float32 and 0 <= gei.min() and gei.max() <= 1
    np.testing.assert_allclose(gei, clip.model_input().mean(0).ravel(), atol=1e-6)
    np.testing.assert_allclose(gait_energy_image(clip.frames), gei, atol=1e-6)  # uint8 64×64 frames: cropped first
    np.testing.assert_allclose(gait_energy_image(clip.model_input()), gei, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[T, 64, 44\]"):
        gait_energy_image(np.zeros((3, 64, 64), np.float32))


def test_euclidean_distances_match_the_definition():
    rng = np.random.default_rng(0)
    a, b = rng.random((5, 7)), rng.random((4, 7))
    expected = np.sqrt(((a[:, None] - b[None]) ** 2).sum(-1))
    np.testing.assert_allclose(euclidean_distances(a, b), expected, rtol=1e-5, atol=1e-6)
    assert euclidean_distances(a, a).diagonal().max() < 1e-3


def test_view_relations():
    same = view_relation(["090", "036"], ["090", "036", "090"], "same_view")
    np.testing.assert_array_equal(same, [[True, False, True], [False, True, False]])
    np.testing.assert_array_equal(view_relation(["090"], ["090", "036"], "cross_view"), [[False, True]])
    assert view_relation(["090"], ["090"], "all_views") is None
    with pytest.raises(ValueError, match="view mode"):
        view_relation(["090"], ["090"], "frontal")


# ---- the GEI template attacker on real clips ----------------------------------------------------------
def test_unmodified_walker_clips_are_re_identified_from_their_gei(walkers):
    s = walkers["sources"]
    for mode, floor in (("same_view", 90.0), ("cross_view", 25.0)):
        r = _matcher(walkers, mode).leakage(s["geis"], s["subjects"], s["views"], s["geis"])
        assert r["attacker"] == "GEI template" and r["views"] == mode
        assert r["probes"] == 36 and r["probes_left_out"] == 0 and r["gallery_subjects"] == 12
        assert r["chance_rank1"] == pytest.approx(100 / 12, abs=0.01)
        assert r["rank1"] >= floor and r["rank1_over_chance"] > 3, (mode, r["rank1"])
        # the real ceiling is calibrated on other real clips at FAR 1%: impostors accepted about that often
        assert r["impostor_accept_vs_gallery"] <= 5 and r["tar_vs_gallery"] > 10
    same = _matcher(walkers, "same_view").leakage(s["geis"], s["subjects"], s["views"], s["geis"])
    assert same["tar_vs_source"] == 100 and same["distance_to_source"]["mean"] == 0
    cross = _matcher(walkers, "cross_view").leakage(s["geis"], s["subjects"], s["views"], s["geis"])
    assert cross["tar_vs_source"] is None  # the source is at the same view: not a cross-view pair


def test_other_people_and_noise_are_scored_near_chance(walkers, strangers):
    s = walkers["sources"]
    sources = _thrice(s["geis"], s["subjects"], s["views"])
    for mode in ("same_view", "cross_view"):
        r = _matcher(walkers, mode).leakage(*sources, gait_energy_images(strangers))
        assert r["probes"] == 108 and r["rank1"] <= 2 * r["chance_rank1"] and r["tar_vs_gallery"] <= 3, (mode, r)
        assert mode == "cross_view" or r["tar_vs_source"] <= 5
    matcher = _matcher(walkers, "same_view")
    # shuffled sources: every clip is somebody else's (it is found, as its own person, not as the claimed one)
    rolled = np.roll(s["geis"].reshape(12, 3, -1), 1, axis=0).reshape(36, -1)
    assert matcher.leakage(s["geis"], s["subjects"], s["views"], rolled)["rank1"] <= 2 * r["chance_rank1"]
    # pure noise at the silhouette's density
    rng = np.random.default_rng(0)
    noise = rng.random(s["geis"].shape).astype(np.float32) * s["geis"].mean() * 2
    r = matcher.leakage(s["geis"], s["subjects"], s["views"], noise)
    assert r["rank1"] <= 3 * r["chance_rank1"] and r["tar_vs_gallery"] == 0


def test_calibration_uses_real_pairs_only(walkers):
    s, r = walkers["sources"], walkers["real"]
    matcher = _matcher(walkers, "same_view")
    before = dict(matcher.calibration)
    assert before["probes"] == len(r["geis"]) and before["far"] <= 0.01 and "real probe clips" in before["source"]
    # scoring any protected arm leaves the threshold as the real clips set it
    matcher.leakage(s["geis"], s["subjects"], s["views"], np.zeros_like(s["geis"]))
    assert matcher.calibration == before
    # and it is exactly the FAR-1% threshold of the real same-view genuine / impostor pairs
    g = walkers["gallery"]
    distances = euclidean_distances(r["geis"], g["geis"])
    allowed = r["views"][:, None] == g["views"][None, :]
    same = r["subjects"][:, None] == g["subjects"][None, :]
    impostor = np.sort(distances[allowed & ~same].astype(np.float64))  # as calibrated: float64
    assert (impostor <= before["threshold"]).mean() <= 0.01 < (impostor <= impostor[int(0.01 * len(impostor))]).mean()
    assert before["genuine_pairs"] == int((allowed & same).sum())
    with pytest.raises(ValueError, match="calibrate the matcher"):
        GeiTemplateMatcher(g["geis"], g["subjects"], g["views"]).leakage(
            s["geis"], s["subjects"], s["views"], s["geis"]
        )


def test_gei_leakage_scores_every_arm_in_both_view_relations(walkers):
    s, g, r = walkers["sources"], walkers["gallery"], walkers["real"]
    arms = {"unmodified": s["geis"], "blank": np.zeros_like(s["geis"])}
    out = gei_leakage(s["geis"], s["subjects"], s["views"], arms, g["geis"], g["subjects"], g["views"],
                      r["geis"], r["subjects"], r["views"])  # fmt: skip
    assert set(out) == {"gei_same_view", "gei_cross_view"}
    for rows in out.values():
        assert list(rows) == ["unmodified", "blank"]
        assert rows["unmodified"]["rank1"] > rows["blank"]["rank1"] or rows["blank"]["rank1"] <= 10
        assert rows["blank"]["tar_vs_gallery"] == 0


# ---- the generic core agrees with leakage_report ----------------------------------------------------
def test_distances_core_reproduces_leakage_report():
    """On one-part features (where leakage_report's distance is the plain Euclidean one) both give the same numbers."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(10, 18))
    g_subjects, p_subjects = np.repeat(SUBJECTS[:10], 4), np.repeat(SUBJECTS[:10], 2)
    gallery = np.repeat(centres, 4, axis=0) + 0.3 * rng.normal(size=(40, 18))
    probes = np.repeat(centres, 2, axis=0) + 0.3 * rng.normal(size=(20, 18))
    protected = probes + 0.8 * rng.normal(size=probes.shape)
    calibration = {"metric": "euc", "threshold": 1.5, "far": 0.01}
    expected = leakage_report(probes, p_subjects, protected, gallery, g_subjects, calibration)
    to_source = np.linalg.norm(protected - probes, axis=1)
    core = leakage_from_distances(
        euclidean_distances(protected, gallery), to_source, p_subjects, g_subjects, calibration
    )
    for key, value in expected.items():
        assert core[key] == (value if isinstance(value, str) else pytest.approx(value, abs=0.011)), key


def test_a_probe_without_its_subject_in_the_allowed_views_is_left_out_and_counted():
    to_gallery = np.array([[0.1, 0.9], [0.2, 0.3]])
    allowed = np.array([[True, True], [False, True]])  # probe 1's own subject (gallery 0) is out of view
    r = leakage_from_distances(to_gallery, None, ["a", "a"], ["a", "b"], {"metric": "euc", "threshold": 0.5}, allowed)
    assert r["probes"] == 1 and r["probes_left_out"] == 1 and r["rank1"] == 100 and r["chance_rank1"] == 50
    with pytest.raises(ValueError, match="no probe has a gallery clip"):
        leakage_from_distances(
            to_gallery[1:], None, ["a"], ["a", "b"], {"metric": "euc", "threshold": 0.5}, allowed[1:]
        )


def test_calibrate_on_real_refuses_one_sided_pairs():
    with pytest.raises(ValueError, match="genuine and impostor pairs"):
        calibrate_on_real(np.ones((2, 2)), ["a", "a"], ["a", "a"])


# ---- any recognizer at its own threshold; the bundled attacker -----------------------------------------
@pytest.fixture(scope="module")
def attacker():
    import recognizers

    try:
        return recognizers.load_attacker()
    except FileNotFoundError as err:
        pytest.skip(f"bundled attacker not installed: {err}")


def test_the_bundled_attacker_loads_with_its_own_calibration(attacker):
    import recognizers
    from recognizers import GEINet

    assert isinstance(attacker, GEINet) and not attacker.training
    calibration = own_calibration(attacker)
    assert calibration["metric"] == "euc" and calibration["far"] == pytest.approx(0.01, abs=0.002)
    assert "geinet-attacker-walkers/calibration.json" in calibration["source"]
    # never the judge's threshold: a different model, a different scale
    judge_calibration = recognizers.load_calibration(recognizers.resolve_weights(recognizers.JUDGE))
    assert calibration["threshold"] != judge_calibration["threshold"]


def test_the_bundled_attacker_re_identifies_real_walker_clips(attacker, walkers, strangers):
    s, g = walkers["sources"], walkers["gallery"]
    calibration = own_calibration(attacker)
    gallery = attacker.embed(g["clips"])
    sources = attacker.embed(s["clips"])
    r = recognizer_leakage(sources, s["subjects"], sources, gallery, g["subjects"], calibration, "geinet")
    assert r["attacker"] == "geinet" and r["views"] == "all_views" and r["probes"] == 36
    assert r["rank1"] >= 80 and r["tar_vs_source"] == 100 and r["tar_vs_gallery"] >= 30
    # other people claimed by the same subjects: near chance
    (thrice, subjects), others = _thrice(sources, s["subjects"]), attacker.embed(strangers)
    r = recognizer_leakage(thrice, subjects, others, gallery, g["subjects"], calibration, "geinet")
    assert r["rank1"] <= 2 * r["chance_rank1"] and r["tar_vs_source"] <= 5
