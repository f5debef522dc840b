"""Training-time augmentation of silhouette clips: the geometric kind GaitBase uses, and domain
augmentation — what a real segmentation pipeline does to silhouettes that a renderer does not.

A model trained only on rendered walkers learns the renderer's exact outline; real silhouettes come
out of background subtraction or a segmenter, then a crop and a resize, so their outlines are
thicker or thinner, wobble from frame to frame, are soft, drift out of line, lose frames and feet.
Each of those is one option below, off by default (a config without them draws exactly what it drew
before this module grew them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def _uniform(bounds: tuple[float, float], n: int, generator: torch.Generator) -> torch.Tensor:
    low, high = bounds
    return low + (high - low) * torch.rand(n, generator=generator)


def _chosen(prob: float, n: int, generator: torch.Generator) -> list[int]:
    return torch.nonzero(torch.rand(n, generator=generator) < prob).flatten().tolist()


def _dilate(frames: torch.Tensor, radius: int) -> torch.Tensor:
    """Grey-level dilation of `[..., h, w]` with a (2r+1)² square."""
    shape = frames.shape
    flat = frames.reshape(-1, 1, *shape[-2:])
    return F.max_pool2d(flat, 2 * radius + 1, stride=1, padding=radius).reshape(shape)


def _erode(frames: torch.Tensor, radius: int) -> torch.Tensor:
    return -_dilate(-frames, radius)


def _gaussian_blur(frames: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of `[s, h, w]`, zero outside the frame."""
    radius = max(1, math.ceil(2.5 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=frames.dtype)
    kernel = torch.exp(-0.5 * (x / sigma) ** 2)
    kernel = kernel / kernel.sum()
    flat = frames[:, None]
    flat = F.conv2d(flat, kernel.view(1, 1, 1, -1), padding=(0, radius))
    flat = F.conv2d(flat, kernel.view(1, 1, -1, 1), padding=(radius, 0))
    return flat[:, 0]


def _warp(frames: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """`frames [b, c, h, w]` resampled through affine `theta [b, 2, 3]` (output → input coordinates)."""
    grid = F.affine_grid(theta, list(frames.shape), align_corners=False)
    return F.grid_sample(frames, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@dataclass
class ClipAugment:
    """Augment a batch of clips `float [n, s, h, w]` in [0, 1].

    Geometric (after GaitBase; one transform for every frame of a clip):
        rotate_prob, rotate_degrees: chance of rotating a clip, uniformly within ±degrees.
        erase_prob, erase_area: chance of zeroing one rectangle of a clip (partial occlusion), its
            area a fraction drawn uniformly from `erase_area`.
        flip_prob: chance of mirroring a clip left-right.

    Domain (each a chance per clip, then drawn per clip or per frame as said):
        scale_prob, scale_range, aspect_range: the body drawn larger or smaller (about the frame
            centre) and wider or narrower (width only), as another crop and resize would.
        morph_prob, morph_px: the whole clip eroded or dilated by 1..morph_px pixels — a
            segmenter that cuts tighter or looser than the renderer.
        edge_noise_prob, edge_noise_share: the outline wobbles, every frame anew: in blobs of about
            8 px, `share` of the outline grows by a pixel and as much shrinks.
        jitter_prob, jitter_px: each frame drifts out of line (sd in pixels across, half that down),
            as a per-frame crop of a noisy detection does.
        blur_prob, blur_sigma: soft edges, a Gaussian of sigma drawn from the range.
        drop_prob, drop_share: frames lost in capture, each replaced by the last kept one.
        feet_prob, feet_cut: the bottom rows (a share of the height) cleared — feet lost to shadow
            removal or the frame edge.
    """

    rotate_prob: float = 0.3
    rotate_degrees: float = 10.0
    erase_prob: float = 0.3
    erase_area: tuple[float, float] = (0.02, 0.15)
    flip_prob: float = 0.0
    scale_prob: float = 0.0
    scale_range: tuple[float, float] = (0.9, 1.1)
    aspect_range: tuple[float, float] = (0.85, 1.15)
    morph_prob: float = 0.0
    morph_px: int = 1
    edge_noise_prob: float = 0.0
    edge_noise_share: float = 0.25
    jitter_prob: float = 0.0
    jitter_px: float = 1.0
    blur_prob: float = 0.0
    blur_sigma: tuple[float, float] = (0.4, 1.0)
    drop_prob: float = 0.0
    drop_share: tuple[float, float] = (0.05, 0.25)
    feet_prob: float = 0.0
    feet_cut: tuple[float, float] = (0.02, 0.1)

    @classmethod
    def from_config(cls, transform: dict) -> ClipAugment:
        """From a config's `transform` section (JSON lists become the tuples the fields are)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in transform.items()})

    def __post_init__(self):
        for name, value in vars(self).items():
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value if isinstance(value, tuple) else (value,))):
                raise ValueError(f"transform.{name} must be a number (or a pair of numbers), got {value!r}")
            if name.endswith("_prob") and not 0.0 <= value <= 1.0:
                raise ValueError(f"transform.{name} must be a probability in [0, 1], got {value}")
        if self.morph_px < 1:
            raise ValueError(f"transform.morph_px must be at least 1, got {self.morph_px}")

    def __call__(self, clips: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """`float [n, s, h, w]` in [0, 1] → the same, augmented."""
        clips = self._geometric(clips, generator)
        if any(getattr(self, f"{k}_prob") > 0 for k in ("scale", "morph", "edge_noise", "jitter", "blur", "drop", "feet")):
            clips = self._domain(clips, generator)
        return clips

    def _geometric(self, clips: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, s, h, w = clips.shape
        if self.rotate_prob > 0:
            angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(self.rotate_degrees)
            angle = torch.where(torch.rand(n, generator=generator) < self.rotate_prob, angle, torch.zeros(n))
            cos, sin = angle.cos(), angle.sin()
            # rotation in pixels, written in affine_grid's [-1, 1] coordinates of a non-square frame
            zero = torch.zeros(n)
            row0 = torch.stack([cos, -sin * h / w, zero], 1)
            row1 = torch.stack([sin * w / h, cos, zero], 1)
            clips = _warp(clips, torch.stack([row0, row1], 1))
        if self.erase_prob > 0:
            erase = torch.rand(n, generator=generator) < self.erase_prob
            for i in torch.nonzero(erase).flatten().tolist():
                area = float(torch.empty(1).uniform_(*self.erase_area, generator=generator)) * h * w
                aspect = math.exp(float(torch.empty(1).uniform_(math.log(0.3), math.log(3.3), generator=generator)))
                eh = min(h, max(1, round(math.sqrt(area * aspect))))
                ew = min(w, max(1, round(math.sqrt(area / aspect))))
                top = int(torch.randint(h - eh + 1, (1,), generator=generator))
                left = int(torch.randint(w - ew + 1, (1,), generator=generator))
                clips[i, :, top : top + eh, left : left + ew] = 0
        if self.flip_prob > 0:
            flip = torch.rand(n, generator=generator) < self.flip_prob
            clips[flip] = clips[flip].flip(-1)
        return clips

    def _domain(self, clips: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, s, h, w = clips.shape
        clips = clips.clone()
        for i in _chosen(self.scale_prob, n, generator):
            scale = float(_uniform(self.scale_range, 1, generator))
            aspect = float(_uniform(self.aspect_range, 1, generator))
            theta = torch.tensor([[1 / (scale * aspect), 0.0, 0.0], [0.0, 1 / scale, 0.0]])
            clips[i] = _warp(clips[i][None], theta[None])[0]
        for i in _chosen(self.morph_prob, n, generator):
            radius = int(torch.randint(1, self.morph_px + 1, (1,), generator=generator))
            grow = bool(torch.rand(1, generator=generator) < 0.5)
            clips[i] = _dilate(clips[i], radius) if grow else _erode(clips[i], radius)
        for i in _chosen(self.edge_noise_prob, n, generator):
            blobs = torch.rand(s, 1, max(1, h // 8), max(1, w // 8), generator=generator)
            blobs = F.interpolate(blobs, size=(h, w), mode="bilinear", align_corners=False)[:, 0]
            # bilinear blobs gather near 0.5: rank them so `share` means a share of the frame
            rank = blobs.flatten(1).argsort(1).argsort(1).float().div_(h * w - 1).view(s, h, w)
            clip = clips[i]
            clip = torch.where(rank > 1 - self.edge_noise_share, _dilate(clip, 1), clip)
            clips[i] = torch.where(rank < self.edge_noise_share, _erode(clip, 1), clip)
        for i in _chosen(self.jitter_prob, n, generator):
            shift = torch.randn(s, 2, generator=generator) * self.jitter_px
            theta = torch.zeros(s, 2, 3)
            theta[:, 0, 0] = theta[:, 1, 1] = 1.0
            theta[:, 0, 2] = -2 * shift[:, 0] / w
            theta[:, 1, 2] = -shift[:, 1] / h  # half the sideways sd, in [-1, 1] units of the height
            clips[i] = _warp(clips[i][:, None], theta)[:, 0]
        for i in _chosen(self.blur_prob, n, generator):
            clips[i] = _gaussian_blur(clips[i], float(_uniform(self.blur_sigma, 1, generator)))
        for i in _chosen(self.drop_prob, n, generator):
            dropped = torch.rand(s, generator=generator) < float(_uniform(self.drop_share, 1, generator))
            dropped[0] = False
            source = torch.arange(s)
            for t in range(1, s):  # a lost frame shows the last one that arrived
                if dropped[t]:
                    source[t] = source[t - 1]
            clips[i] = clips[i][source]
        for i in _chosen(self.feet_prob, n, generator):
            rows = max(1, round(float(_uniform(self.feet_cut, 1, generator)) * h))
            clips[i, :, h - rows :] = 0
        return clips.clamp_(0.0, 1.0)
