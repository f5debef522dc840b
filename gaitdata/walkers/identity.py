"""Who walks and how: identity, walk and camera parameters, and their seeded sampling.

Three levels of randomness, as in a real recording session:

- `WalkerIdentity` (per subject): body proportions and widths, the person's own clothes and
  hair, gait style, and the coats and bags they bring.
- `WalkParams` (per subject and condition): one walk down the corridor. In CASIA-B the 11
  cameras film the same walk, so everything about the walker (speed, posture, coat, bag) is
  shared by the views of one condition.
- `CameraParams` (per subject, condition and view): where the camera is, when the clip starts,
  how many frames it holds, and how well the segmentation worked.

Each level draws from its own generator seeded by (seed, subject[, condition[, view]]), so any
single sequence is reproducible without rendering the others. Lengths are in metres or as
fractions of body height `H`; angles in degrees. Spreads follow anthropometric tables (e.g.
segment lengths as fractions of stature after Drillis & Contini) and keep several people alike.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from gaitdata.casia_b import condition_kind
from gaitdata.json_values import json_ready
from gaitdata.walkers.covariates import (
    BAG_KINDS,
    COAT_KINDS,
    BagStyle,
    CoatStyle,
    jitter_coat,
    sample_bag,
    sample_coat,
)
from gaitdata.walkers.outfit import Outfit, sample_outfit
from gaitdata.walkers.segmentation import SegmentationArtefacts
from gaitdata.walkers.shape_correction import calibrated_shape_correction
from gaitdata.walkers.style import CALIBRATED, CalibratedLook, check_style

FPS = 25.0

# CASIA-B's half gait cycle is 12-13 frames at 25 fps (115-125 steps/min); the CMU trials walk
# at 98-133 (mean 107). The mean cadence sits between, nearer the silhouettes it must mimic.
MEAN_CADENCE = 117.0


def _seed_key(*parts: object) -> list[int]:
    """Stable integer key for `numpy.random.default_rng` from strings and numbers (no `hash()`)."""
    return [zlib.crc32(str(p).encode()) for p in parts]


def _as_rng(rng_or_seed) -> np.random.Generator:
    return rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else np.random.default_rng(rng_or_seed)


@dataclass(frozen=True)
class WalkerIdentity:
    """One person: body, clothes, gait style. Lengths as fractions of `height` unless said."""

    subject: str
    sex: str  # "f" or "m": shifts the means of the proportions below
    height: float  # m
    leg_length: float  # hip joint height / H
    thigh_ratio: float  # thigh / (thigh + shank)
    ankle_height: float
    foot_length: float
    torso_length: float  # hip joint to shoulder joint / H
    neck_length: float
    head_height: float
    head_width: float
    head_depth: float
    shoulder_width: float  # between the shoulder joints
    hip_width: float  # between the hip joints
    pelvis_width: float  # outer hip breadth
    waist_width: float
    chest_width: float
    chest_depth: float
    belly: float  # waist depth factor
    upper_arm: float
    forearm: float
    hand: float
    build: float  # widths and limb girths factor (weight)
    limb_thickness: float
    trouser_looseness: float  # added leg radius / H
    hair: str  # "short", "long", "bun"
    # gait style
    cadence: float  # steps per minute
    stride_scale: float  # thigh swing factor (stride length)
    knee_scale: float  # knee flexion factor
    knee_offset: float  # deg
    hip_offset: float  # deg, forward bias of the thigh
    ankle_scale: float
    arm_swing: float  # factor on the mocap arm swing
    arm_abduction: float  # deg, arm carriage away from the body
    elbow_offset: float  # deg
    lean: float  # deg forward
    head_pitch: float  # deg down
    sway: float  # lateral pelvis sway / H
    bounce: float  # vertical bounce factor
    pelvis_rotation: float  # deg
    asym_hip: float  # left/right thigh swing asymmetry (fraction)
    asym_phase: float  # right leg's phase offset from half a cycle (cycles)
    asym_arm: float  # left/right arm swing asymmetry (fraction)
    toe_out: float  # deg
    knee_in: float  # deg, thigh adduction (knock-knees > 0)
    stance_width: float  # deg, shank abduction
    coats: tuple[CoatStyle, CoatStyle]  # worn in cl-01 and cl-02
    bags: tuple[BagStyle, BagStyle]  # carried in bg-01 and bg-02
    outfit: Outfit | None = None  # everyday clothes and hair; None in the default style

    @property
    def style(self) -> str:
        """The walker style this identity was drawn in (`style.WALKER_STYLES`)."""
        return "default" if self.outfit is None else "calibrated"

    def to_dict(self) -> dict:
        """JSON-serialisable copy (floats rounded to 5 decimals); a default identity has no "outfit"."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["coats"] = [c.to_dict() for c in self.coats]
        out["bags"] = [b.to_dict() for b in self.bags]
        if self.outfit is None:
            del out["outfit"]  # the default style's ground truth stays as it always was
        else:
            out["outfit"] = self.outfit.to_dict()
        return json_ready(out, decimals=5)


def sample_identity(rng_or_seed, subject_id: str) -> WalkerIdentity:
    """Draw a person.

    Args:
        rng_or_seed: a `numpy.random.Generator`, or a seed (int or sequence of ints). For the
            dataset's reproducible identities use `identity_for(seed, subject_id)`.
        subject_id: the subject's name, stored on the identity.
    """
    rng = _as_rng(rng_or_seed)
    n = rng.normal
    female = rng.random() < 0.3  # CASIA-B: 93 men, 31 women
    build = float(np.exp(n(0.0, 0.08)) * (0.95 if female else 1.0))
    hair = str(rng.choice(("short", "long", "bun"), p=(0.3, 0.5, 0.2) if female else (0.92, 0.06, 0.02)))
    coat_kinds = rng.choice(COAT_KINDS, size=2, replace=False)
    first_bag = sample_bag(rng)
    second_bag = (
        first_bag
        if rng.random() < 0.6
        else sample_bag(rng, str(rng.choice([k for k in BAG_KINDS if k != first_bag.kind])))
    )
    return WalkerIdentity(
        subject=str(subject_id),
        sex="f" if female else "m",
        height=float(np.clip(n(1.62, 0.065) if female else n(1.73, 0.07), 1.45, 1.98)),
        leg_length=float(n(0.530, 0.013)),
        thigh_ratio=float(n(0.50, 0.014)),
        ankle_height=float(n(0.039, 0.003)),
        foot_length=float(n(0.152, 0.006)),
        torso_length=float(n(0.288, 0.010)),
        neck_length=float(n(0.052, 0.005)),
        head_height=float(n(0.130, 0.005)),
        head_width=float(n(0.090, 0.004)),
        head_depth=float(n(0.115, 0.005)),
        shoulder_width=float(n(0.205 if female else 0.222, 0.010)),
        hip_width=float(n(0.105 if female else 0.098, 0.006)),
        pelvis_width=float(n(0.210 if female else 0.192, 0.010)),
        waist_width=float(n(0.150 if female else 0.165, 0.010)),
        chest_width=float(n(0.175 if female else 0.190, 0.010)),
        chest_depth=float(n(0.140 if female else 0.148, 0.009)),
        belly=float(np.clip(n(1.0, 0.08), 0.8, 1.35)),
        upper_arm=float(n(0.186, 0.006)),
        forearm=float(n(0.146, 0.005)),
        hand=float(n(0.108, 0.004)),
        build=build,
        limb_thickness=float(n(1.03, 0.06)),
        trouser_looseness=float(abs(n(0.0, 0.008))),
        hair=hair,
        cadence=float(n(MEAN_CADENCE, 6.0)),
        stride_scale=float(np.clip(n(1.0, 0.09), 0.75, 1.3)),
        knee_scale=float(np.clip(n(1.0, 0.09), 0.75, 1.3)),
        knee_offset=float(n(-4.0, 3.0)),  # the CMU knees bend ~5 deg more in stance than clinical norms
        hip_offset=float(n(0.0, 2.5)),
        ankle_scale=float(np.clip(n(1.0, 0.12), 0.6, 1.4)),
        arm_swing=float(np.clip(np.exp(n(0.0, 0.3)), 0.35, 2.0)),
        arm_abduction=float(np.clip(n(8.0, 2.5), 2.0, 15.0)),
        elbow_offset=float(n(-5.0, 7.0)),
        lean=float(n(3.0, 2.5)),
        head_pitch=float(n(4.0, 4.0)),
        sway=float(np.clip(n(0.012, 0.004), 0.002, 0.025)),
        bounce=float(np.clip(n(1.0, 0.15), 0.6, 1.4)),
        pelvis_rotation=float(np.clip(n(5.0, 1.5), 1.0, 10.0)),
        asym_hip=float(n(0.0, 0.04)),
        asym_phase=float(n(0.0, 0.012)),
        asym_arm=float(n(0.0, 0.12)),
        toe_out=float(n(7.0, 4.0)),
        knee_in=float(n(1.0, 1.2)),
        stance_width=float(n(1.0, 1.0)),
        coats=(sample_coat(rng, str(coat_kinds[0])), sample_coat(rng, str(coat_kinds[1]))),
        bags=(first_bag, second_bag),
    )


def calibrate_identity(identity: WalkerIdentity, rng_or_seed, look: CalibratedLook = CALIBRATED) -> WalkerIdentity:
    """The calibrated style's version of a default identity: same person, re-fitted body and clothes.

    Proportions, gait and coats stay; arm carriage and swing, shoulders, sway, lean, trousers and
    the bags' size, side and drop are redrawn from `look`, and the person gets everyday clothes
    and hair (`outfit.Outfit`).
    """
    rng = _as_rng(rng_or_seed)
    n = rng.normal
    bag_scale = rng.uniform(*look.bag_scale)
    calibrated = dict(
        arm_abduction=float(np.clip(n(*look.arm_abduction), -2.0, 12.0)),
        shoulder_width=float(identity.shoulder_width * n(*look.shoulder_scale)),
        sway=float(np.clip(identity.sway * n(*look.sway_scale), 0.002, 0.05)),
        lean=float(n(*look.lean)),
        chest_depth=float(identity.chest_depth * n(*look.chest_depth_scale)),
        pelvis_width=float(identity.pelvis_width * n(*look.pelvis_scale)),
        elbow_offset=float(identity.elbow_offset + n(*look.elbow_flex)),
        outfit=sample_outfit(rng, identity.sex == "f", look),
    )
    # Drawn after the first fit's draws, so the numbers above keep their streams.
    bags = tuple(
        replace(
            b,
            size=tuple(float(x * bag_scale) for x in b.size),
            side=1 if rng.random() < look.bag_left_share else -1,
            drop=float(b.drop + rng.uniform(*(look.backpack_drop if b.kind == "backpack" else look.bag_drop))),
        )
        for b in identity.bags
    )
    arm_swing = float(np.clip(identity.arm_swing * n(*look.arm_swing_scale), 0.2, 2.5))
    return replace(identity, bags=bags, arm_swing=arm_swing, **calibrated)


def identity_for(seed: int, subject_id: str, style: str = "default") -> WalkerIdentity:
    """The dataset's identity of `subject_id` under `seed` and `style` (independent of every other subject)."""
    identity = sample_identity(np.random.default_rng(_seed_key("identity", seed, subject_id)), subject_id)
    if check_style(style) == "calibrated":  # its own stream: the default draws above never change
        key = _seed_key("identity-calibrated", seed, subject_id)
        identity = calibrate_identity(identity, np.random.default_rng(key))
    return identity


@dataclass(frozen=True)
class WalkParams:
    """One walk of one identity (shared by every camera that films it)."""

    condition: str
    cadence: float  # steps per minute
    stride_scale: float
    knee_scale: float
    knee_offset: float
    hip_offset: float
    arm_swing: float
    lean: float
    head_pitch: float
    coat: CoatStyle | None
    bag: BagStyle | None
    carry_side: int  # +1 left, -1 right, 0 none: the arm that carries swings less
    carry_damp: float
    carry_kind: str

    def to_dict(self) -> dict:
        out = asdict(self)
        out["coat"] = None if self.coat is None else self.coat.to_dict()
        out["bag"] = None if self.bag is None else self.bag.to_dict()
        return json_ready(out, decimals=5)


def sample_walk(identity: WalkerIdentity, condition: str, rng_or_seed) -> WalkParams:
    """Draw one walk of `identity` under `condition` (``nm-NN``, ``bg-NN`` or ``cl-NN``).

    Natural variation from walk to walk: cadence ±2.5 %, stride ±3 %, arm swing ±10 %, posture
    ±1-2 deg. A bag slows and shortens the walk a little and damps the carrying arm; a coat
    shortens the stride and damps both arms a little.
    """
    rng = _as_rng(rng_or_seed)
    kind = condition_kind(condition)
    number = int(condition.split("-")[1])
    speed = rng.normal(1.0, 0.02)
    cadence = identity.cadence * speed * rng.normal(1.0, 0.015)
    stride = identity.stride_scale * speed * rng.normal(1.0, 0.03)
    arm = identity.arm_swing * rng.normal(1.0, 0.10)
    lean = identity.lean + rng.normal(0.0, 1.0)
    coat = bag = None
    carry_side, carry_damp, carry_kind = 0, 1.0, ""
    if kind == "cl":
        coat = jitter_coat(identity.coats[(number - 1) % 2], rng)
        stride *= 0.97
        arm *= 0.85
    elif kind == "bg":
        bag = identity.bags[(number - 1) % 2]
        cadence *= 0.98
        stride *= 0.98
        carry_kind = bag.kind
        if bag.kind == "backpack":
            lean += rng.uniform(1.0, 4.0)  # the load pulls the trunk forward
        else:
            carry_side, carry_damp = bag.side, float(rng.uniform(0.15, 0.5))
    return WalkParams(
        condition=condition,
        cadence=float(cadence),
        stride_scale=float(stride),
        knee_scale=float(identity.knee_scale * rng.normal(1.0, 0.03)),
        knee_offset=float(identity.knee_offset + rng.normal(0.0, 1.0)),
        hip_offset=float(identity.hip_offset + rng.normal(0.0, 1.0)),
        arm_swing=float(arm),
        lean=float(lean),
        head_pitch=float(identity.head_pitch + rng.normal(0.0, 2.0)),
        coat=coat,
        bag=bag,
        carry_side=int(carry_side),
        carry_damp=float(carry_damp),
        carry_kind=carry_kind,
    )


def walk_for(seed: int, identity: WalkerIdentity, condition: str) -> WalkParams:
    """The dataset's walk of `identity` under `condition` and `seed`."""
    return sample_walk(identity, condition, np.random.default_rng(_seed_key("walk", seed, identity.subject, condition)))


@dataclass(frozen=True)
class CameraParams:
    """One camera's take of a walk: geometry, clip timing, segmentation quality."""

    view_deg: float  # azimuth: 0 = walking towards the camera, 90 = side view, 180 = away
    view_sweep_deg: float  # the azimuth drifts by this much over the clip (the walker crosses the view)
    elevation_deg: float  # camera above the walker, looking down
    distance_m: float  # perspective strength
    person_px: float  # raw silhouette height in pixels before pretreatment
    phase0: float  # gait phase of the first frame (cycles)
    num_frames: int
    fps: float
    edge_noise: float  # boundary bites and bumps per frame
    hole_rate: float  # chance per frame of a segmentation hole in the body
    shadow: float  # 0 = none; else relative size of the shadow blob at the feet
    noise_seed: int
    roll_deg: float | None = None  # camera tilt about its axis; None in the default style
    # True: at 90 deg the camera films the walker's left side, who crosses the image right to left,
    # as in CASIA-B (measured: the mirror image scores far from its side views). None in the default style.
    from_left: bool | None = None
    segmentation: SegmentationArtefacts | None = None  # real-segmentation artefacts; None in the default style
    # digest of the mean-shape correction fields the pretreated frames are warped by (`shape_correction`);
    # None: no warp (the default style)
    shape_correction: str | None = None

    @property
    def style(self) -> str:
        return "default" if self.segmentation is None else "calibrated"

    def to_dict(self) -> dict:
        out = asdict(self)
        for key in ("roll_deg", "from_left", "segmentation", "shape_correction"):  # the default style's stays as it was
            if out[key] is None:
                del out[key]
        return json_ready(out, decimals=5)


def sample_camera(view_deg: float, rng_or_seed, frames: tuple[int, int] = (30, 60)) -> CameraParams:
    """Draw one camera's take at azimuth `view_deg` with a clip length in `frames` (inclusive)."""
    rng = _as_rng(rng_or_seed)
    return CameraParams(
        view_deg=float(view_deg),
        view_sweep_deg=float(rng.uniform(-8.0, 8.0)),
        elevation_deg=float(rng.uniform(2.0, 9.0)),
        distance_m=float(rng.uniform(4.5, 8.0)),
        person_px=float(rng.uniform(100.0, 140.0)),
        phase0=float(rng.random()),
        num_frames=int(rng.integers(frames[0], frames[1] + 1)),
        fps=FPS,
        edge_noise=float(rng.uniform(1.0, 4.0)),
        hole_rate=float(rng.uniform(0.0, 0.12)),
        shadow=float(rng.uniform(0.3, 1.0)) if rng.random() < 0.3 else 0.0,
        noise_seed=int(rng.integers(0, 2**31 - 1)),
    )


def calibrate_camera(
    camera: CameraParams, rng_or_seed, look: CalibratedLook = CALIBRATED, shape_correction: bool = True
) -> CameraParams:
    """The calibrated style's version of a default camera: re-fitted height, tilt, size and segmentation.

    `shape_correction=False` leaves out the final mean-shape warp (what its fit starts from).
    """
    rng = _as_rng(rng_or_seed)
    u = rng.uniform
    person_px = float(u(*look.person_px))
    per_100px = person_px / 100.0  # artefact sizes scale with the person's size in the raw frame
    coarse = person_px / u(*look.coarse_px) if rng.random() < look.coarse_share else 1.0
    shadow = float(u(*look.shadow_size)) if rng.random() < look.shadow_share else 0.0
    camera = replace(
        camera,
        elevation_deg=float(u(*look.elevation)),
        person_px=person_px,
        shadow=shadow,
        roll_deg=float(rng.normal(0.0, look.roll_sd)),
        from_left=True,
    )
    segmentation = SegmentationArtefacts(
        closing_px=float(u(*look.closing_px) * per_100px),
        blur_px=float(u(*look.blur_px) * per_100px),
        threshold=float(u(*look.threshold)),
        coarse=float(max(1.0, coarse)),
    )
    # drawn after all of the above, so that adding them left every earlier draw as it was
    if rng.random() < look.misalign_share:
        segmentation = replace(
            segmentation, misalign_px=float(u(*look.misalign_px)), misalign_scale=float(u(*look.misalign_scale))
        )
    return replace(
        camera,
        segmentation=segmentation,
        shape_correction=calibrated_shape_correction().digest if shape_correction else None,
    )


def camera_for(
    seed: int,
    subject_id: str,
    condition: str,
    view: str,
    frames: tuple[int, int] = (30, 60),
    style: str = "default",
) -> CameraParams:
    """The dataset's camera for one sequence, from (seed, subject, condition, view, style) alone."""
    rng = np.random.default_rng(_seed_key("camera", seed, subject_id, condition, view))
    camera = sample_camera(float(view), rng, frames)
    if check_style(style) == "calibrated":
        key = _seed_key("camera-calibrated", seed, subject_id, condition, view)
        camera = calibrate_camera(camera, np.random.default_rng(key))
    return camera
