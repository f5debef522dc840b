"""How close the walkers come to real data: CASIA-B silhouette statistics and mocap gait figures.

`gaitdata.silhouette_stats` measures pretreated clips the way CASIA-B was measured for
`CASIA_B_REFERENCE` (64x44 model input, values in [0, 1]; the project's design brief, outside
this repository, took them from the real dataset). `procedural_gait_figures` measures the
procedural walk cycle with the very functions that measure the CMU motion capture
(`gaitdata.bvh`), and `mocap_gait_figures` measures the real trials, so the two can be compared
figure by figure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gaitdata.bvh import (
    CYCLE_POINTS,
    GaitCycles,
    LegTrajectories,
    cycle_figures,
    gait_cycles,
    leg_trajectories,
    read_bvh,
)

#: CASIA-B after pretreatment (measured on the real dataset): view group → figure → (low, high).
CASIA_B_REFERENCE = {
    "front_back": {"foreground": (0.27, 0.30), "width_px": (20.7, 23.5), "flicker": (0.025, 0.027)},
    "oblique": {
        "foreground": (0.26, 0.29),
        "width_px": (22.0, 23.0),
        "flicker": (0.044, 0.050),
        "half_cycle": (13, 13),
    },
    "side": {"foreground": (0.24, 0.24), "width_px": (25.0, 26.5), "flicker": (0.060, 0.062), "half_cycle": (12, 12)},
}
#: CASIA-B: CL and BG add 1-3 points of foreground fraction over NM (side view: +0.02 / +0.03).
CASIA_B_COVARIATE_GAIN = (0.01, 0.03)
CASIA_B_SOFT_FRACTION = 0.03


# ---------------------------------------------------------------------------------------------
# Motion capture against the procedural cycle
# ---------------------------------------------------------------------------------------------


def mocap_gait_figures(folder: str | os.PathLike) -> dict[str, float]:
    """`cycle_figures` of the mean cycle over every BVH walk in `folder` (CMU joint names).

    Cadence is the mean over trials of each trial's cadence.
    """
    paths = sorted(Path(folder).glob("*.bvh"))
    if not paths:
        raise FileNotFoundError(f"{folder}: no .bvh files")
    return _pooled_figures([gait_cycles(leg_trajectories(read_bvh(p))) for p in paths])


def procedural_gait_figures(num_identities: int = 24, seconds: float = 6.0, fps: float = 120.0, seed: int = 0) -> dict:
    """`cycle_figures` of procedural walkers, measured like the mocap (nm walks, 120 fps)."""
    from gaitdata.walkers.body import pose_walker
    from gaitdata.walkers.identity import identity_for, walk_for

    results = []
    for i in range(num_identities):
        identity = identity_for(seed, f"{i + 1:03d}")
        walk = walk_for(seed, identity, "nm-01")
        t = np.arange(int(seconds * fps)) / fps
        pose = pose_walker(identity, walk, 0.1 + t * walk.cadence / 120.0)
        # The walker stays above the origin; add its forward progress so the walk has a direction.
        speed = np.array([0.0, 0.0, 1.2])
        shift = t[:, None] * speed
        legs = {side: pose.leg_landmarks(side) + shift[:, None, :] for side in ("l", "r")}
        traj = LegTrajectories(
            pose.joints["pelvis"] + shift, {"left": legs["l"], "right": legs["r"]}, fps, np.array([0.0, 1.0, 0.0])
        )
        results.append(gait_cycles(traj))
    return _pooled_figures(results)


def _pooled_figures(cycles: list[GaitCycles]) -> dict[str, float]:
    pooled = {
        side: {
            angle: np.concatenate([c.curves[side][angle] for c in cycles]).reshape(-1, CYCLE_POINTS)
            for angle in ("hip", "knee", "ankle")
        }
        for side in ("left", "right")
    }
    figures = cycle_figures(GaitCycles(pooled, np.concatenate([c.stride_s for c in cycles]), cycles[0].fps))
    figures["cadence_steps_per_min"] = float(np.mean([c.cadence for c in cycles]))
    return figures
