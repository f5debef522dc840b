"""Covariate fidelity: how often the covariate classifier reads view, clothing and carrying right."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from recognizers.covariates import angular_error, covariate_targets


def covariate_accuracy(predictions: Mapping, conditions, views, classifier_config, view_tolerance: float = 18) -> dict:
    """Accuracies in % of `CovariateClassifier.predict` output against condition / view names.

    Args:
        predictions: `{"view": degrees [N], "clothing": names [N], "carrying": names [N]}`.
        conditions, views: the true names, e.g. `"cl-01"`, `"054"` (`[N]` each).
        classifier_config: the classifier's config (class names and condition map).
        view_tolerance: a view counts as right within this many degrees (18 = one CASIA-B step).

    Returns:
        `{"view_within_tolerance", "view_exact", "clothing", "carrying", "count"}`; entries whose
        truth the classifier cannot name (unknown condition prefix or view) are left out of each.
    """
    cfg = classifier_config
    targets = covariate_targets(
        conditions, views, cfg.view_angles, cfg.clothing_classes, cfg.carrying_classes, cfg.condition_map
    )
    true_angle = np.asarray([float(v) if str(v).lstrip("-").isdigit() else np.nan for v in views])
    known_angle = ~np.isnan(true_angle)
    error = angular_error(np.asarray(predictions["view"], float)[known_angle], true_angle[known_angle])
    result = {
        "view_within_tolerance": float(100 * (error <= view_tolerance).mean()) if len(error) else float("nan"),
        "view_exact": float(100 * (error < 1e-6).mean()) if len(error) else float("nan"),
        "view_tolerance_degrees": view_tolerance,
        "count": int(len(views)),
    }
    for head, classes in (("clothing", cfg.clothing_classes), ("carrying", cfg.carrying_classes)):
        known = targets[head] >= 0
        predicted = np.asarray(predictions[head])[known]
        truth = np.asarray(classes)[targets[head][known]]
        result[head] = float(100 * (predicted == truth).mean()) if known.any() else float("nan")
    return result
