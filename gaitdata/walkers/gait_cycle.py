"""The walk cycle: sagittal joint-angle curves over one gait cycle, calibrated on motion capture.

A gait cycle runs from a heel strike to the next heel strike of the same leg (phase 0 → 1).
The mean curves below were measured on the six CMU walking trials in `../shared/data/cmu-walk`
(mocap.cs.cmu.edu, created with funding from NSF EIA-0196217) by `scripts/fit_gait_cycle.py`:
every complete cycle of both legs (heel strikes found kinematically, where the ankle is furthest
ahead of the pelvis), resampled to 0..100 % of the cycle, averaged, the skeleton's rest-pose
angles removed, and fitted by a Fourier series of 5 harmonics (fit error below 0.7 deg rms).
Identity styles and per-sequence variation scale and shift these curves; they never replace
their shape.

Angle conventions (degrees), as measured by `gaitdata.bvh.sagittal_leg_angles`:
hip = thigh angle from the vertical, positive forward; knee = flexion (0 = straight);
ankle = dorsiflexion (toe up positive); shoulder = upper-arm angle from the vertical, positive
forward; elbow = flexion. Arm curves are on the cycle of the leg of the same side.
"""

from __future__ import annotations

import numpy as np

# Fourier coefficients [a0, a1, b1, ..., a5, b5] of a0 + sum_k a_k cos(2 pi k p) + b_k sin(2 pi k p),
# printed by `python scripts/fit_gait_cycle.py` (rest-pose angles removed: hip 4.72, knee 8.60,
# ankle -12.99, elbow 17.23 deg).
HIP_FOURIER = (12.332, 22.518, 3.116, -4.740, -5.122, -0.467, 2.347, -0.361, -0.148, -0.376, 0.042)
KNEE_FOURIER = (32.147, 6.530, -12.520, -17.147, -4.264, -1.374, 5.286, -1.558, 0.074, -0.761, 0.404)
ANKLE_FOURIER = (8.091, 0.452, 7.900, 5.241, -6.742, -1.200, -1.946, 0.745, 1.968, 1.738, -0.459)
SHOULDER_FOURIER = (-5.262, -12.226, -1.448, 0.859, -0.844, -0.465, -0.031, -0.072, 0.248, -0.052, -0.165)
ELBOW_FOURIER = (29.467, -9.774, -3.756, 2.196, 0.298, 0.298, -0.169, 0.078, 0.066, 0.117, 0.207)

#: Mean cadence of the same trials, steps per minute (the six range 98-133).
MOCAP_CADENCE = 106.8


def fourier_series(coef: tuple[float, ...], phase: np.ndarray) -> np.ndarray:
    """Evaluate `a0 + sum_k a_k cos(2 pi k p) + b_k sin(2 pi k p)` at `phase` (cycles, any shape)."""
    phase = np.asarray(phase, dtype=np.float64)
    out = np.full(phase.shape, coef[0])
    for k in range(1, (len(coef) - 1) // 2 + 1):
        angle = 2.0 * np.pi * k * phase
        out += coef[2 * k - 1] * np.cos(angle) + coef[2 * k] * np.sin(angle)
    return out


def _range_of(coef) -> tuple[float, float]:
    values = fourier_series(coef, np.linspace(0.0, 1.0, 201))
    return float(values.min()), float(values.max())


_HIP_MEAN = HIP_FOURIER[0]
_KNEE_MIN = _range_of(KNEE_FOURIER)[0]
_SHOULDER_MEAN = SHOULDER_FOURIER[0]


def leg_angles(
    phase: np.ndarray,
    hip_scale: float = 1.0,
    hip_offset: float = 0.0,
    knee_scale: float = 1.0,
    knee_offset: float = 0.0,
    ankle_scale: float = 1.0,
) -> dict[str, np.ndarray]:
    """Hip, knee and ankle angles (deg) of one leg at gait phases `phase` (`float [T]`, cycles).

    `hip_scale` stretches the thigh's swing about its mean (a longer stride), `knee_scale` the
    knee flexion above its minimum (a bouncier or stiffer knee); offsets shift the whole curve.
    """
    hip = _HIP_MEAN + hip_scale * (fourier_series(HIP_FOURIER, phase) - _HIP_MEAN) + hip_offset
    knee = _KNEE_MIN + knee_scale * (fourier_series(KNEE_FOURIER, phase) - _KNEE_MIN) + knee_offset
    ankle = ankle_scale * fourier_series(ANKLE_FOURIER, phase)
    return {"hip": hip, "knee": np.maximum(knee, 0.0), "ankle": ankle}


def arm_angles(
    phase: np.ndarray, swing_scale: float = 1.0, swing_offset: float = 0.0, elbow_offset: float = 0.0
) -> dict[str, np.ndarray]:
    """Shoulder (upper-arm sagittal angle) and elbow flexion (deg) of one arm at `phase` (`float [T]`).

    `phase` is the gait phase of the leg on the same side; `swing_scale` stretches the arm swing
    about its mean; the elbow flexes more as the arm swings forward (as in the data).
    """
    shoulder = fourier_series(SHOULDER_FOURIER, phase)
    elbow = fourier_series(ELBOW_FOURIER, phase)
    swing = swing_scale * (shoulder - _SHOULDER_MEAN)
    # The elbow's own swing follows the arm's: a stiff-armed walker also keeps the elbow still.
    elbow = ELBOW_FOURIER[0] + min(swing_scale, 1.5) * (elbow - ELBOW_FOURIER[0]) + elbow_offset
    return {"shoulder": _SHOULDER_MEAN + swing + swing_offset, "elbow": np.maximum(elbow, 2.0)}
