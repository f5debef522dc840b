"""The evaluated default settings of edits and anonymization, in one place.

The library calls, the batch jobs, the CLI, the web app and the evaluations all start from these,
so that what a user gets by default is what `studio eval-editor` measured (the bundled
generator's model card states the figures). An edit keeps the person (the source is the identity
reference) and changes covariates; an anonymization regenerates the whole clip from fresh noise
("noise" at strength 1: no trace of the source's latents, whose outline a GEI matcher would find)
with a novel person as the reference, walking on the source's timing (the motion signal).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

METHODS = ("invert", "noise")  # DDIM inversion of the source's latents, or noising them
# the steering target moves by this many times the covariate means' shift (`generators.
# identity_guidance`): on 20 walker test subjects' steered edits (strength 0.9, steering 0.2)
# twice the mean move showed a coat on 85% of coat edits at identity ratio 0.89, the mean move
# itself 70% at 0.92 (none: 43% at 0.96)
SHIFT_SCALE = 2.0
# Which changes of covariate move a steered GENERATION's target (edits move for all three). On
# 50 walker test subjects (`studio eval-generator --conditioner-guidance 0.2`, 1,500 clips),
# identity ratio NM / BG / CL and carrying kept: no move 0.894 / 0.923 / 0.884, 86.0%; view,
# clothing and carrying 0.878 / 0.898 / 0.798, 90.6%; clothing and carrying 0.894 / 0.915 /
# 0.819, 90.2%; carrying alone (this) 0.894 / 0.915 / 0.884, 89.7%: moving for a coat or a view
# costs identity the denoiser's own covariates don't need (clothing 97.3%, view 96.8% without),
# moving for a bag is what shows it.
GENERATION_MOVES = ("carrying",)


@dataclass(frozen=True)
class EditSettings:
    """How hard an edit regenerates the source, and how it is sampled."""

    strength: float = 0.9
    method: str = "invert"
    steps: int = 20
    guidance: float = 2.0  # the covariates' classifier-free guidance
    identity_guidance: float | None = None  # None: the same as `guidance`
    conditioner_guidance: float = 0.0  # steering toward the person by the conditioner's gradient (0: off)
    covariate_shift: float = SHIFT_SCALE  # how far steering moves its target to the new covariates

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AnonymizeSettings(EditSettings):
    """An edit's settings, plus how often a clip the judge still verifies is made again."""

    strength: float = 1.0
    method: str = "noise"
    # fresh generation needs no inversion to stay exact: 12 DPM-Solver steps measured as 20 do
    # (rank-1 0.7% / view kept 96.7% / Fréchet ratio 1.43 vs 0.7% / 97.3% / 1.44), at 60% of the work
    steps: int = 12
    max_attempts: int = 3


EDIT = EditSettings()
ANONYMIZE = AnonymizeSettings()

# Per kind of change, the steered setting measured to keep the person (identity ratio ≥ 0.9) AND
# show the change (≥ 90% read by the covariate classifier), where one was found: `studio
# eval-editor --parts edit --subjects 20 --bf16` swept over covariate guidance 3–6, steering
# 0.2–0.3, covariate shift 0–2 and strength 0.8–0.9 (60 nm-05 sources; the bundled generator's
# model card has the sweep): → bag 0.951 / 90.0%, view +54° 0.952 / 100%, coat 0.897 / 93.3% (no
# setting kept a coat edit's person at 0.9). On all 50 test subjects (150 sources) `--faithful`
# gave bag 0.972 / 83.3%, coat 0.880 / 83.3%, view 0.919 / 99.3% (only the view meets both).
# Steering reads the conditioner's gradient at every lower-noise step, several times the cost
# of a plain edit, so these are asked for by name (`--faithful`), never the default.
FAITHFUL_EDITS = {
    "carrying": EditSettings(guidance=5.0, conditioner_guidance=0.2),
    "clothing": EditSettings(strength=0.8, guidance=5.0, conditioner_guidance=0.2),
    "view": EditSettings(guidance=6.0, conditioner_guidance=0.2),
}


def faithful_edit(view=None, clothing=None, carrying=None) -> EditSettings:
    """The faithful setting of an edit that changes what is not None; an edit changing several
    things takes, field by field, the strongest of their settings."""
    kinds = [k for k, v in (("view", view), ("clothing", clothing), ("carrying", carrying)) if v is not None]
    if not kinds:
        raise ValueError("nothing to edit: give a view, clothing or carrying")
    chosen = [FAITHFUL_EDITS[k] for k in kinds]
    return EditSettings(
        strength=max(c.strength for c in chosen),
        method=chosen[0].method,
        steps=max(c.steps for c in chosen),
        guidance=max(c.guidance for c in chosen),
        identity_guidance=None,
        conditioner_guidance=max(c.conditioner_guidance for c in chosen),
        covariate_shift=max(c.covariate_shift for c in chosen),
    )
