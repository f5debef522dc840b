"""Statistics of silhouette clips: foreground, body width, flicker, softness, gait period.

The same numbers describe real data (the CASIA-B figures of `walkers.realism.CASIA_B_REFERENCE`), procedural
walkers, and generated or edited clips, so they are measured by one function everywhere.
"""

from __future__ import annotations

import numpy as np

from gaitdata.sequence import crop_to_model_input


def width_signal(frames: np.ndarray) -> np.ndarray:
    """Per frame, the span in pixels between the first and last column above 0.5 (64×44 crop)."""
    x = crop_to_model_input(frames).astype(np.float64) / 255.0
    cols = (x > 0.5).any(axis=1)  # [T, 44]
    first = cols.argmax(axis=1)
    last = cols.shape[1] - 1 - cols[:, ::-1].argmax(axis=1)
    return np.where(cols.any(axis=1), last - first + 1, 0).astype(np.float64)


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
    width = width_signal(frames)
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


MOTION_FEATURES = ("leg_width", "phase_cos", "phase_sin")


def gait_motion_signal(frames: np.ndarray) -> np.ndarray:
    """A clip's timing with its body taken out: `float32 [T, 3]` (columns `MOTION_FEATURES`).

    The lower body's width swings once per step, so its standardised value and the phase of its
    analytic signal (Hilbert) say where each frame lies in the step cycle — phase, cadence and
    stride timing — while the z-scoring removes how wide this person is. A clip whose legs never
    swing (front views, a single frame) gives zeros: no timing to keep.

    Args:
        frames: `uint8 [T, H, W]` silhouettes (64×64 stored or 64×44).
    """
    from scipy.signal import hilbert

    x = crop_to_model_input(frames)
    legs = x[:, int(x.shape[1] * 0.55) :] > 127  # [T, rows, 44]: below the hips
    cols = legs.any(axis=1)
    first = cols.argmax(axis=1)
    last = cols.shape[1] - 1 - cols[:, ::-1].argmax(axis=1)
    width = np.where(cols.any(axis=1), last - first + 1, 0).astype(np.float64)
    out = np.zeros((len(width), len(MOTION_FEATURES)), np.float32)
    if len(width) < 4 or width.std() < 0.5:  # under half a pixel of swing: noise, not timing
        return out
    z = (width - width.mean()) / width.std()
    phase = np.angle(hilbert(z))
    out[:, 0] = z
    out[:, 1] = np.cos(phase)
    out[:, 2] = np.sin(phase)
    return out
