"""BVH motion capture: parsing, forward kinematics, and gait measurements on real CMU walks."""

import numpy as np
import pytest

from gaitdata import GaitDataError
from gaitdata.bvh import (
    LegTrajectories,
    cycle_figures,
    forward_kinematics,
    gait_cycles,
    leg_trajectories,
    read_bvh,
    sagittal_leg_angles,
)

TWO_BONES = """HIERARCHY
ROOT hip
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT knee
  {
    OFFSET 0 -10 0
    CHANNELS 3 Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 0 -10 0
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.01
1 2 3 0 0 0 0 0 0
0 0 0 90 0 0 90 0 0
0 0 0 90 90 0 0 0 0
"""


@pytest.fixture
def two_bones(tmp_path):
    path = tmp_path / "two.bvh"
    path.write_text(TWO_BONES)
    return read_bvh(path)


def test_hierarchy_channels_and_frame_time(two_bones):
    assert [j.name for j in two_bones.joints] == ["hip", "knee", "knee_end"]
    assert [j.parent for j in two_bones.joints] == [-1, 0, 1]
    assert two_bones.joints[1].channels == ("Xrotation", "Yrotation", "Zrotation")
    assert two_bones.joints[1].channel_start == 6
    assert two_bones.values.shape == (3, 9)
    assert two_bones.frame_time == pytest.approx(0.01) and two_bones.fps == pytest.approx(100.0)


def test_forward_kinematics_follows_bvh_rotation_order(two_bones):
    pos = forward_kinematics(two_bones)
    assert pos.shape == (3, 3, 3)
    # Frame 0: translated, no rotation.
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [1, -8, 3], [1, -18, 3]], atol=1e-9)
    # Frame 1: root Rz(90) turns the bone from -Y to +X; the knee's Rx(90) then turns -Y to -Z.
    np.testing.assert_allclose(pos[1], [[0, 0, 0], [10, 0, 0], [10, 0, -10]], atol=1e-9)
    # Frame 2: root "Zrotation Xrotation" = Rz(90) @ Rx(90): -Y → -Z (by Rx) → stays -Z (by Rz).
    np.testing.assert_allclose(pos[2], [[0, 0, 0], [0, 0, -10], [0, 0, -20]], atol=1e-9)


@pytest.mark.parametrize(
    "text, problem",
    [
        ("HIERARCHY\nROOT a\n{\nOFFSET 0 0 0\n}\n", "no MOTION"),
        (TWO_BONES.replace("Frames: 3", "Frames: 4"), "header says 4 frames"),
        (TWO_BONES.replace("CHANNELS 3 Xrotation", "CHANNELS 3 Wrotation"), "unknown channel"),
        (TWO_BONES.replace("1 2 3 0 0 0 0 0 0", "1 2 3 0 0 0 0 0"), "channels"),
    ],
)
def test_malformed_files_are_refused_with_the_reason(tmp_path, text, problem):
    path = tmp_path / "bad.bvh"
    path.write_text(text)
    with pytest.raises(GaitDataError, match=problem):
        read_bvh(path)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(GaitDataError, match="nope.bvh"):
        read_bvh(tmp_path / "nope.bvh")


def _synthetic_walk(fps=100.0, seconds=6.0, stride_s=1.0):
    """Legs whose hip and knee angles are known sinusoids; the walker moves along +Z."""
    t = np.arange(int(seconds * fps)) / fps
    legs = {}
    angles = {}
    for side, shift in (("left", 0.0), ("right", 0.5)):
        p = t / stride_s + shift
        hip = 10 + 20 * np.cos(2 * np.pi * p)
        knee = 30 - 25 * np.cos(2 * np.pi * (p - 0.3))
        hip_pos = np.stack([np.zeros_like(t), np.full_like(t, 90.0), 120 * t], axis=1)
        thigh = 45 * np.stack([np.zeros_like(t), -np.cos(np.radians(hip)), np.sin(np.radians(hip))], axis=1)
        shank_a = np.radians(hip - knee)
        shank = 45 * np.stack([np.zeros_like(t), -np.cos(shank_a), np.sin(shank_a)], axis=1)
        knee_pos = hip_pos + thigh
        ankle = knee_pos + shank
        toe = ankle + np.array([0.0, -5.0, 15.0])
        legs[side] = np.stack([hip_pos, knee_pos, ankle, toe], axis=1)
        angles[side] = (hip, knee)
    root = np.stack([np.zeros_like(t), np.full_like(t, 90.0), 120 * t], axis=1)
    return LegTrajectories(root, legs, fps, np.array([0.0, 1.0, 0.0])), angles


def test_sagittal_angles_recover_known_hip_and_knee_curves():
    traj, truth = _synthetic_walk()
    forward = np.tile([0.0, 0.0, 1.0], (traj.root.shape[0], 1))
    got = sagittal_leg_angles(traj.legs["left"], forward, traj.up)
    np.testing.assert_allclose(got["hip"], truth["left"][0], atol=1e-6)
    np.testing.assert_allclose(got["knee"], truth["left"][1], atol=1e-6)


def test_cycles_and_cadence_of_a_synthetic_walk():
    traj, _ = _synthetic_walk(stride_s=1.1)
    cycles = gait_cycles(traj)
    assert cycles.stride_s == pytest.approx(1.1, abs=0.02)
    assert cycles.cadence == pytest.approx(120 / 1.1, rel=0.02)  # two steps per stride
    figures = cycle_figures(cycles)
    assert figures["hip_rom"] == pytest.approx(40.0, abs=0.5)
    assert figures["knee_rom"] == pytest.approx(50.0, abs=0.5)


def test_real_cmu_walks_read_and_measure_like_human_walking(shared_data):
    files = sorted((shared_data / "cmu-walk").glob("*.bvh"))
    assert len(files) == 6
    for path in files:
        motion = read_bvh(path)
        assert motion.fps == pytest.approx(120.0, rel=1e-3)
        assert 284 <= motion.num_frames <= 599
        traj = leg_trajectories(motion)  # drops the T-pose frame
        assert 70 < traj.root[:, 1].mean() < 100  # hip height ~ 1 m in centimetre-like units
        figures = cycle_figures(gait_cycles(traj))
        print(path.stem, {k: round(v, 1) for k, v in figures.items()})
        # Textbook walking: hip 40-60 deg, knee 50-70 deg of motion, 90-140 steps/min, swing peak at 65-82 %.
        assert 40 <= figures["hip_rom"] <= 65
        assert 48 <= figures["knee_rom"] <= 70
        assert 90 <= figures["cadence_steps_per_min"] <= 140
        assert 65 <= figures["knee_peak_swing_pct"] <= 82
