"""CASIA-B's naming, which the whole studio speaks: conditions, views, the protocol's groups.

Each subject walks ten times — six normal walks (`nm-01`…`nm-06`), two carrying a bag (`bg-01`,
`bg-02`), two in a coat (`cl-01`, `cl-02`) — and each walk is filmed by eleven cameras, `000` to
`180` degrees in steps of 18. The protocol's gallery is the first four normal walks; the other
six are the probes, in three groups by condition type (NM, BG, CL).
"""

from __future__ import annotations

CONDITION_TYPES = ("nm", "bg", "cl")  # normal walking, carrying a bag, in a coat

GALLERY = ("nm-01", "nm-02", "nm-03", "nm-04")
PROBES = {"NM": ("nm-05", "nm-06"), "BG": ("bg-01", "bg-02"), "CL": ("cl-01", "cl-02")}
PROBE_CONDITIONS = tuple(c for group in PROBES.values() for c in group)
CONDITIONS = GALLERY + PROBE_CONDITIONS  # nm-01…nm-06, bg-01, bg-02, cl-01, cl-02

VIEW_ANGLES = tuple(range(0, 181, 18))  # the eleven cameras, in degrees
VIEWS = tuple(f"{v:03d}" for v in VIEW_ANGLES)  # as folders name them: "000" … "180"

# what the condition types show: the clothing and carrying classes, and each type's pair
CLOTHING = ("normal", "coat")
CARRYING = ("none", "bag")
CONDITION_COVARIATES = {"nm": ("normal", "none"), "bg": ("normal", "bag"), "cl": ("coat", "none")}


def condition_kind(condition: str) -> str:
    """``"nm-03"`` → ``"nm"``; raises ValueError for anything but nm/bg/cl-NN."""
    kind, _, number = condition.partition("-")
    if kind not in CONDITION_TYPES or not number.isdigit():
        raise ValueError(f"unknown condition {condition!r}: expected nm-NN, bg-NN or cl-NN (e.g. nm-01, bg-02, cl-01)")
    return kind


__all__ = [
    "CARRYING",
    "CLOTHING",
    "CONDITIONS",
    "CONDITION_COVARIATES",
    "CONDITION_TYPES",
    "GALLERY",
    "PROBES",
    "PROBE_CONDITIONS",
    "VIEWS",
    "VIEW_ANGLES",
    "condition_kind",
]
