"""From a posed body to pretreated silhouettes: camera, rasterization, segmentation noise.

1. Pose the body over the clip's frames and dress it (`body`, `covariates`).
2. Project every blob with a perspective camera at the view's azimuth and a slight elevation:
   each ellipsoid becomes a 2-D ellipse (its outline sampled at `OUTLINE_POINTS` angles), each
   part the convex hull of its two ellipses. All of this is numpy over frames at once.
3. Fill the hulls with `cv2.fillConvexPoly` (sub-pixel precision) on a canvas where the
   person is 100-140 px tall, as in CASIA-B's 320x240 frames; the only per-frame Python.
4. Spoil the masks as background subtraction does: bites and bumps on the boundary, occasional
   holes, a shadow at the feet (deterministic from the camera's noise seed).
   The calibrated style then cuts the masks as a real segmentation would (`segmentation`:
   closing, blur and threshold, coarse grids), and dresses the body first (`outfit`).
5. Pretreat exactly like real data (`gaitdata.pretreat.pretreat_silhouettes`): 64x64 soft
   frames, whose grey edges come from the downscale as they do in CASIA-B.
6. Calibrated style: some clips' frames no longer line up (`segmentation.misaligned_frames`);
   then warp the pretreated frames by the mean-shape correction of their type and
   view (`shape_correction`), fitted so the walkers' mean GEIs are real people's.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from gaitdata.casia_b import condition_kind
from gaitdata.pretreat import pretreat_silhouettes
from gaitdata.sequence import GaitSequence
from gaitdata.walkers.body import BlobSet, BodyPose, body_blobs, pose_walker
from gaitdata.walkers.covariates import add_bag, add_coat
from gaitdata.walkers.identity import CameraParams, WalkerIdentity, WalkParams, camera_for
from gaitdata.walkers.outfit import dress_outfit
from gaitdata.walkers.segmentation import misaligned_frames, spoil_segmentation
from gaitdata.walkers.shape_correction import SHAPE_FIELDS, calibrated_shape_correction

OUTLINE_POINTS = 12  # vertices per projected ellipse; at <= 40 px radius the error stays under 1.4 px
_SHIFT = 3  # cv2 fixed-point bits: vertices at 1/8 px
_CIRCLE = np.stack(
    [
        np.cos(np.linspace(0, 2 * np.pi, OUTLINE_POINTS, endpoint=False)),
        np.sin(np.linspace(0, 2 * np.pi, OUTLINE_POINTS, endpoint=False)),
    ]
)  # [2, K]
_MARGIN = 8  # px of empty canvas round the body, room for noise


def format_view(view_deg: float) -> str:
    """Dataset name of a view: ``90`` → ``"090"``, ``45.5`` → ``"045.5"``."""
    if abs(view_deg - round(view_deg)) < 1e-9:
        return f"{int(round(view_deg)):03d}"
    return f"{view_deg:05.1f}"


def pose_clip(identity: WalkerIdentity, walk: WalkParams, camera: CameraParams) -> BodyPose:
    """The walker's pose at each of the clip's `camera.num_frames` frames."""
    t = np.arange(camera.num_frames) / camera.fps
    phase = camera.phase0 + t * walk.cadence / 120.0  # two steps per cycle
    return pose_walker(identity, walk, phase)


def dressed_blobs(identity: WalkerIdentity, walk: WalkParams, pose: BodyPose) -> BlobSet:
    """Body volumes plus the identity's everyday clothes (calibrated style), the walk's coat and bag."""
    blobs = body_blobs(identity, pose)
    if identity.outfit is not None:
        dress_outfit(blobs, pose, identity.outfit, identity.height)
    if walk.coat is not None:
        add_coat(blobs, pose, walk.coat, identity.height)
    if walk.bag is not None:
        add_bag(blobs, pose, walk.bag)
    return blobs


def project_outlines(
    centres: np.ndarray, axes: np.ndarray, camera: CameraParams, height_m: float, target_height_m: float
) -> np.ndarray:
    """Outline points of every projected blob, `float64 [T, B, K, 2]` in pixels (x right, y down).

    Args:
        centres: `[T, B, 3]` blob centres (m); axes: `[T, B, 3, 3]` semi-axis columns (m).
        camera: azimuth, its drift over the clip, elevation, distance, person size in pixels.
        height_m: the walker's height, which maps to `camera.person_px` pixels.
        target_height_m: the height the camera aims at.
    """
    frames = centres.shape[0]
    drift = np.linspace(-0.5, 0.5, frames) * camera.view_sweep_deg if frames > 1 else np.zeros(1)
    az = np.radians(camera.view_deg + drift)  # [T]
    if camera.from_left:  # the calibrated style's convention: azimuth measured round the walker's left
        az = -az
    el = np.radians(camera.elevation_deg)
    # The camera sits at azimuth 0 in front of the walker, at 90 on its right (it then walks to the right;
    # `from_left`: on its left, as in CASIA-B).
    look = np.stack([np.sin(az) * np.cos(el), np.full(frames, -np.sin(el)), -np.cos(az) * np.cos(el)], axis=-1)
    right = np.stack([np.cos(az), np.zeros(frames), np.sin(az)], axis=-1)
    down = np.cross(look, right)
    eye = np.array([0.0, target_height_m, 0.0]) - camera.distance_m * look  # [T, 3]
    rel = centres - eye[:, None, :]  # [T, B, 3]
    x = np.einsum("tbc,tc->tb", rel, right)
    y = np.einsum("tbc,tc->tb", rel, down)
    z = np.einsum("tbc,tc->tb", rel, look)
    focal = camera.person_px * camera.distance_m / height_m
    scale = focal / z  # [T, B]
    centre_px = np.stack([x * scale, y * scale], axis=-1)  # [T, B, 2]
    # Weak perspective per blob: the ellipsoid's image is the ellipse of J A (J A)^T.
    jac = np.stack([right, down], axis=1)[:, None] * scale[..., None, None]  # [T, B, 2, 3]
    ja = jac @ axes  # [T, B, 2, 3]
    m = ja @ np.swapaxes(ja, -1, -2)  # [T, B, 2, 2]
    l00 = np.sqrt(np.maximum(m[..., 0, 0], 1e-12))
    l10 = m[..., 1, 0] / l00
    l11 = np.sqrt(np.maximum(m[..., 1, 1] - l10**2, 1e-12))
    px = centre_px[..., 0:1] + l00[..., None] * _CIRCLE[0]
    py = centre_px[..., 1:2] + l10[..., None] * _CIRCLE[0] + l11[..., None] * _CIRCLE[1]
    return np.stack([px, py], axis=-1)


def rasterize(outlines: np.ndarray, parts: np.ndarray, camera: CameraParams) -> np.ndarray:
    """Fill every part's hull in every frame and add segmentation noise.

    Args:
        outlines: `float64 [T, B, K, 2]` from `project_outlines`.
        parts: `int [P, 2]` blob pairs.
        camera: its noise settings and seed.

    Returns:
        Raw masks `uint8 [T, H, W]` (0 or 255), the canvas fitted round the whole clip.
    """
    frames = outlines.shape[0]
    lo = outlines.reshape(-1, 2).min(axis=0) - _MARGIN
    hi = outlines.reshape(-1, 2).max(axis=0) + _MARGIN
    width, height = (np.ceil(hi - lo).astype(int) + 1).tolist()
    hulls = np.concatenate([outlines[:, parts[:, 0]], outlines[:, parts[:, 1]]], axis=2)  # [T, P, 2K, 2]
    fixed = np.rint((hulls - lo) * (1 << _SHIFT)).astype(np.int32)
    masks = np.zeros((frames, height, width), np.uint8)
    noise = _SegmentationNoise(camera, hulls - lo, outlines.shape[1])
    for t in range(frames):
        img = masks[t]
        for poly in fixed[t]:
            cv2.fillConvexPoly(img, cv2.convexHull(poly), 255, cv2.LINE_8, _SHIFT)
        noise.apply(img, t)
    return masks


class _SegmentationNoise:
    """What background subtraction does to a clean mask, drawn up front from the noise seed.

    Bites and bumps: small discs of background or foreground centred on outline points of
    random parts (so on or near the boundary). Holes: with `hole_rate`, an elliptic gap inside
    a random part, or a thin band across the lower body. Shadow: a flat blob under the feet.
    """

    def __init__(self, camera: CameraParams, hulls: np.ndarray, num_blobs: int):
        rng = np.random.default_rng(camera.noise_seed)
        frames, parts, points, _ = hulls.shape
        counts = rng.poisson(camera.edge_noise, size=frames)
        total = int(counts.sum())
        self.edges = np.split(
            np.column_stack(
                [
                    rng.integers(0, parts, total),
                    rng.integers(0, points, total),
                    rng.uniform(1.0, 3.5, total),  # radius, px
                    rng.random(total) < 0.5,  # bite (1) or bump (0)
                    rng.normal(0.0, 0.7, (total, 2)),  # jitter of the disc's centre, px
                ]
            ),
            np.cumsum(counts)[:-1],
        )
        self.holes = rng.random(frames) < camera.hole_rate
        self.hole_params = rng.random((frames, 6))
        self.hulls = hulls
        self.shadow = camera.shadow
        self.person_px = camera.person_px

    def apply(self, img: np.ndarray, t: int) -> None:
        hull = self.hulls[t]
        for part, point, radius, bite, dx, dy in self.edges[t]:
            poly = hull[int(part)]
            x, y = poly[int(point)]
            out = poly[int(point)] - poly.mean(axis=0)
            out *= 0.5 * radius / max(float(np.hypot(*out)), 1e-6)
            cx, cy = int(x + out[0] + dx), int(y + out[1] + dy)
            # Only where the outline is the silhouette's edge: a bite inside the body would be a hole.
            if 0 <= cy < img.shape[0] and 0 <= cx < img.shape[1] and img[cy, cx] == 0:
                cv2.circle(img, (cx, cy), int(round(radius)), 0 if bite else 255, -1)
        if self.holes[t]:
            a, b, c, d, e, f = self.hole_params[t]
            if a < 0.3:  # a band across the legs where trousers match the floor
                y = int(img.shape[0] * (0.55 + 0.3 * b))
                img[y : y + 1 + int(2 * c)] = 0
            else:
                part = hull[int(b * hull.shape[0])]
                centre = part.mean(axis=0) + (c - 0.5) * (part.max(axis=0) - part.min(axis=0)) * 0.5
                axes = (int(2 + 5 * d), int(1 + 3 * e))
                cv2.ellipse(img, (int(centre[0]), int(centre[1])), axes, 180 * f, 0, 360, 0, -1)
        if self.shadow > 0:
            rows = np.flatnonzero(img.any(axis=1))
            if rows.size:
                bottom = rows[-1]
                cols = np.flatnonzero(img[max(bottom - 3, 0) : bottom + 1].any(axis=0))
                cx = int(cols.mean()) + int(0.06 * self.person_px * self.shadow)
                axes = (int(0.12 * self.person_px * self.shadow) + 2, max(1, int(0.012 * self.person_px)))
                cv2.ellipse(img, (cx, int(bottom)), axes, 0, 0, 360, 255, -1)


def render_walker_masks(identity: WalkerIdentity, walk: WalkParams, camera: CameraParams) -> np.ndarray:
    """Raw (not yet pretreated) silhouettes of one clip: `uint8 [T, H, W]`, 0 or 255."""
    pose = pose_clip(identity, walk, camera)
    centres, axes, parts = dressed_blobs(identity, walk, pose).stacked()
    outlines = project_outlines(centres, axes, camera, identity.height, identity.height * 0.55)
    if camera.roll_deg:  # a camera mounted slightly askew turns the whole image
        c, s = np.cos(np.radians(camera.roll_deg)), np.sin(np.radians(camera.roll_deg))
        outlines = outlines @ np.array([[c, s], [-s, c]])
    masks = rasterize(outlines, parts, camera)
    if camera.segmentation is not None:
        masks = spoil_segmentation(masks, camera.segmentation)
    return masks


def _corrected_shape(frames: np.ndarray, camera: CameraParams, condition: str) -> np.ndarray:
    """The calibrated style's last step: the mean-shape warp of the camera's view and the walk's type."""
    correction = calibrated_shape_correction()
    if correction.digest != camera.shape_correction:  # a camera drawn with other fields: its frames would differ
        raise ValueError(
            f"this camera was drawn with shape correction {camera.shape_correction}, but this install's "
            f"{SHAPE_FIELDS.name} is {correction.digest}: render it with the studio version that drew it"
        )
    return correction.apply(frames, camera.view_deg, condition_kind(condition))


def render_walker_sequence(
    identity: WalkerIdentity,
    walk: WalkParams,
    view_deg: float,
    num_frames: int | None = None,
    camera: CameraParams | None = None,
    seed: int = 0,
) -> GaitSequence:
    """Render one pretreated silhouette clip of `identity` doing `walk`, seen at `view_deg`.

    Args:
        identity: who walks (`sample_identity` / `identity_for`).
        walk: how they walk this time, with coat or bag (`sample_walk` / `walk_for`).
        view_deg: camera azimuth in degrees, any value (0 = towards the camera, 90 = side view,
            180 = away). Ignored when `camera` is given.
        num_frames: frames to render (None: the camera's draw, 30-60).
        camera: full camera and noise settings; None draws them from (seed, subject, condition, view)
            in the identity's style.
        seed: dataset seed used when `camera` is None.

    Returns:
        `GaitSequence` with `uint8 [T, 64, 64]` frames (OpenGait's stored size), 25 fps, view
        named like ``"090"`` or ``"045.5"``, and `extra["walker"]` holding the ground truth
        (identity, walk, camera) as JSON-ready dicts.
    """
    if camera is None:
        camera = camera_for(seed, identity.subject, walk.condition, format_view(view_deg), style=identity.style)
    if num_frames is not None:
        if int(num_frames) < 1:
            raise ValueError(f"num_frames must be at least 1, got {num_frames}")
        camera = replace(camera, num_frames=int(num_frames))
    masks = render_walker_masks(identity, walk, camera)
    frames, kept = pretreat_silhouettes(masks)
    if frames.shape[0] == 0:  # cannot happen with a whole body in view; say so if it does
        raise RuntimeError(f"walker {identity.subject} {walk.condition} at {view_deg} deg rendered no foreground")
    if camera.segmentation is not None:  # frames a glitchy segmentation no longer lines up
        frames = misaligned_frames(frames, camera.segmentation, camera.noise_seed + 1)
    if camera.shape_correction is not None:
        frames = _corrected_shape(frames, camera, walk.condition)
    view = format_view(camera.view_deg)
    extra = {
        "walker": {
            "identity": identity.to_dict(),
            "walk": walk.to_dict(),
            "camera": camera.to_dict(),
            "kept_frames": int(kept.size),
        }
    }
    return GaitSequence(
        frames,
        identity.subject,
        walk.condition,
        view,
        source=f"walker:{identity.subject}/{walk.condition}/{view}",
        fps=camera.fps,
        extra=extra,
    )
