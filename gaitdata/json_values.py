"""Plain JSON values: what every JSON file of the project holds (no NaN, no numpy, no tuples)."""

from __future__ import annotations

import math
from pathlib import PurePath

import numpy as np


def json_ready(value, *, significant: int | None = None, decimals: int | None = None):
    """`value` as plain JSON holds it: strict readers refuse NaN and Infinity, `json` refuses numpy.

    - dicts → dicts with `str` keys; lists, tuples and numpy arrays → lists;
    - numpy scalars → Python; NaN / ±inf → None; paths → `str`;
    - an object with `to_dict()` (a report section) → what `to_dict()` gives;
    - floats kept as they are, or rounded to `significant` digits (the report: 6) or to `decimals`
      places (walker parameters: 5); at most one of the two.
    """
    if significant is not None and decimals is not None:
        raise ValueError("round to significant digits or to decimal places, not both")
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): json_ready(v, significant=significant, decimals=decimals) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        items = value.tolist() if isinstance(value, np.ndarray) else value
        return [json_ready(v, significant=significant, decimals=decimals) for v in items]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if not math.isfinite(value):
            return None
        if significant is not None:
            return float(f"{value:.{significant}g}")
        return value if decimals is None else round(value, decimals)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, PurePath):
        return str(value)
    return value


__all__ = ["json_ready"]
