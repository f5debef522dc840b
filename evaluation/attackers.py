"""Attackers the anonymizer never consulted, scored like `evaluation.leakage.leakage_report`.

The anonymizer retries against the JUDGE, so the judge's leakage figure measures little on its
own. Two other attackers hold the same real gallery:

- `GeiTemplateMatcher`: no learning at all. A clip's gait energy image (GEI: the mean of its
  64×44 model-input frames, flattened to `2816` numbers) is matched to the nearest real gallery
  GEI by Euclidean distance, either among gallery clips of the probe's OWN view ("same_view":
  what a fixed camera gives an attacker) or among those of every OTHER view ("cross_view"), or
  all views ("all_views", `leakage_report`'s setting).
- `recognizer_leakage`: any recognizer's embeddings through `leakage_report` itself, at that
  recognizer's OWN threshold (its `calibration.json`, `own_calibration`, or one computed here on
  real clips with `calibrate_on_real`) — e.g. the bundled GEINet attacker
  (`recognizers.load_attacker()`), whose architecture, seed and calibration the anonymizer never saw.

Every threshold is calibrated on REAL pairs only (real probe clips against the real gallery, in
the attacker's view relation), never on protected clips: a protection cannot move it.
Reports carry `leakage_report`'s keys (rank-1, rank-5, chance, rank-1 / chance, TAR vs the
source clip and vs the source subject's gallery at FAR 1%, impostor acceptance, distances),
plus `attacker`, `views` and `calibration`, so every attacker fits one table.

Functions of arrays (`float [N, D]` GEIs, `float [N, c, p]` embeddings) and labels: no model runs here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from evaluation.leakage import leakage_report, match_numbers
from evaluation.retrieval import ranked_rank_k
from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH, GaitSequence, crop_to_model_input
from recognizers.calibration import threshold_at_far

logger = logging.getLogger(__name__)

VIEW_MODES = ("same_view", "cross_view", "all_views")
GEI_ATTACKERS = {"gei_same_view": "same_view", "gei_cross_view": "cross_view"}  # report name → view mode


# ---- gait energy images -----------------------------------------------------------------------
def gait_energy_image(clip: GaitSequence | np.ndarray) -> np.ndarray:
    """The GEI of one clip: `float32 [64 * 44]` in [0, 1].

    Args:
        clip: a `GaitSequence` (its `model_input()` is averaged), `uint8 [T, H, W]` frames
            (brought to the 64×44 model crop first), or `float [T, 64, 44]` in [0, 1].
    """
    if isinstance(clip, GaitSequence):
        frames = clip.model_input()
    else:
        frames = np.asarray(clip)
        if frames.ndim == 2:
            frames = frames[None]
        if frames.dtype == np.uint8:
            frames = crop_to_model_input(frames).astype(np.float32) / 255.0
        elif frames.shape[1:] != (CANONICAL_HEIGHT, CANONICAL_WIDTH):
            raise ValueError(f"float frames must be [T, 64, 44] in [0, 1] (model input), got {frames.shape}")
    return np.asarray(frames, np.float32).mean(axis=0).reshape(-1)


def gait_energy_images(clips: Sequence[GaitSequence | np.ndarray]) -> np.ndarray:
    """GEIs of many clips: `float32 [N, 2816]` (see `gait_energy_image`)."""
    if len(clips) == 0:
        return np.zeros((0, CANONICAL_HEIGHT * CANONICAL_WIDTH), np.float32)
    return np.stack([gait_energy_image(c) for c in clips])


def euclidean_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of every row of `a [N, D]` to every row of `b [G, D]`: `float32 [N, G]`."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    squared = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.sqrt(np.clip(squared, 0.0, None)).astype(np.float32)  # clip: rounding below zero on near-twins


def view_relation(probe_views, gallery_views, mode: str) -> np.ndarray | None:
    """Which gallery clips each probe may be matched with: `bool [N, G]`, or None for every one."""
    if mode not in VIEW_MODES:
        raise ValueError(f"view mode must be one of {VIEW_MODES}, got {mode!r}")
    if mode == "all_views":
        return None
    same = np.asarray(probe_views).astype(str)[:, None] == np.asarray(gallery_views).astype(str)[None, :]
    return same if mode == "same_view" else ~same


# ---- calibration on real pairs ------------------------------------------------------------------
def calibrate_on_real(
    distances: np.ndarray,
    probe_subjects,
    gallery_subjects,
    allowed: np.ndarray | None = None,
    metric: str = "euc",
    far: float = 0.01,
) -> dict:
    """A verification threshold at `far` from REAL probe-vs-gallery pairs.

    Args:
        distances: `float [P, G]`, real probe clips (never gallery clips, never protected ones)
            against the real gallery.
        probe_subjects, gallery_subjects: `[P]`, `[G]`.
        allowed: `bool [P, G]`, the pairs the attacker compares (`view_relation`); None = all.
        metric: the distance's name, stored with the threshold.
        far: the false-accept rate the threshold is set for.

    Returns:
        `{"metric", "threshold", "far", "tar", "genuine_pairs", "impostor_pairs", "target_far",
        "probes"}` (the form of a `calibration.json`; far and tar as fractions).
    """
    distances = np.asarray(distances, np.float64)
    same = np.asarray(probe_subjects).astype(str)[:, None] == np.asarray(gallery_subjects).astype(str)[None, :]
    allowed = np.ones_like(same) if allowed is None else np.asarray(allowed, bool)
    genuine, impostor = distances[same & allowed], distances[~same & allowed]
    if not len(genuine) or not len(impostor):
        raise ValueError(
            f"calibration needs real genuine and impostor pairs: got {len(genuine)} and {len(impostor)} "
            f"from {distances.shape[0]} real probes"
        )
    return {
        "metric": metric,
        **threshold_at_far(genuine, impostor, far),
        "target_far": far,
        "probes": int(distances.shape[0]),
    }


# ---- leakage ---------------------------------------------------------------------------------------
def _calibration_summary(calibration: dict) -> dict:
    keys = ("metric", "threshold", "far", "tar", "genuine_pairs", "impostor_pairs", "probes", "source")
    return {k: calibration[k] for k in keys if k in calibration}


def leakage_from_distances(
    to_gallery: np.ndarray,
    to_source: np.ndarray | None,
    source_subjects,
    gallery_subjects,
    calibration: dict,
    allowed: np.ndarray | None = None,
) -> dict:
    """`leakage_report`'s numbers from distances, each probe matched only where `allowed`.

    Args:
        to_gallery: `float [N, G]`, protected clips against the real gallery.
        to_source: `float [N]`, each protected clip against its own source clip (None: not
            comparable in this view relation; `tar_vs_source` and `distance_to_source` are None).
        source_subjects, gallery_subjects: `[N]`, `[G]`.
        calibration: `{"metric", "threshold", ...}` calibrated on real pairs in the same relation.
        allowed: `bool [N, G]` gallery clips each probe may be matched with; None = all. A probe
            with no allowed clip of its source subject cannot be scored: it is left out and counted.

    Returns:
        `leakage_report`'s keys, plus `"probes_left_out"`; chance is averaged over the probes
        (1 / the subjects among each probe's allowed gallery).
    """
    for key in ("metric", "threshold"):
        if key not in calibration:
            raise ValueError(f"the calibration has no {key!r}")
    to_gallery = np.asarray(to_gallery, np.float64)
    src = np.asarray(source_subjects).astype(str)
    gal = np.asarray(gallery_subjects).astype(str)
    if to_gallery.shape != (len(src), len(gal)):
        raise ValueError(f"distances {to_gallery.shape} do not match {len(src)} probes × {len(gal)} gallery clips")
    allowed = np.ones(to_gallery.shape, bool) if allowed is None else np.asarray(allowed, bool)
    genuine = (src[:, None] == gal[None, :]) & allowed  # [N, G]
    scored = genuine.any(axis=1)
    if not scored.any():
        raise ValueError("no probe has a gallery clip of its source subject in the allowed views")
    to_gallery, allowed, genuine, src = to_gallery[scored], allowed[scored], genuine[scored], src[scored]
    masked = np.where(allowed, to_gallery, np.inf)
    order = np.argsort(masked, axis=1, kind="stable")
    hits = np.take_along_axis(genuine, order, axis=1) & np.take_along_axis(allowed, order, axis=1)
    ranks = ranked_rank_k(hits, ks=(1, 5))
    subjects_seen = [len(set(gal[row].tolist())) for row in allowed]
    chance = float(np.mean([100.0 / n for n in subjects_seen]))
    if to_source is not None:
        to_source = np.asarray(to_source, np.float64)[scored]
    return {
        "probes": int(scored.sum()),
        "probes_left_out": int((~scored).sum()),
        "gallery_clips": len(gal),
        "gallery_subjects": len(set(gal.tolist())),
        **match_numbers(calibration, ranks, chance, to_gallery, genuine, allowed & ~genuine, to_source),
    }


class GeiTemplateMatcher:
    """The GEI template attacker: nearest real gallery GEI, Euclidean, in one view relation.

    Args:
        gallery_geis: `float [G, 2816]` GEIs of the real gallery (`gait_energy_images`).
        gallery_subjects, gallery_views: `[G]` each.
        mode: "same_view" (gallery clips of the probe's view), "cross_view" (of every other
            view) or "all_views".
        far: the false-accept rate of the threshold `calibrate` sets.

    Usage: `calibrate(real probe GEIs, ...)` once, then `leakage(...)` per protection arm.
    """

    def __init__(self, gallery_geis: np.ndarray, gallery_subjects, gallery_views, mode: str = "same_view", far=0.01):
        view_relation([], [], mode)  # refuses an unknown mode now rather than at the first call
        self.gallery = np.asarray(gallery_geis, np.float32)
        self.subjects = np.asarray(gallery_subjects).astype(str)
        self.views = np.asarray(gallery_views).astype(str)
        if (
            len(self.gallery) == 0
            or self.gallery.shape[0] != len(self.subjects)
            or len(self.subjects) != len(self.views)
        ):
            raise ValueError(
                f"need a gallery with one subject and view per GEI, got {self.gallery.shape[0]} GEIs, "
                f"{len(self.subjects)} subjects, {len(self.views)} views"
            )
        self.mode, self.far = mode, far
        self.calibration: dict | None = None

    def calibrate(self, real_geis: np.ndarray, real_subjects, real_views) -> dict:
        """Set the threshold from REAL probe clips (not in the gallery) against the gallery; returns it."""
        distances = euclidean_distances(real_geis, self.gallery)
        allowed = view_relation(real_views, self.views, self.mode)
        self.calibration = calibrate_on_real(distances, real_subjects, self.subjects, allowed, "euc", self.far)
        self.calibration["source"] = f"{len(distances)} real probe clips vs the real gallery ({self.mode})"
        return self.calibration

    def leakage(self, source_geis: np.ndarray, source_subjects, source_views, protected_geis: np.ndarray) -> dict:
        """Leakage of protected clips (row i made from source i, at its view) — `leakage_report`'s keys.

        `tar_vs_source` compares each protected clip with its source (same view): None in cross_view mode.
        """
        if self.calibration is None:
            raise ValueError("calibrate the matcher on real probe clips first (GeiTemplateMatcher.calibrate)")
        source, protected = np.asarray(source_geis, np.float32), np.asarray(protected_geis, np.float32)
        if source.shape != protected.shape:
            raise ValueError(f"source {source.shape} and protected {protected.shape} GEIs differ in shape")
        to_gallery = euclidean_distances(protected, self.gallery)
        to_source = None if self.mode == "cross_view" else np.sqrt(((protected - source) ** 2).sum(1))
        allowed = view_relation(source_views, self.views, self.mode)
        out = leakage_from_distances(to_gallery, to_source, source_subjects, self.subjects, self.calibration, allowed)
        return {
            "attacker": "GEI template",
            "views": self.mode,
            **out,
            "calibration": _calibration_summary(self.calibration),
        }


def gei_leakage(
    source_geis: np.ndarray,
    source_subjects,
    source_views,
    arms: dict[str, np.ndarray],
    gallery_geis: np.ndarray,
    gallery_subjects,
    gallery_views,
    real_geis: np.ndarray,
    real_subjects,
    real_views,
    far: float = 0.01,
) -> dict[str, dict[str, dict]]:
    """Both GEI attackers on every arm: `{"gei_same_view": {arm: report}, "gei_cross_view": {...}}`.

    Args:
        source_geis, source_subjects, source_views: the sources, `[N, 2816]`, `[N]`, `[N]`.
        arms: arm name → protected GEIs `[N, 2816]`, row i made from source i (the sources
            themselves for the unmodified ceiling).
        gallery_geis, gallery_subjects, gallery_views: the real gallery.
        real_geis, real_subjects, real_views: REAL probe clips (not gallery clips) the thresholds
            are calibrated on.
        far: false-accept rate of the thresholds.
    """
    out = {}
    for name, mode in GEI_ATTACKERS.items():
        matcher = GeiTemplateMatcher(gallery_geis, gallery_subjects, gallery_views, mode, far)
        matcher.calibrate(real_geis, real_subjects, real_views)
        out[name] = {arm: matcher.leakage(source_geis, source_subjects, source_views, g) for arm, g in arms.items()}
    return out


# ---- any recognizer, at its own threshold ---------------------------------------------------------
def bundled_attackers() -> dict:
    """`{name: recognizer}` of the bundled attackers the anonymizer never consults (empty, with a
    warning, when none is installed)."""
    import recognizers

    try:
        return {recognizers.ATTACKER: recognizers.load_attacker()}
    except FileNotFoundError as err:
        logger.warning("no bundled attacker recognizer: %s", err)
        return {}


def own_calibration(model) -> dict | None:
    """The `calibration.json` of the folder a recognizer was loaded from (`from_pretrained`), or None."""
    from pathlib import Path

    from recognizers.calibration import load_calibration

    folder = model.config.get("_name_or_path") if hasattr(model, "config") else None
    if not folder or not Path(folder).is_dir():
        return None
    calibration = load_calibration(folder)
    if calibration is not None:
        calibration = {**calibration, "source": f"{folder}/calibration.json"}
    return calibration


def calibrate_recognizer_on_real(
    probe_embeddings: np.ndarray,
    probe_subjects,
    gallery_embeddings: np.ndarray,
    gallery_subjects,
    metric: str = "euc",
    far: float = 0.01,
) -> dict:
    """A recognizer's threshold from REAL probe embeddings `[P, c, p]` against the real gallery `[G, c, p]`."""
    from recognizers.distance import pairwise_distance

    distances = pairwise_distance(probe_embeddings, gallery_embeddings, metric)
    calibration = calibrate_on_real(distances, probe_subjects, gallery_subjects, None, metric, far)
    calibration["source"] = f"computed on {len(distances)} real probe clips vs the real gallery"
    return calibration


def recognizer_leakage(
    source_embeddings: np.ndarray,
    source_subjects,
    protected_embeddings: np.ndarray,
    gallery_embeddings: np.ndarray,
    gallery_subjects,
    calibration: dict,
    attacker: str,
) -> dict:
    """`leakage_report` for any recognizer, at ITS OWN real-clip calibration, labelled for the attackers table.

    Args:
        source_embeddings, protected_embeddings, gallery_embeddings: THIS recognizer's
            embeddings `[N, c, p]`, `[N, c, p]`, `[G, c, p]` (see `leakage_report`).
        source_subjects, gallery_subjects: `[N]`, `[G]`.
        calibration: this recognizer's own threshold on real clips (`own_calibration` or
            `calibrate_recognizer_on_real`), never another's: thresholds do not transfer.
        attacker: its name in reports (e.g. "gaitset-walkers (judge)").
    """
    out = leakage_report(
        source_embeddings, source_subjects, protected_embeddings, gallery_embeddings, gallery_subjects, calibration
    )
    summary = _calibration_summary(calibration)
    return {"attacker": attacker, "views": "all_views", **out, "probes_left_out": 0, "calibration": summary}
