"""Clothing and carrying: coat and bag styles, how they are drawn, and their 3-D shapes.

A coat (CASIA-B's `cl`) is one convex volume from the shoulders to its hem, worn over a thicker
torso and thicker sleeves; its hem follows the knees and flares with the stride, so a long coat
hides the thighs and most of the leg swing. A bag (`bg`) is one or two convex volumes: a
backpack on the upper back, a shoulder bag at the hip with a strap across the chest, or a
handbag hanging from one hand. Styles are drawn per identity (each person owns two coats and a
bag or two) and jittered per sequence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from gaitdata.walkers.body import BlobSet, BodyPose

COAT_KINDS = ("long_coat", "coat", "trench", "jacket", "parka")
BAG_KINDS = ("backpack", "shoulder_bag", "handbag")

# (hem height / body height, extra torso thickness / H, sleeve thickness / H, flare) per coat kind.
_COAT_SHAPES = {
    "long_coat": (0.27, 0.014, 0.007, 0.9),
    "trench": (0.32, 0.012, 0.006, 1.0),
    "coat": (0.38, 0.013, 0.006, 0.7),
    "parka": (0.44, 0.022, 0.010, 0.5),
    "jacket": (0.50, 0.019, 0.009, 0.3),
}


@dataclass(frozen=True)
class CoatStyle:
    """A coat, in body-height units so it fits any wearer.

    Attributes:
        kind: one of `COAT_KINDS`.
        hem: hem height above the ground / body height (0.27 = mid-shin, 0.50 = hips).
        thickness: added torso half-width and half-depth / body height.
        sleeve: added arm radius / body height.
        flare: how far the hem opens with the stride (0 = straight, 1 = follows the knees).
        hood: a hood adds volume behind the head.
    """

    kind: str
    hem: float
    thickness: float
    sleeve: float
    flare: float
    hood: bool

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class BagStyle:
    """A bag, in metres.

    Attributes:
        kind: one of `BAG_KINDS`.
        size: `(width, height, depth)` of the bag's box.
        side: +1 = carried on the left (shoulder or hand), -1 = right.
        drop: for a shoulder bag or handbag, how far its centre hangs below the hip or hand.
    """

    kind: str
    size: tuple[float, float, float]
    side: int
    drop: float

    def to_dict(self) -> dict:
        return asdict(self)


def sample_coat(rng: np.random.Generator, kind: str | None = None) -> CoatStyle:
    """Draw a coat style (`kind` fixed or drawn); proportions jittered around the kind's shape."""
    kind = kind or str(rng.choice(COAT_KINDS))
    hem, thickness, sleeve, flare = _COAT_SHAPES[kind]
    return CoatStyle(
        kind=kind,
        hem=float(hem + rng.normal(0, 0.02)),
        thickness=float(thickness * rng.uniform(0.8, 1.25)),
        sleeve=float(sleeve * rng.uniform(0.8, 1.25)),
        flare=float(np.clip(flare + rng.normal(0, 0.1), 0.1, 1.2)),
        hood=bool(kind == "parka" or rng.random() < 0.15),
    )


def jitter_coat(coat: CoatStyle, rng: np.random.Generator) -> CoatStyle:
    """The same coat worn another day: it sits a little differently (hem ±1 %, looseness ±8 %)."""
    return replace(
        coat,
        hem=float(coat.hem + rng.normal(0, 0.008)),
        thickness=float(coat.thickness * rng.normal(1, 0.08)),
        flare=float(np.clip(coat.flare * rng.normal(1, 0.08), 0.05, 1.3)),
    )


def sample_bag(rng: np.random.Generator, kind: str | None = None) -> BagStyle:
    """Draw a bag (`kind` fixed or drawn) with a size typical of its kind."""
    kind = kind or str(rng.choice(BAG_KINDS, p=(0.45, 0.35, 0.20)))
    base = {"backpack": (0.30, 0.40, 0.16), "shoulder_bag": (0.32, 0.26, 0.10), "handbag": (0.30, 0.22, 0.12)}[kind]
    size = tuple(float(s * rng.uniform(0.8, 1.25)) for s in base)
    drop = {"backpack": 0.0, "shoulder_bag": rng.uniform(0.0, 0.10), "handbag": rng.uniform(0.10, 0.18)}[kind]
    return BagStyle(kind=kind, size=size, side=int(rng.choice((-1, 1))), drop=float(drop))


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------


def add_coat(blobs: BlobSet, pose: BodyPose, coat: CoatStyle, height: float) -> None:
    """Dress `blobs` in `coat`: thicker torso and sleeves, plus a skirt volume down to the hem.

    The skirt is the hull of an ellipsoid round the chest and one at the hem; the hem's centre
    follows the knees and its depth opens with their spread (`flare`), so the coat swings.
    """
    extra = coat.thickness * height
    blobs.inflate(("pelvis", "waist", "chest", "shoulders"), extra)
    blobs.inflate(("l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist"), coat.sleeve * height)
    if coat.hood:
        blobs.inflate(("head_back",), 0.025 * height)

    chest = blobs.get("chest")
    knees = (pose.joints["l_knee"] + pose.joints["r_knee"]) / 2
    hem_y = coat.hem * height
    top_c, top_axes = chest
    hem_c = pose.joints["pelvis"].copy()
    hem_c[:, 1] = hem_y
    # Below the knees a coat hangs between them; above them it stays under the pelvis.
    reach = np.clip(
        (pose.joints["pelvis"][:, 1] - hem_y) / np.maximum(pose.joints["pelvis"][:, 1] - knees[:, 1], 1e-6), 0, 1.3
    )
    hem_c[:, 2] = pose.joints["pelvis"][:, 2] + coat.flare * reach * (knees[:, 2] - pose.joints["pelvis"][:, 2])
    spread = np.abs(pose.joints["l_knee"][:, 2] - pose.joints["r_knee"][:, 2]) * reach
    half_w = blobs.half_width("pelvis") + extra + 0.01 * height
    # The cloth spans the legs' spread: even a straight coat covers the thighs' swing under it.
    half_d = 0.5 * blobs.half_depth("pelvis") + extra + (0.35 + 0.25 * coat.flare) * spread
    hem_axes = np.zeros(top_axes.shape)
    hem_axes[:, 0, 0] = half_w
    hem_axes[:, 1, 1] = 0.01 * height
    hem_axes[:, 2, 2] = half_d
    blobs.add("coat_top", top_c, top_axes)
    blobs.add("coat_hem", hem_c, hem_axes)
    blobs.connect("coat_top", "coat_hem")


def add_bag(blobs: BlobSet, pose: BodyPose, bag: BagStyle) -> None:
    """Add `bag` to `blobs`: its volume, and for a shoulder bag the strap across the chest."""
    w, h, d = bag.size
    frames = pose.torso_rotation.shape[0]
    box = np.zeros((frames, 3, 3))
    if bag.kind == "backpack":
        rot = pose.torso_rotation
        chest_c, _ = blobs.get("chest")
        back = blobs.half_depth("chest") + d / 2
        offset = np.array([0.0, -0.02 - bag.drop, -back])  # default backpacks have drop 0
        centre = chest_c + np.einsum("tab,b->ta", rot, offset)
        for i, half in enumerate((w / 2, h / 2, d / 2)):
            box[:, :, i] = rot[:, :, i] * half
        top = centre + rot[:, :, 1] * (h * 0.2)
        bottom = centre - rot[:, :, 1] * (h * 0.2)
        blobs.add("bag_top", top, box * np.array([1.0, 0.6, 1.0]))
        blobs.add("bag_bottom", bottom, box * np.array([1.0, 0.6, 1.0]))
        blobs.connect("bag_top", "bag_bottom")
        return
    side = "l" if bag.side > 0 else "r"
    if bag.kind == "shoulder_bag":
        hip = pose.joints[f"{side}_hip"]
        centre = hip.copy()
        centre[:, 0] += bag.side * (blobs.half_width("pelvis") * 0.9 + d / 2)
        centre[:, 1] -= bag.drop
        # It hangs from the shoulder and lags behind the pelvis a little as it swings.
        centre[:, 2] += 0.4 * (pose.joints["pelvis"][:, 2] - pose.joints["pelvis"][:, 2].mean()) - 0.03
        strap_top = pose.joints[f"{'r' if side == 'l' else 'l'}_shoulder"]
        blobs.add_sphere("strap_top", strap_top, 0.012)
        blobs.add_sphere("strap_bottom", centre + np.array([0.0, h / 2, 0.0]), 0.012)
        blobs.connect("strap_top", "strap_bottom")
    else:  # handbag: hangs from the hand, which swings less while it carries
        centre = pose.joints[f"{side}_hand"] - np.array([0.0, bag.drop, 0.0])
    box[:, 0, 2] = d / 2  # the bag's thin side faces sideways
    box[:, 1, 1] = h / 2
    box[:, 2, 0] = w / 2
    blobs.add("bag_a", centre + np.array([0.0, h * 0.2, 0.0]), box * np.array([1.0, 0.6, 1.0]))
    blobs.add("bag_b", centre - np.array([0.0, h * 0.2, 0.0]), box * np.array([1.0, 0.6, 1.0]))
    blobs.connect("bag_a", "bag_b")
