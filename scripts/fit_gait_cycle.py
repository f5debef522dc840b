"""Fit the procedural walk cycle to real motion capture and print it as Python constants.

Reads the CMU walks (`../shared/data/cmu-walk/*.bvh` beside the repository, or a folder given
as the first argument), cuts each into gait cycles (heel strike to heel strike of the same
leg), averages the cycle-normalised sagittal angle curves over every cycle of both legs of all
files, removes the skeleton's rest-pose angles (its bones are not collinear in the T-pose, so a
straight limb does not read as 0 deg), and fits a Fourier series of `--order` harmonics per
joint. The output is pasted into `gaitdata/walkers/gait_cycle.py`.

Arms are measured the same way: the upper arm's sagittal angle from the vertical and the elbow
flexion, on the cycle of the leg of the same side.

    python scripts/fit_gait_cycle.py [BVH_FOLDER] [--order 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from gaitdata.bvh import (
    CYCLE_POINTS,
    forward_kinematics,
    heel_strikes,
    leg_trajectories,
    read_bvh,
    sagittal_leg_angles,
    walking_direction,
)

DEFAULT_FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cmu-walk"
ARM_JOINTS = {"left": ("lShldr", "lForeArm", "lHand", "lMid1"), "right": ("rShldr", "rForeArm", "rHand", "rMid1")}


def fourier_fit(curve: np.ndarray, order: int) -> np.ndarray:
    """Least-squares `[a0, a1, b1, ..., aK, bK]` of `a0 + sum a_k cos(2 pi k x) + b_k sin(2 pi k x)`."""
    x = np.linspace(0.0, 1.0, curve.size)
    columns = [np.ones_like(x)]
    for k in range(1, order + 1):
        columns += [np.cos(2 * np.pi * k * x), np.sin(2 * np.pi * k * x)]
    coef, *_ = np.linalg.lstsq(np.stack(columns, axis=1), curve, rcond=None)
    return coef


def mean_cycles(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Mean cycle-normalised curves `[101]` of hip, knee, ankle, shoulder, elbow; rest-pose angles."""
    grid = np.linspace(0.0, 1.0, CYCLE_POINTS)
    collected = {k: [] for k in ("hip", "knee", "ankle", "shoulder", "elbow")}
    rest = {}
    for path in sorted(folder.glob("*.bvh")):
        motion = read_bvh(path)
        traj = leg_trajectories(motion)
        positions = forward_kinematics(motion)
        forward = walking_direction(traj.root, traj.up, traj.fps)
        tpose_forward = np.tile([0.0, 0.0, 1.0], (1, 1))
        for side, legs in traj.legs.items():
            arm = np.stack([positions[1:, motion.joint_index(n)] for n in ARM_JOINTS[side]], axis=1)
            leg_angles = sagittal_leg_angles(legs, forward, traj.up)
            arm_angles = sagittal_leg_angles(arm, forward, traj.up)
            angles = {**leg_angles, "shoulder": arm_angles["hip"], "elbow": arm_angles["knee"]}
            if not rest:  # frame 0 is the T-pose, facing +Z
                t_leg = np.stack(
                    [positions[:1, motion.joint_index(n)] for n in ("lThigh", "lShin", "lFoot", "lFoot_end")], 1
                )
                t_angles = sagittal_leg_angles(t_leg, tpose_forward, traj.up)
                rest = {k: float(v[0]) for k, v in t_angles.items()}
                # The elbow's 3-D bend does not depend on where the arm points.
                t_arm = np.stack([positions[:1, motion.joint_index(n)] for n in ARM_JOINTS["left"]], 1)
                rest["elbow"] = float(sagittal_leg_angles(t_arm, tpose_forward, traj.up)["knee"][0])
            strikes = heel_strikes(legs, traj.root, forward, traj.fps)
            for a, b in zip(strikes[:-1], strikes[1:], strict=True):
                if not 0.7 <= (b - a) / traj.fps <= 1.8:
                    continue
                t = np.linspace(0.0, 1.0, b - a + 1)
                for name, curve in angles.items():
                    collected[name].append(np.interp(grid, t, curve[a : b + 1]))
    means = {name: np.mean(v, axis=0) for name, v in collected.items()}
    return means, rest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--order", type=int, default=5)
    args = parser.parse_args()
    means, rest = mean_cycles(args.folder)
    print(f"# rest-pose angles removed (deg): {', '.join(f'{k} {v:.2f}' for k, v in rest.items())}")
    for name, curve in means.items():
        curve = curve - rest.get(name, 0.0)
        coef = fourier_fit(curve, args.order)
        x = np.linspace(0.0, 1.0, curve.size)
        fitted = coef[0] + sum(
            coef[2 * k - 1] * np.cos(2 * np.pi * k * x) + coef[2 * k] * np.sin(2 * np.pi * k * x)
            for k in range(1, args.order + 1)
        )
        rms = float(np.sqrt(np.mean((fitted - curve) ** 2)))
        print(f"# {name}: range {curve.min():.1f}..{curve.max():.1f} deg, fit rms {rms:.2f} deg")
        print(f"{name.upper()}_FOURIER = ({', '.join(f'{c:.3f}' for c in coef)})")


if __name__ == "__main__":
    main()
