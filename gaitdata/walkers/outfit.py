"""Everyday clothes and hair of the calibrated style: what a person wears when not in a coat.

Real CASIA-B people wear their own clothes in `nm` and `bg` (and a coat over them in `cl`):
loose tops that hang straight from the chest (so the arms overlap the torso seen from the
front), trousers of any cut, skirts and dresses, shoes bigger than feet, hair that adds to the
head. An `Outfit` belongs to an identity, so every nm/bg/cl clip of a person shows the same
clothes; a coat (`covariates.add_coat`) goes on top.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from gaitdata.walkers.body import SIDES, BlobSet, BodyPose
from gaitdata.walkers.style import CalibratedLook

LOWER_GARMENTS = ("trousers", "wide_trousers", "skirt")


@dataclass(frozen=True)
class Outfit:
    """A person's everyday clothes and hair, in body-height units.

    Attributes:
        top: added torso half-width and depth (a loose shirt, jumper or jacket worn open).
        waist_fill: 0..1, how far waist and hips widen towards the chest's width (cloth hangs straight).
        sleeve: added arm radius.
        lower: one of `LOWER_GARMENTS`.
        legs: added leg radius (trousers), also under a skirt.
        skirt_hem: hem height above the ground (skirts only, else 0).
        head_scale: factor on the head's size (faces and skulls of real people, hats).
        hair: added radius round the head (hair volume).
        shoes: factor on the feet's size.
        shoulder_round: factor on the shoulder girdle's half-width (below 1: sloping, rounder shoulders).
        shoulder_drop: how far the shoulder joints' volumes sit lower (soft, sloping shoulders).
        arm_inset: how far the arms are moved in towards the body (they overlap a loose top).
        trunk_width: factor on the torso's breadth, clothes included.
        leg_inset: how far the legs are moved in towards each other (trousers merge them).
    """

    top: float
    waist_fill: float
    sleeve: float
    lower: str
    legs: float
    skirt_hem: float
    head_scale: float
    hair: float
    shoes: float
    shoulder_round: float = 1.0
    shoulder_drop: float = 0.0
    arm_inset: float = 0.0
    trunk_width: float = 1.0
    leg_inset: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def sample_outfit(rng: np.random.Generator, female: bool, look: CalibratedLook) -> Outfit:
    """Draw a person's everyday clothes from `look`'s distributions."""
    u = rng.uniform
    lower = "skirt" if female and rng.random() < look.skirt_share_f else "trousers"
    if lower == "trousers" and rng.random() < look.wide_trousers:
        lower = "wide_trousers"
    return Outfit(
        top=float(u(*look.top_looseness)),
        waist_fill=float(u(*look.waist_fill)),
        sleeve=float(u(*look.sleeve_looseness)),
        lower=lower,
        legs=float(u(*look.trouser_looseness)),
        skirt_hem=float(u(*look.skirt_hem)) if lower == "skirt" else 0.0,
        head_scale=float(rng.normal(*look.head_scale)),
        hair=float(u(*look.hair_volume)),
        shoes=float(u(*look.shoe_scale)),
        shoulder_round=float(rng.normal(*look.shoulder_round)),
        # The second fit's fields come from a stream jumped off `rng`: `rng`'s own draws stay as they were.
        **_second_fit(np.random.Generator(rng.bit_generator.jumped()), look),
    )


def _second_fit(rng: np.random.Generator, look: CalibratedLook) -> dict:
    return dict(
        shoulder_drop=float(rng.uniform(*look.shoulder_drop)),
        arm_inset=float(rng.uniform(*look.arm_inset)),
        trunk_width=float(max(0.5, rng.normal(*look.trunk_width))),
        leg_inset=float(rng.uniform(*look.leg_inset)),
    )


def dress_outfit(blobs: BlobSet, pose: BodyPose, outfit: Outfit, height: float) -> None:
    """Put `outfit` on the naked body `blobs` (in place): looser torso, sleeves, legs; skirt; head."""
    h = height
    chest_half = blobs.half_width("chest")
    for name in ("waist", "pelvis"):
        blobs.widen(name, outfit.waist_fill * max(0.0, chest_half - blobs.half_width(name)))
    blobs.inflate(("pelvis", "waist", "chest", "shoulders"), outfit.top * h)
    blobs.inflate(tuple(f"{s}_{j}" for s, _ in SIDES for j in ("shoulder", "elbow", "wrist")), outfit.sleeve * h)
    for side, _ in SIDES:
        blobs.inflate((f"{side}_thigh", f"{side}_knee"), outfit.legs * h)
        # Wide trousers flare towards the ankle; others narrow a little there.
        ankle = outfit.legs * h * (2.0 if outfit.lower == "wide_trousers" else 0.8)
        blobs.inflate((f"{side}_ankle",), ankle)
        blobs.scale((f"{side}_heel", f"{side}_toe"), outfit.shoes)
    blobs.widen("shoulders", (outfit.shoulder_round - 1.0) * blobs.half_width("shoulders"))
    for name in ("pelvis", "waist", "chest", "shoulders"):
        blobs.widen(name, (outfit.trunk_width - 1.0) * blobs.half_width(name))
    up, left = pose.torso_rotation[:, :, 1], pose.torso_rotation[:, :, 0]
    for side, sign in SIDES:
        blobs.shift((f"{side}_shoulder",), -outfit.shoulder_drop * h * up)
        arm = tuple(f"{side}_{j}" for j in ("shoulder", "elbow", "wrist", "hand"))
        blobs.shift(arm, -sign * outfit.arm_inset * h * left)
        leg = tuple(f"{side}_{j}" for j in ("thigh", "knee", "ankle", "heel", "toe"))
        blobs.shift(leg, np.array([-sign * outfit.leg_inset * h, 0.0, 0.0]))
    blobs.scale(("head", "head_back"), outfit.head_scale)
    blobs.inflate(("head_back",), outfit.hair * h)
    if outfit.lower == "skirt":
        _add_skirt(blobs, pose, outfit, h)


def _add_skirt(blobs: BlobSet, pose: BodyPose, outfit: Outfit, h: float) -> None:
    """A skirt: the hull of the hips and a hem ellipse that follows the knees, like a coat's skirt."""
    pelvis_c, pelvis_axes = blobs.get("pelvis")
    knees = (pose.joints["l_knee"] + pose.joints["r_knee"]) / 2
    hem_y = outfit.skirt_hem * h
    hem_c = pose.joints["pelvis"].copy()
    hem_c[:, 1] = hem_y
    hem_c[:, 2] += 0.7 * (knees[:, 2] - pose.joints["pelvis"][:, 2])
    spread = np.abs(pose.joints["l_knee"][:, 2] - pose.joints["r_knee"][:, 2])
    hem_axes = np.zeros(pelvis_axes.shape)
    hem_axes[:, 0, 0] = blobs.half_width("pelvis") + 0.015 * h
    hem_axes[:, 1, 1] = 0.01 * h
    hem_axes[:, 2, 2] = 0.6 * blobs.half_depth("pelvis") + 0.5 * spread
    blobs.add("skirt_top", pelvis_c, pelvis_axes)
    blobs.add("skirt_hem", hem_c, hem_axes)
    blobs.connect("skirt_top", "skirt_hem")
