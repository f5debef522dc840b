"""How close the walkers come to real data: CASIA-B silhouette statistics and mocap gait figures.

`silhouette_stats` measures pretreated clips the way the reference table in DESIGN.md was
measured on CASIA-B (64x44 model input, values in [0, 1]); `CASIA_B_REFERENCE` holds that
table. `procedural_gait_figures` measures the procedural walk cycle with the very functions
that measure the CMU motion capture (`studio.data.bvh`), and `mocap_gait_figures` measures the
real trials, so the two can be compared figure by figure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from studio.data.bvh import (
    CYCLE_POINTS,
    GaitCycles,
    LegTrajectories,
    cycle_figures,
    gait_cycles,
    leg_trajectories,
    read_bvh,
)
from studio.data.sequence import crop_to_model_input

#: CASIA-B after pretreatment (DESIGN.md): view group → figure → (low, high).
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


def silhouette_stats(frames: np.ndarray) -> dict[str, float]:
    """Statistics of one pretreated clip (`uint8 [T, 64, 64]` or `[T, 64, 44]`).

    Returns:
        ``foreground``: mean pixel value on [0, 1] over the 64x44 crop;
        ``width_px``: mean over frames of the span between the first and last column holding a
        pixel above 0.5; ``flicker``: mean absolute difference between consecutive frames on
        [0, 1]; ``soft``: fraction of pixels strictly between 5 % and 95 % grey;
        ``half_cycle``: period (frames) of the width signal from its autocorrelation (NaN when
        it has none, as in front views).
    """
    x = crop_to_model_input(frames).astype(np.float64) / 255.0  # [T, 64, 44]
    cols = (x > 0.5).any(axis=1)  # [T, 44]
    first = cols.argmax(axis=1)
    last = cols.shape[1] - 1 - cols[:, ::-1].argmax(axis=1)
    width = np.where(cols.any(axis=1), last - first + 1, 0).astype(np.float64)
    return {
        "foreground": float(x.mean()),
        "width_px": float(width.mean()),
        "flicker": float(np.abs(np.diff(x, axis=0)).mean()) if x.shape[0] > 1 else 0.0,
        "soft": float(((x > 0.05) & (x < 0.95)).mean()),
        "half_cycle": signal_period(width),
    }


def signal_period(signal: np.ndarray, min_lag: int = 6, max_lag: int = 25) -> float:
    """Period in samples of a roughly periodic signal: the first autocorrelation peak in range.

    NaN when the autocorrelation has no clear peak (correlation under 0.2).
    """
    s = np.asarray(signal, dtype=np.float64)
    s = s - s.mean()
    if s.size < 2 * min_lag or not np.any(s):
        return float("nan")
    max_lag = min(max_lag, s.size - 3)
    ac = np.array([np.dot(s[:-lag], s[lag:]) / (s.size - lag) for lag in range(1, max_lag + 1)]) / s.var()
    for lag in range(min_lag, max_lag - 1):
        a, b, c = ac[lag - 2], ac[lag - 1], ac[lag]  # lags lag-1, lag, lag+1
        if b >= a and b >= c and b > 0.2:
            denom = a - 2 * b + c
            return float(lag + (0.5 * (a - c) / denom if denom else 0.0))
    return float("nan")


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
    from studio.data.walkers.body import pose_walker
    from studio.data.walkers.identity import identity_for, walk_for

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
