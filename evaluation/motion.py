"""Motion agreement between a source clip and an edited one: cadence and gait-cycle phase.

Measured on the silhouette's width signal `w(t)` (`width_signal`: per frame, the span in pixels
between the body's leftmost and rightmost columns), which widens at every double support (legs
apart) and narrows at every mid-stance (legs together), so it swings once per STEP, i.e. twice
per gait cycle.

- Step period `P`: the period of `w(t)` in frames (`signal_period`: the first autocorrelation
  peak between 6 and 25 frames, NaN without a clear one, as in front and back views where the
  width barely swings). Cadence = `60 · fps / P` steps per minute. Cadence agreement is the
  relative error `|P_edit − P_source| / P_source`.
- Phase: both width signals are centred and compared by normalised cross-correlation (Pearson
  correlation over the frames they share) at lags `k` with `|k| ≤ P_source / 2`; the lag `k*`
  of the highest correlation is how many frames the edit's steps trail the source's (positive:
  later). Phase offset = `k* / P_source` in fractions of a step (half a gait cycle), within
  [−0.5, 0.5]; phase error = its absolute value. The correlation at lag 0 is reported beside
  it (1 for an identical walk).

A clip "keeps its motion" (`summarize_motion`) when its cadence error is at most
`CADENCE_TOLERANCE` and its phase error at most `PHASE_TOLERANCE`.
"""

from __future__ import annotations

import numpy as np

from gaitdata.silhouette_stats import signal_period, width_signal

CADENCE_TOLERANCE = 0.10  # relative step-period error
PHASE_TOLERANCE = 0.10  # fraction of a step


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def lagged_correlation(source: np.ndarray, edited: np.ndarray, lag: int) -> float:
    """Pearson correlation of `source[t]` with `edited[t + lag]` over the frames both have."""
    n = min(len(source), len(edited))
    if lag >= 0:
        a, b = source[: n - lag], edited[lag:n]
    else:
        a, b = source[-lag:n], edited[: n + lag]
    return _pearson(np.asarray(a, float), np.asarray(b, float)) if len(a) >= 3 else float("nan")


def motion_agreement(source_frames: np.ndarray, edited_frames: np.ndarray, fps: float = 25.0) -> dict:
    """Cadence and phase agreement of an edited clip with its source (definitions: module docstring).

    Args:
        source_frames, edited_frames: `uint8 [T, H, W]` silhouettes (64×64 stored or 64×44);
            the edit normally has the source's length; otherwise the frames both have are compared.
        fps: frame rate, for the cadence in steps per minute.

    Returns:
        `{"source_step_period", "edited_step_period"` (frames), `"source_cadence_spm",
        "edited_cadence_spm"` (steps per minute), `"cadence_relative_error", "lag_frames",
        "phase_offset", "phase_error"` (fractions of a step), `"correlation_lag0",
        "correlation_best", "measurable"}`. NaN where undefined: no source period (no swing to
        measure: `measurable` False), or no edited period (cadence error only).
    """
    w_src, w_edit = width_signal(source_frames), width_signal(edited_frames)
    p_src, p_edit = signal_period(w_src), signal_period(w_edit)
    out = {
        "source_step_period": p_src,
        "edited_step_period": p_edit,
        "source_cadence_spm": 60.0 * fps / p_src if np.isfinite(p_src) else float("nan"),
        "edited_cadence_spm": 60.0 * fps / p_edit if np.isfinite(p_edit) else float("nan"),
        "cadence_relative_error": abs(p_edit - p_src) / p_src if np.isfinite(p_src) else float("nan"),
        "correlation_lag0": lagged_correlation(w_src, w_edit, 0),
        "lag_frames": float("nan"),
        "phase_offset": float("nan"),
        "phase_error": float("nan"),
        "correlation_best": float("nan"),
        "measurable": bool(np.isfinite(p_src)),
    }
    if not np.isfinite(p_src):
        return out
    max_lag = int(np.floor(p_src / 2))
    lags = np.arange(-max_lag, max_lag + 1)
    corr = np.array([lagged_correlation(w_src, w_edit, int(k)) for k in lags])
    if np.all(np.isnan(corr)):  # a constant edited width: nothing to align
        return out
    # ties (e.g. a perfectly periodic signal) go to the smallest shift
    best = corr == np.nanmax(corr)
    lag = int(lags[best][np.argmin(np.abs(lags[best]))])
    out.update(
        lag_frames=float(lag),
        phase_offset=lag / p_src,
        phase_error=abs(lag) / p_src,
        correlation_best=float(np.nanmax(corr)),
    )
    return out


def summarize_motion(rows: list[dict]) -> dict:
    """Aggregate `motion_agreement` results of many clips.

    Returns:
        `{"clips", "measurable"` (source has a step period), `"lost_periodicity"` (source has
        one, the edit none), `"cadence_relative_error": {"mean", "median"}, "phase_error":
        {"mean", "median"}, "correlation_lag0_mean", "within_cadence_tolerance",
        "within_phase_tolerance", "motion_kept"` (shares in % of the measurable clips; a clip
        that lost its periodicity counts as not kept), `"tolerances"}`.
    """
    measurable = [r for r in rows if r["measurable"]]
    cadence = np.array([r["cadence_relative_error"] for r in measurable], float)
    phase = np.array([r["phase_error"] for r in measurable], float)
    lag0 = np.array([r["correlation_lag0"] for r in measurable], float)

    def stats(x):
        x = x[np.isfinite(x)]
        if not len(x):
            return {"mean": None, "median": None}
        return {"mean": round(float(x.mean()), 4), "median": round(float(np.median(x)), 4)}

    def share(mask):
        return round(float(100 * mask.mean()), 2) if len(mask) else None

    with np.errstate(invalid="ignore"):
        cadence_ok = cadence <= CADENCE_TOLERANCE  # NaN (lost periodicity) compares False
        phase_ok = phase <= PHASE_TOLERANCE
    finite_lag0 = lag0[np.isfinite(lag0)]
    return {
        "clips": len(rows),
        "measurable": len(measurable),
        "lost_periodicity": int(np.isnan(cadence).sum()),
        "cadence_relative_error": stats(cadence),
        "phase_error": stats(phase),
        "correlation_lag0_mean": round(float(finite_lag0.mean()), 4) if len(finite_lag0) else None,
        "within_cadence_tolerance": share(cadence_ok),
        "within_phase_tolerance": share(phase_ok),
        "motion_kept": share(cadence_ok & phase_ok),
        "tolerances": {"cadence_relative_error": CADENCE_TOLERANCE, "phase_error": PHASE_TOLERANCE},
    }
