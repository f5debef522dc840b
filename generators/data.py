"""Training data for the generator: frames for the autoencoder, latent clips for the denoiser."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from generators.conditions import carrying_index, clothing_index, covariates_from_condition, parse_view
from studio.data import GaitSequence
from studio.data.sequence import crop_to_model_input


def stack_model_frames(sequences: list[GaitSequence], max_frames_per_sequence: int | None = None) -> np.ndarray:
    """Every frame of every sequence as `uint8 [N, 64, 44]` (the autoencoder's training set)."""
    parts = []
    for seq in sequences:
        frames = crop_to_model_input(seq.frames)
        if max_frames_per_sequence is not None:
            frames = frames[:max_frames_per_sequence]
        parts.append(frames)
    return np.concatenate(parts)


class FrameDataset(Dataset):
    """`uint8 [N, 64, 44]` frames → `float32 [1, 64, 44]` in [0, 1], randomly mirrored.

    Mirroring is safe for the autoencoder (it learns shapes, not identities or directions).
    """

    def __init__(self, frames: np.ndarray, flip: bool = True):
        self.frames = frames
        self.flip = flip

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, i: int) -> torch.Tensor:
        x = torch.from_numpy(self.frames[i]).float().div_(255.0)[None]
        if self.flip and torch.rand(()) < 0.5:
            x = x.flip(-1)
        return x


@dataclass
class ClipConditions:
    """Per-sequence condition values; `present` says which of them are known."""

    view_deg: float
    clothing: int
    carrying: int
    speed: float
    present: tuple[bool, bool, bool, bool]  # view, clothing, carrying, speed

    @classmethod
    def from_sequence(cls, seq: GaitSequence) -> ClipConditions:
        try:
            view, view_known = parse_view(seq.view), True
        except ValueError:
            view, view_known = 0.0, False
        try:
            cov = covariates_from_condition(seq.condition)
            clothing, carrying, cov_known = clothing_index(cov.clothing), carrying_index(cov.carrying), True
        except ValueError:
            clothing, carrying, cov_known = 0, 0, False
        speed = seq.extra.get("speed")
        return cls(
            view_deg=view,
            clothing=clothing,
            carrying=carrying,
            speed=float(speed) if speed is not None else 1.0,
            present=(view_known, cov_known, cov_known, speed is not None),
        )


class LatentClipDataset(Dataset):
    """Windows of frame latents with their conditions, for training the denoiser.

    Each item is a random `clip_frames`-long window of one sequence's latents, its covariates,
    and the identity embedding of ANOTHER sequence of the same subject (when there is one), so
    the denoiser learns to carry an identity across views and conditions rather than to copy
    the clip it is reconstructing.

    Args:
        latents: per sequence, `float32 [T_i, d]` frame latents (sequences shorter than
            `clip_frames` are looped).
        subjects: per sequence, its subject id.
        conditions: per sequence, its `ClipConditions`.
        identities: per sequence, `float32 [E]` normalised identity embedding.
        clip_frames: window length.
    """

    def __init__(self, latents, subjects, conditions, identities, clip_frames: int = 30):
        self.latents = latents
        self.subjects = subjects
        self.conditions = conditions
        self.identities = np.asarray(identities, dtype=np.float32)
        self.clip_frames = clip_frames
        by_subject = defaultdict(list)
        for i, s in enumerate(subjects):
            by_subject[s].append(i)
        self.by_subject = dict(by_subject)

    def __len__(self) -> int:
        return len(self.latents)

    def __getitem__(self, i: int) -> dict:
        z = self.latents[i]
        t = len(z)
        if t < self.clip_frames:
            z = np.concatenate([z] * (self.clip_frames // t + 1))[: self.clip_frames]
        else:
            start = int(torch.randint(0, t - self.clip_frames + 1, ()))
            z = z[start : start + self.clip_frames]
        same = self.by_subject[self.subjects[i]]
        ref = same[int(torch.randint(0, len(same), ()))] if len(same) > 1 else i
        if ref == i and len(same) > 1:
            ref = same[(same.index(i) + 1) % len(same)]
        c = self.conditions[i]
        return {
            "latents": torch.from_numpy(np.ascontiguousarray(z)),
            "identity": torch.from_numpy(self.identities[ref]),
            "view_deg": torch.tensor(c.view_deg, dtype=torch.float32),
            "clothing": torch.tensor(c.clothing),
            "carrying": torch.tensor(c.carrying),
            "speed": torch.tensor(c.speed, dtype=torch.float32),
            # identity known; then view, clothing, carrying, speed as recorded
            "present": torch.tensor((True, *c.present)),
        }
