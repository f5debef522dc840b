"""Covariate vocabularies and their mapping to and from dataset condition names.

CASIA-B-style condition names carry the covariates: `nm-01` (normal clothes, nothing carried),
`bg-01` (a bag), `cl-01` (a coat). The generator sees clothing and carrying as class indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

# the class vocabularies, and condition-name prefix → (clothing, carrying)
from gaitdata.casia_b import CARRYING, CLOTHING, CONDITION_COVARIATES

if TYPE_CHECKING:
    from gaitdata import GaitSequence

_ALIASES = {"cl": "coat", "nm": "normal", "bg": "bag", "no": "none", "": "none"}


def _index(value: str | int, vocabulary: tuple[str, ...], what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < len(vocabulary):
            return value
        raise ValueError(f"{what} index {value} out of range; allowed 0..{len(vocabulary) - 1}")
    name = _ALIASES.get(str(value).lower(), str(value).lower())
    if name not in vocabulary:
        raise ValueError(f"unknown {what} {value!r}; allowed: {', '.join(vocabulary)}")
    return vocabulary.index(name)


def clothing_index(value: str | int) -> int:
    """'normal' / 'coat' (or 'nm' / 'cl') → class index."""
    return _index(value, CLOTHING, "clothing")


def carrying_index(value: str | int) -> int:
    """'none' / 'bag' (or 'bg') → class index."""
    return _index(value, CARRYING, "carrying")


@dataclass(frozen=True)
class Covariates:
    """What a clip shows besides the person: view (degrees), clothing, carrying, speed."""

    view_deg: float | None = None
    clothing: str | None = None
    carrying: str | None = None
    speed: float | None = None

    def condition_type(self) -> str:
        """The dataset condition prefix these covariates correspond to (`nm`, `bg` or `cl`)."""
        if self.clothing == "coat":
            return "cl"
        if self.carrying == "bag":
            return "bg"
        return "nm"


def covariates_from_condition(condition: str) -> Covariates:
    """`'cl-02'` → Covariates(clothing='coat', carrying='none'); unknown prefixes raise ValueError."""
    prefix = condition.split("-")[0].lower()
    if prefix not in CONDITION_COVARIATES:
        raise ValueError(f"condition {condition!r} is not one of {', '.join(CONDITION_COVARIATES)} (e.g. 'nm-01')")
    clothing, carrying = CONDITION_COVARIATES[prefix]
    return Covariates(clothing=clothing, carrying=carrying)


def parse_view(view: str | float | int) -> float:
    """A view as datasets name it (`'090'`) or a number of degrees → degrees in [0, 360)."""
    try:
        deg = float(view)
    except (TypeError, ValueError):
        raise ValueError(f"view {view!r} is not an angle in degrees (e.g. 90 or '090')") from None
    if not 0.0 <= deg <= 360.0:
        raise ValueError(f"view {deg:g} is outside 0–360 degrees")
    return deg % 360.0


def view_name(deg: float) -> str:
    """Degrees → the 3-digit folder name datasets use (`90.0` → `'090'`)."""
    return f"{int(round(deg)) % 360:03d}"


def source_covariates(seq: GaitSequence) -> dict:
    """The covariates a clip's metadata states (view, clothing, carrying), None where unknown."""
    out = {"view": None, "clothing": None, "carrying": None}
    try:
        out["view"] = parse_view(seq.view)
    except ValueError:
        pass
    try:
        cov = covariates_from_condition(seq.condition)
        out["clothing"], out["carrying"] = cov.clothing, cov.carrying
    except ValueError:
        pass
    return out
