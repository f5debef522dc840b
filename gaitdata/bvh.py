"""Biovision Hierarchy (BVH) motion capture: reading, forward kinematics, gait measurements.

A BVH file has two parts: a HIERARCHY (joints, each with an OFFSET from its parent and the
CHANNELS it animates) and a MOTION block (one line of channel values per frame, plus the frame
time). This module reads any such file (any rotation order per joint, End Sites kept as
channel-less leaf joints), computes world joint positions for every frame, and measures what
gait analysis needs: sagittal hip and knee flexion curves per leg, heel strikes, gait cycles and
cadence. The measurement functions take plain joint-position arrays, so the procedural walkers
(`gaitdata.walkers`) are measured with exactly the same code as the real motion capture.

Conventions: angles in degrees; positions in the file's units (CMU: roughly centimetres);
the vertical axis is +Y, as in the CMU files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gaitdata.errors import GaitDataError

_AXES = {"X": 0, "Y": 1, "Z": 2}


@dataclass(frozen=True)
class BvhJoint:
    """One joint of the hierarchy.

    Attributes:
        name: joint name (End Sites are named ``<parent>_end``).
        parent: index of the parent joint in `BvhMotion.joints`, -1 for the root.
        offset: `float64 [3]`, position relative to the parent in the parent's frame.
        channels: channel names in file order, e.g. ``("Zrotation", "Xrotation", "Yrotation")``.
        channel_start: column of the first channel in `BvhMotion.values`.
    """

    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    channel_start: int


@dataclass
class BvhMotion:
    """A parsed BVH file.

    Attributes:
        joints: joints in file order (parents always come before their children).
        values: `float64 [F, C]`, channel values per frame (degrees for rotations).
        frame_time: seconds per frame.
        source: the file it came from.
    """

    joints: list[BvhJoint]
    values: np.ndarray
    frame_time: float
    source: str = ""

    @property
    def num_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def joint_index(self, name: str) -> int:
        for i, joint in enumerate(self.joints):
            if joint.name == name:
                return i
        raise KeyError(f"{self.source}: no joint named {name!r}; joints are {[j.name for j in self.joints]}")


def read_bvh(path: str | os.PathLike) -> BvhMotion:
    """Parse a BVH file.

    Raises:
        GaitDataError: the file is missing or is not a well-formed BVH file.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError) as err:
        raise GaitDataError(path, f"cannot read as BVH text: {err}") from None
    try:
        return _parse_bvh(text, str(path))
    except (ValueError, IndexError, StopIteration) as err:
        raise GaitDataError(path, f"not a well-formed BVH file: {err}") from None


def _parse_bvh(text: str, source: str) -> BvhMotion:
    head, sep, motion = text.partition("MOTION")
    if not sep:
        raise ValueError("no MOTION section")
    tokens = iter(head.split())
    if next(tokens) != "HIERARCHY":
        raise ValueError("file does not start with HIERARCHY")
    declared: list[dict] = []  # joints in file order: name, parent, offset, channels
    stack: list[int] = []  # open joints; the top is the parent of the next one
    for token in tokens:
        if token in ("ROOT", "JOINT", "End"):
            name = next(tokens)
            parent = stack[-1] if stack else -1
            if token == "End":  # "End Site": a leaf with an offset and no channels
                name = f"{declared[parent]['name']}_end"
            elif (token == "ROOT") != (parent < 0):
                raise ValueError(f"{token} {name} at the wrong nesting level")
            declared.append({"name": name, "parent": parent, "offset": np.zeros(3), "channels": ()})
        elif token == "{":
            stack.append(len(declared) - 1)
        elif token == "}":
            stack.pop()
        elif token == "OFFSET":
            declared[stack[-1]]["offset"] = np.array([float(next(tokens)) for _ in range(3)])
        elif token == "CHANNELS":
            count = int(next(tokens))
            channels = tuple(next(tokens) for _ in range(count))
            for ch in channels:
                if ch[:1] not in _AXES or ch[1:] not in ("position", "rotation"):
                    raise ValueError(f"unknown channel {ch!r}")
            declared[stack[-1]]["channels"] = channels
        else:
            raise ValueError(f"unexpected token {token!r} in HIERARCHY")
    if stack or not declared:
        raise ValueError("unbalanced braces or empty HIERARCHY")
    joints, num_channels = [], 0
    for d in declared:
        joints.append(BvhJoint(d["name"], d["parent"], d["offset"], d["channels"], num_channels))
        num_channels += len(d["channels"])

    lines = iter(motion.strip().splitlines())
    num_frames = int(next(lines).split(":")[1])
    frame_time = float(next(lines).split(":")[1])
    rows = [line.split() for line in lines if line.strip()]
    if len(rows) != num_frames:
        raise ValueError(f"header says {num_frames} frames, found {len(rows)}")
    for i, row in enumerate(rows):
        if len(row) != num_channels:
            raise ValueError(f"hierarchy declares {num_channels} channels, frame {i} holds {len(row)}")
    values = np.array(rows, dtype=np.float64).reshape(num_frames, num_channels)
    if frame_time <= 0:
        raise ValueError(f"frame time must be positive, got {frame_time}")
    return BvhMotion(joints, values, frame_time, source)


def axis_rotation(axis: int, degrees: np.ndarray) -> np.ndarray:
    """Rotation matrices about one coordinate axis: `[...]` degrees → `float64 [..., 3, 3]`."""
    a = np.radians(np.asarray(degrees, dtype=np.float64))
    c, s = np.cos(a), np.sin(a)
    out = np.zeros(a.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]  # the plane the rotation turns
    out[..., axis, axis] = 1.0
    out[..., i, i] = c
    out[..., j, j] = c
    out[..., i, j] = -s
    out[..., j, i] = s
    return out


def forward_kinematics(motion: BvhMotion) -> np.ndarray:
    """World positions of every joint (End Sites included): `float64 [F, J, 3]`.

    BVH semantics: a joint's local rotation is the product of its rotation channels in file
    order (so ``Zrotation Xrotation Yrotation`` means ``Rz @ Rx @ Ry`` on column vectors);
    its position is the parent's position plus the parent's world rotation applied to its
    OFFSET (plus any position channels).
    """
    frames = motion.num_frames
    positions = np.zeros((frames, len(motion.joints), 3))
    rotations = np.zeros((frames, len(motion.joints), 3, 3))
    for j, joint in enumerate(motion.joints):
        local_r = np.broadcast_to(np.eye(3), (frames, 3, 3)).copy()
        local_t = np.broadcast_to(joint.offset, (frames, 3)).copy()
        for k, channel in enumerate(joint.channels):
            column = motion.values[:, joint.channel_start + k]
            axis = _AXES[channel[0]]
            if channel.endswith("rotation"):
                local_r = local_r @ axis_rotation(axis, column)
            else:
                local_t[:, axis] += column
        if joint.parent < 0:
            positions[:, j] = local_t
            rotations[:, j] = local_r
        else:
            parent_r = rotations[:, joint.parent]
            positions[:, j] = positions[:, joint.parent] + np.einsum("fab,fb->fa", parent_r, local_t)
            rotations[:, j] = parent_r @ local_r
    return positions


# ---------------------------------------------------------------------------------------------
# Gait measurements on joint positions (shared by real motion capture and procedural walkers)
# ---------------------------------------------------------------------------------------------

#: CMU joint names of the landmarks gait measurements need, per leg.
CMU_LEG_JOINTS = {
    "left": {"hip": "lThigh", "knee": "lShin", "ankle": "lFoot", "toe": "lFoot_end"},
    "right": {"hip": "rThigh", "knee": "rShin", "ankle": "rFoot", "toe": "rFoot_end"},
}
CMU_ROOT = "hip"


@dataclass
class LegTrajectories:
    """Joint positions of the landmarks gait measurements need.

    Attributes:
        root: `float64 [F, 3]`, pelvis centre.
        legs: per side (``"left"``, ``"right"``), `float64 [F, 4, 3]` positions of hip joint,
            knee, ankle and toe, in that order.
        fps: frames per second.
        up: `float64 [3]`, the vertical unit vector.
    """

    root: np.ndarray
    legs: dict[str, np.ndarray]
    fps: float
    up: np.ndarray


def leg_trajectories(
    motion: BvhMotion, leg_joints: dict = CMU_LEG_JOINTS, root: str = CMU_ROOT, skip_frames: int = 1
) -> LegTrajectories:
    """Pick the gait landmarks out of a BVH motion (CMU names by default).

    `skip_frames` drops leading frames (the CMU conversions start with one T-pose frame).
    """
    positions = forward_kinematics(motion)[skip_frames:]
    legs = {
        side: np.stack([positions[:, motion.joint_index(names[k])] for k in ("hip", "knee", "ankle", "toe")], axis=1)
        for side, names in leg_joints.items()
    }
    return LegTrajectories(positions[:, motion.joint_index(root)], legs, motion.fps, np.array([0.0, 1.0, 0.0]))


def walking_direction(root: np.ndarray, up: np.ndarray, fps: float, window_s: float = 1.0) -> np.ndarray:
    """Horizontal unit walking direction per frame, `float64 [F, 3]`, from the root's motion.

    The root's displacement over a window of `window_s` seconds centred on each frame, with its
    vertical part removed: robust to the sway and bounce within a step.
    """
    frames = root.shape[0]
    half = max(1, int(round(window_s * fps / 2)))
    idx = np.arange(frames)
    ahead, behind = np.minimum(idx + half, frames - 1), np.maximum(idx - half, 0)
    d = root[ahead] - root[behind]
    d = d - np.outer(d @ up, up)
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    if np.any(norm < 1e-9):
        raise ValueError("the root does not move horizontally: cannot tell the walking direction")
    return d / norm


def sagittal_leg_angles(legs: np.ndarray, forward: np.ndarray, up: np.ndarray) -> dict[str, np.ndarray]:
    """Hip, knee and ankle flexion of one leg, in degrees, per frame.

    Args:
        legs: `float [F, 4, 3]` hip joint, knee, ankle, toe positions.
        forward: `float [F, 3]` horizontal unit walking direction.
        up: `float [3]` vertical unit vector.

    Returns:
        ``hip``: the thigh's angle from the vertical in the sagittal plane, positive when the
        knee is ahead of the hip (hip flexion with pelvic tilt ignored);
        ``knee``: the angle between thigh and shank (0 = straight leg, positive = flexed);
        ``ankle``: the angle between shank and foot minus its value at a right angle (dorsiflexion
        positive). Each `float64 [F]`.
    """
    hip, knee, ankle, toe = (legs[:, k] for k in range(4))
    thigh, shank, foot = knee - hip, ankle - knee, toe - ankle
    hip_angle = np.degrees(np.arctan2(np.einsum("fa,fa->f", thigh, forward), -(thigh @ up)))

    def between(a, b):
        cos = np.einsum("fa,fa->f", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

    return {"hip": hip_angle, "knee": between(thigh, shank), "ankle": 90.0 - between(-shank, foot)}


def heel_strikes(legs: np.ndarray, root: np.ndarray, forward: np.ndarray, fps: float) -> np.ndarray:
    """Frame indices of heel strikes of one leg, `int64 [S]`.

    Kinematic detection (Zeni et al. 2008): a heel strike is where the ankle is furthest ahead
    of the pelvis along the walking direction.
    """
    from scipy.signal import find_peaks

    reach = np.einsum("fa,fa->f", legs[:, 2] - root, forward)
    spread = float(np.ptp(reach)) if reach.size else 0.0
    # Strides last 0.8-1.6 s; demand half a stride between peaks and a real swing of the leg.
    peaks, _ = find_peaks(reach, distance=max(1, int(0.5 * fps)), prominence=max(spread * 0.3, 1e-9))
    return peaks.astype(np.int64)


@dataclass
class GaitCycles:
    """Gait measurements of one recording.

    Attributes:
        curves: per side, per angle (``hip``, ``knee``, ``ankle``): `float64 [N, 101]`, each
            complete cycle (heel strike to next heel strike of the same leg) resampled to
            0, 1, ..., 100 % of the cycle.
        stride_s: duration of every complete cycle found, seconds, `float64 [N_all]`.
        fps: frames per second of the source.
    """

    curves: dict[str, dict[str, np.ndarray]]
    stride_s: np.ndarray
    fps: float

    @property
    def cadence(self) -> float:
        """Steps per minute (two steps per stride)."""
        return float(120.0 / np.mean(self.stride_s))

    def mean_curve(self, angle: str) -> np.ndarray:
        """`float64 [101]`, the cycle-normalised curve averaged over both legs and all cycles."""
        return np.concatenate([self.curves[side][angle] for side in self.curves]).mean(axis=0)


CYCLE_POINTS = 101


def gait_cycles(traj: LegTrajectories, min_stride_s: float = 0.7, max_stride_s: float = 1.8) -> GaitCycles:
    """Segment a walk into gait cycles per leg and resample the flexion curves on each.

    Raises:
        ValueError: no complete cycle (a walk needs at least two heel strikes of one leg).
    """
    forward = walking_direction(traj.root, traj.up, traj.fps)
    curves: dict[str, dict[str, list]] = {}
    strides = []
    grid = np.linspace(0.0, 1.0, CYCLE_POINTS)
    for side, legs in traj.legs.items():
        angles = sagittal_leg_angles(legs, forward, traj.up)
        strikes = heel_strikes(legs, traj.root, forward, traj.fps)
        side_curves = {name: [] for name in angles}
        for a, b in zip(strikes[:-1], strikes[1:], strict=True):
            duration = (b - a) / traj.fps
            if not (min_stride_s <= duration <= max_stride_s):
                continue
            strides.append(duration)
            t = np.linspace(0.0, 1.0, b - a + 1)
            for name, curve in angles.items():
                side_curves[name].append(np.interp(grid, t, curve[a : b + 1]))
        curves[side] = {name: np.array(v).reshape(-1, CYCLE_POINTS) for name, v in side_curves.items()}
    if not strides:
        raise ValueError("no complete gait cycle found (need two heel strikes of one leg)")
    return GaitCycles(curves, np.array(strides), traj.fps)


def cycle_figures(cycles: GaitCycles) -> dict[str, float]:
    """Summary figures of a walk: ranges of motion (deg), timing of peaks (% of cycle), cadence.

    Keys: ``hip_rom``, ``knee_rom``, ``ankle_rom``, ``hip_peak_extension_pct`` (minimum of
    the hip curve), ``knee_peak_swing_pct`` (maximum of knee flexion in the second half of the
    cycle), ``knee_peak_swing_deg``, ``knee_loading_peak_deg`` (first-half maximum),
    ``cadence_steps_per_min``.
    """
    hip, knee, ankle = (cycles.mean_curve(k) for k in ("hip", "knee", "ankle"))
    half = CYCLE_POINTS // 2
    return {
        "hip_rom": float(np.ptp(hip)),
        "knee_rom": float(np.ptp(knee)),
        "ankle_rom": float(np.ptp(ankle)),
        "hip_peak_extension_pct": float(np.argmin(hip)),
        "knee_peak_swing_pct": float(half + np.argmax(knee[half:])),
        "knee_peak_swing_deg": float(knee[half:].max()),
        "knee_loading_peak_deg": float(knee[: half - 15].max()),
        "cadence_steps_per_min": cycles.cadence,
    }
