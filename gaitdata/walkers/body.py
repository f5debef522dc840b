"""The articulated body: forward kinematics of a walker and the volumes that make its outline.

Coordinates (metres): +Y up, +Z the walking direction, +X the walker's left. The pelvis stays
above the origin's ground point (the camera follows the walker, as pretreatment removes the
translation anyway); its height comes from ground contact, so the vertical bounce is what the
leg angles imply.

A body is a `BlobSet`: ellipsoids (spheres included), each given per frame by a centre
`[T, 3]` and semi-axis vectors `[T, 3, 3]` (columns), and *parts*, each the convex hull of two
blobs: a tapered capsule between two spheres, a torso segment between two ellipsoids. Every
array is vectorised over frames: there is no per-frame Python here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gaitdata.walkers.gait_cycle import arm_angles, leg_angles

if TYPE_CHECKING:
    from gaitdata.walkers.identity import WalkerIdentity, WalkParams

SIDES = (("l", 1.0), ("r", -1.0))  # (prefix, sign of +X)


class BlobSet:
    """Ellipsoids over `T` frames and the parts (pairs of blobs) whose hulls make the body."""

    def __init__(self, frames: int):
        self.frames = frames
        self.names: list[str] = []
        self.centres: list[np.ndarray] = []  # each float64 [T, 3]
        self.axes: list[np.ndarray] = []  # each float64 [T, 3, 3], columns are semi-axes
        self.parts: list[tuple[int, int]] = []

    def add(self, name: str, centre: np.ndarray, axes: np.ndarray) -> None:
        if name in self.names:
            raise ValueError(f"blob {name!r} already exists")
        self.names.append(name)
        self.centres.append(np.broadcast_to(centre, (self.frames, 3)).astype(np.float64))
        self.axes.append(np.broadcast_to(axes, (self.frames, 3, 3)).astype(np.float64))

    def add_sphere(self, name: str, centre: np.ndarray, radius: float | np.ndarray) -> None:
        radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (self.frames,))
        self.add(name, centre, radius[:, None, None] * np.eye(3))

    def add_ellipsoid(self, name: str, centre: np.ndarray, rotation: np.ndarray, half: tuple[float, float, float]):
        """An ellipsoid with half-lengths `half` along the columns of `rotation` (`[T, 3, 3]` or `[3, 3]`)."""
        self.add(name, centre, rotation * np.asarray(half, dtype=np.float64))

    def connect(self, a: str, b: str) -> None:
        self.parts.append((self.names.index(a), self.names.index(b)))

    def get(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        i = self.names.index(name)
        return self.centres[i], self.axes[i]

    def half_width(self, name: str) -> float:
        """Length of the blob's first (lateral) semi-axis, in the first frame."""
        return float(np.linalg.norm(self.get(name)[1][0, :, 0]))

    def half_depth(self, name: str) -> float:
        """Length of the blob's third (front-back) semi-axis, in the first frame."""
        return float(np.linalg.norm(self.get(name)[1][0, :, 2]))

    def inflate(self, names: tuple[str, ...], extra: float) -> None:
        """Lengthen every semi-axis of the named blobs by `extra` metres (clothing on top)."""
        for name in names:
            i = self.names.index(name)
            lengths = np.linalg.norm(self.axes[i], axis=1, keepdims=True)
            self.axes[i] = self.axes[i] * (1.0 + extra / np.maximum(lengths, 1e-9))

    def widen(self, name: str, extra: float) -> None:
        """Lengthen only the blob's first (lateral) semi-axis by `extra` metres."""
        i = self.names.index(name)
        length = np.linalg.norm(self.axes[i][:, :, 0], axis=1, keepdims=True)
        self.axes[i] = self.axes[i].copy()
        self.axes[i][:, :, 0] *= 1.0 + extra / np.maximum(length, 1e-9)

    def shift(self, names: tuple[str, ...], offset: np.ndarray) -> None:
        """Move the named blobs' centres by `offset` metres (`[3]` or `[T, 3]`); axes stay."""
        for name in names:
            i = self.names.index(name)
            self.centres[i] = self.centres[i] + np.broadcast_to(offset, (self.frames, 3))

    def scale(self, names: tuple[str, ...], factor: float) -> None:
        """Scale every semi-axis of the named blobs by `factor` (centres stay)."""
        for name in names:
            i = self.names.index(name)
            self.axes[i] = self.axes[i] * factor

    def stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(centres `[T, B, 3]`, axes `[T, B, 3, 3]`, parts `int [P, 2]`)."""
        return np.stack(self.centres, axis=1), np.stack(self.axes, axis=1), np.array(self.parts, dtype=np.int64)


@dataclass
class BodyPose:
    """Joint positions of a walker over time.

    Attributes:
        joints: name → `float64 [T, 3]` (``pelvis``, ``{l,r}_hip``, ``_knee``, ``_ankle``,
            ``_heel``, ``_toe``, ``_shoulder``, ``_elbow``, ``_wrist``, ``_hand``, ``neck``,
            ``head``).
        torso_rotation: `float64 [T, 3, 3]`, the trunk's frame (columns: left, up, forward).
        head_rotation: `float64 [T, 3, 3]`.
        foot_frames: per side, (forward, up) unit vectors of the foot, each `float64 [T, 3]`.
    """

    joints: dict[str, np.ndarray]
    torso_rotation: np.ndarray
    head_rotation: np.ndarray
    foot_frames: dict[str, tuple[np.ndarray, np.ndarray]]

    @property
    def frames(self) -> int:
        return int(self.torso_rotation.shape[0])

    def leg_landmarks(self, side: str) -> np.ndarray:
        """`float64 [T, 4, 3]` hip, knee, ankle, toe: the layout `gaitdata.bvh` measures."""
        return np.stack([self.joints[f"{side}_{k}"] for k in ("hip", "knee", "ankle", "toe")], axis=1)


def rotation_x(angle: np.ndarray) -> np.ndarray:
    """`[T]` radians → `[T, 3, 3]`; positive turns +Y towards +Z (a forward pitch)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(np.shape(angle) + (3, 3))
    out[..., 0, 0] = 1
    out[..., 1, 1], out[..., 1, 2], out[..., 2, 1], out[..., 2, 2] = c, -s, s, c
    return out


def rotation_y(angle: np.ndarray) -> np.ndarray:
    """`[T]` radians → `[T, 3, 3]`; positive turns +Z towards +X (a yaw to the left)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(np.shape(angle) + (3, 3))
    out[..., 1, 1] = 1
    out[..., 0, 0], out[..., 0, 2], out[..., 2, 0], out[..., 2, 2] = c, s, -s, c
    return out


def rotation_z(angle: np.ndarray) -> np.ndarray:
    """`[T]` radians → `[T, 3, 3]`; positive turns +X towards +Y (a roll)."""
    c, s = np.cos(angle), np.sin(angle)
    out = np.zeros(np.shape(angle) + (3, 3))
    out[..., 2, 2] = 1
    out[..., 0, 0], out[..., 0, 1], out[..., 1, 0], out[..., 1, 1] = c, -s, s, c
    return out


def _sagittal(angle_deg: np.ndarray, lateral_deg: float | np.ndarray) -> np.ndarray:
    """Unit vectors `[T, 3]` pointing down, swung forward by `angle_deg` and sideways by `lateral_deg`."""
    a, b = np.radians(angle_deg), np.radians(lateral_deg)
    v = np.stack(np.broadcast_arrays(np.tan(b), -np.cos(a), np.sin(a)), axis=-1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def pose_walker(identity: WalkerIdentity, walk: WalkParams, phase: np.ndarray) -> BodyPose:
    """Forward kinematics of a walker at the left leg's gait phases `phase` (`float64 [T]`, cycles).

    Phase 0 is the left heel strike; the right leg runs half a cycle later (plus the identity's
    asymmetry). Returns joint positions in metres with the feet on the ground (y = 0).
    """
    h = identity.height
    frames = phase.shape[0]
    phases = {"l": phase, "r": phase + 0.5 + identity.asym_phase}
    two_pi = 2.0 * np.pi
    joints: dict[str, np.ndarray] = {}
    foot_frames = {}

    # Pelvis: yaw swings the hip of the leg that swings forward; sway moves over the stance leg.
    pelvis_yaw = -np.radians(identity.pelvis_rotation) * np.cos(two_pi * phase)
    pelvis_rot = rotation_y(pelvis_yaw)
    pelvis = np.zeros((frames, 3))
    pelvis[:, 0] = identity.sway * h * np.sin(two_pi * phase)

    thigh = identity.leg_length * h * identity.thigh_ratio
    shank = identity.leg_length * h * (1.0 - identity.thigh_ratio) - identity.ankle_height * h
    foot = identity.foot_length * h
    ankle_h = identity.ankle_height * h
    for side, sign in SIDES:
        asym = 1.0 + sign * identity.asym_hip
        ang = leg_angles(
            phases[side],
            hip_scale=walk.stride_scale * asym,
            hip_offset=walk.hip_offset,
            knee_scale=walk.knee_scale,
            knee_offset=walk.knee_offset,
            ankle_scale=identity.ankle_scale,
        )
        hip = pelvis + np.einsum("tab,b->ta", pelvis_rot, [sign * identity.hip_width * h / 2, 0.0, 0.0])
        knee = hip + thigh * _sagittal(ang["hip"], -sign * identity.knee_in)
        ankle = knee + shank * _sagittal(ang["hip"] - ang["knee"], sign * (identity.knee_in - identity.stance_width))
        pitch = np.radians(ang["hip"] - ang["knee"] + ang["ankle"])  # the foot turns with the shank
        yaw = np.radians(sign * identity.toe_out)
        fwd = np.stack([np.sin(yaw) * np.cos(pitch), np.sin(pitch), np.cos(yaw) * np.cos(pitch)], axis=-1)
        up = np.stack([-np.sin(yaw) * np.sin(pitch), np.cos(pitch), -np.cos(yaw) * np.sin(pitch)], axis=-1)
        joints[f"{side}_hip"], joints[f"{side}_knee"], joints[f"{side}_ankle"] = hip, knee, ankle
        joints[f"{side}_heel"] = ankle - up * ankle_h - fwd * (0.2 * foot)
        joints[f"{side}_toe"] = ankle - up * ankle_h + fwd * (0.8 * foot)
        foot_frames[side] = (fwd, up)

    # Ground contact: the lowest heel or toe touches y = 0; the identity's bounce scales it.
    lowest = np.min([joints[f"{s}_{p}"][:, 1] for s, _ in SIDES for p in ("heel", "toe")], axis=0)
    lift = -lowest
    lift = lift.mean() + identity.bounce * (lift - lift.mean())
    for name in list(joints):
        joints[name] = joints[name] + lift[:, None] * np.array([0.0, 1.0, 0.0])
    pelvis[:, 1] += lift
    joints["pelvis"] = pelvis

    # Trunk: counter-rotates against the pelvis, leans forward, bobs twice per cycle.
    lean = np.radians(walk.lean + 1.0 * np.cos(2 * two_pi * phase))
    roll = np.radians(-0.4 * identity.sway * 100 * np.sin(two_pi * phase))  # leans over the stance leg
    torso_rot = rotation_y(-0.6 * pelvis_yaw) @ rotation_z(roll) @ rotation_x(lean)
    torso_len = identity.torso_length * h
    for side, sign in SIDES:
        shoulder = pelvis + np.einsum("tab,b->ta", torso_rot, [sign * identity.shoulder_width * h / 2, torso_len, 0.0])
        carry = walk.carry_damp if walk.carry_side == sign else 1.0
        arm = arm_angles(
            phases[side],
            swing_scale=walk.arm_swing * carry * (1.0 + sign * identity.asym_arm),
            elbow_offset=identity.elbow_offset + (15.0 if carry < 1 and walk.carry_kind == "shoulder_bag" else 0.0),
        )
        if carry < 1 and walk.carry_kind == "handbag":
            arm["elbow"] = arm["elbow"] * 0.3  # a hand that carries hangs straight
        elbow = shoulder + identity.upper_arm * h * _sagittal(arm["shoulder"], sign * identity.arm_abduction)
        forearm_dir = _sagittal(arm["shoulder"] + arm["elbow"], sign * identity.arm_abduction * 0.6)
        wrist = elbow + identity.forearm * h * forearm_dir
        joints[f"{side}_shoulder"], joints[f"{side}_elbow"], joints[f"{side}_wrist"] = shoulder, elbow, wrist
        joints[f"{side}_hand"] = wrist + 0.75 * identity.hand * h * forearm_dir

    head_rot = torso_rot @ rotation_x(np.full(frames, np.radians(walk.head_pitch)))
    joints["neck"] = pelvis + np.einsum("tab,b->ta", torso_rot, [0.0, torso_len + identity.neck_length * h, 0.0])
    joints["head"] = joints["neck"] + np.einsum("tab,b->ta", head_rot, [0.0, identity.head_height * h * 0.5, 0.01 * h])
    return BodyPose(joints, torso_rot, head_rot, foot_frames)


def body_blobs(identity: WalkerIdentity, pose: BodyPose) -> BlobSet:
    """The naked body's volumes (plus the identity's own trousers and hair) over the frames of `pose`."""
    h = identity.height
    b = identity.build  # weight: widens the trunk and the limbs
    limb = identity.limb_thickness * b
    j = pose.joints
    blobs = BlobSet(pose.frames)
    rot = pose.torso_rotation
    tl = identity.torso_length * h

    def trunk(name, height, half, forward=0.0):
        centre = j["pelvis"] + np.einsum("tab,b->ta", rot, [0.0, height, forward])
        blobs.add_ellipsoid(name, centre, rot, half)

    trunk("pelvis", 0.03 * h, (identity.pelvis_width * h / 2 * b, 0.065 * h, 0.075 * h * b), -0.014 * h)
    trunk("waist", 0.13 * h, (identity.waist_width * h / 2 * b, 0.05 * h, 0.063 * h * b * identity.belly))
    trunk("chest", 0.215 * h, (identity.chest_width * h / 2 * b, 0.06 * h, identity.chest_depth * h / 2 * b), 0.005 * h)
    shoulder_half = (identity.shoulder_width / 2 + 0.025) * h
    trunk("shoulders", tl - 0.012 * h, (shoulder_half * (0.9 + 0.1 * b), 0.042 * h, 0.055 * h * b), -0.01 * h)
    blobs.connect("pelvis", "waist")
    blobs.connect("waist", "chest")
    blobs.connect("chest", "shoulders")

    blobs.add_sphere("neck_base", j["pelvis"] + np.einsum("tab,b->ta", rot, [0.0, tl, -0.005 * h]), 0.034 * h * b)
    blobs.add_sphere("neck_top", j["neck"], 0.029 * h * b)
    blobs.connect("neck_base", "neck_top")
    head_half = (identity.head_width * h / 2, identity.head_height * h / 2, identity.head_depth * h / 2)
    blobs.add_ellipsoid("head", j["head"], pose.head_rotation, head_half)
    hair_off, hair_scale = {
        "short": ((0, 0.005, -0.003), 1.04),
        "long": ((0, -0.035, -0.02), 1.08),
        "bun": ((0, 0.01, -0.05), 0.75),
    }[identity.hair]
    hair_centre = j["head"] + np.einsum("tab,b->ta", pose.head_rotation, np.array(hair_off) * h)
    blobs.add_ellipsoid("head_back", hair_centre, pose.head_rotation, tuple(x * hair_scale for x in head_half))
    blobs.connect("head", "head_back")

    loose = identity.trouser_looseness * h
    for side, _ in SIDES:
        blobs.add_sphere(f"{side}_shoulder", j[f"{side}_shoulder"], 0.036 * h * limb)
        blobs.add_sphere(f"{side}_elbow", j[f"{side}_elbow"], 0.025 * h * limb)
        blobs.add_sphere(f"{side}_wrist", j[f"{side}_wrist"], 0.018 * h * limb)
        blobs.add_sphere(f"{side}_hand", j[f"{side}_hand"], 0.021 * h * limb)
        blobs.connect(f"{side}_shoulder", f"{side}_elbow")
        blobs.connect(f"{side}_elbow", f"{side}_wrist")
        blobs.connect(f"{side}_wrist", f"{side}_hand")

        blobs.add_sphere(f"{side}_thigh", j[f"{side}_hip"] + np.array([0.0, 0.01 * h, 0.0]), 0.062 * h * limb + loose)
        blobs.add_sphere(f"{side}_knee", j[f"{side}_knee"], 0.034 * h * limb + loose)
        blobs.add_sphere(f"{side}_ankle", j[f"{side}_ankle"], 0.022 * h * limb + loose * 0.8)
        blobs.connect(f"{side}_thigh", f"{side}_knee")
        blobs.connect(f"{side}_knee", f"{side}_ankle")
        fwd, up = pose.foot_frames[side]
        heel_r = 0.024 * h
        toe_r = 0.014 * h
        blobs.add_sphere(f"{side}_heel", j[f"{side}_heel"] + up * heel_r + fwd * heel_r * 0.6, heel_r)
        toe_axes = np.stack([np.full((pose.frames, 3), 0.0)] * 3, axis=2)
        toe_axes[:, 0, 0] = 0.03 * h  # lateral half-width of the forefoot
        toe_axes[:, :, 1] = up * toe_r
        toe_axes[:, :, 2] = fwd * toe_r * 1.6
        blobs.add(f"{side}_toe", j[f"{side}_toe"] + up * toe_r - fwd * toe_r * 1.2, toe_axes)
        blobs.connect(f"{side}_heel", f"{side}_toe")
    return blobs
