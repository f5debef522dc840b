"""Training data for the generator: frames for the autoencoder, latent clips for the denoiser."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from gaitdata import GaitSequence
from gaitdata.sequence import crop_to_model_input
from generators.conditions import carrying_index, clothing_index, covariates_from_condition, parse_view


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

    Each item is a random `clip_frames`-long window of one sequence's latents, its covariates
    and motion signal, and a REFERENCE: another sequence of the same subject (another view or
    condition, when there is one) whose identity embedding and frame latents condition the
    window. So the denoiser learns to carry a person across views and clothes from one clip of
    them, rather than to copy the clip it is reconstructing.

    Args:
        latents: per sequence, `float32 [T_i, d]` frame latents (sequences shorter than
            `clip_frames` are looped).
        subjects: per sequence, its subject id.
        conditions: per sequence, its `ClipConditions`.
        identities: per sequence, `float32 [E]` normalised identity embedding OF THAT SEQUENCE
            (rows where `embedded` is False are unused).
        clip_frames: window length.
        motions: per sequence, `float32 [T_i, m]` motion signal aligned with its latents (None:
            the motion condition is absent).
        reference_frames: reference tokens per item (0: no reference latents, only the embedding).
        reference_stride: frames between reference tokens (a 30-frame window at stride 2 = 15 tokens).
        embedded: per sequence, whether it has an identity embedding and may serve as a
            reference (default: all).
    """

    def __init__(
        self,
        latents,
        subjects,
        conditions,
        identities,
        clip_frames: int = 30,
        motions=None,
        reference_frames: int = 0,
        reference_stride: int = 2,
        embedded=None,
    ):
        self.latents = latents
        self.subjects = subjects
        self.conditions = conditions
        self.identities = np.asarray(identities, dtype=np.float32)
        self.clip_frames = clip_frames
        self.motions = motions
        self.reference_frames = reference_frames
        self.reference_stride = reference_stride
        embedded = np.ones(len(latents), bool) if embedded is None else np.asarray(embedded, bool)
        references = defaultdict(list)
        for i, s in enumerate(subjects):
            if embedded[i]:
                references[s].append(i)
        missing = sorted(set(subjects) - set(references))
        if missing:
            raise ValueError(f"subjects without any embedded reference clip: {missing[:5]}")
        self.references = dict(references)

    def __len__(self) -> int:
        return len(self.latents)

    def _window(self, x: np.ndarray, length: int, start: int | None = None) -> tuple[np.ndarray, int]:
        t = len(x)
        if t < length:
            return np.concatenate([x] * (length // t + 1))[:length], 0
        if start is None:
            start = int(torch.randint(0, t - length + 1, ()))
        return x[start : start + length], start

    def __getitem__(self, i: int) -> dict:
        z, start = self._window(self.latents[i], self.clip_frames)
        pool = self.references[self.subjects[i]]
        ref = pool[int(torch.randint(0, len(pool), ()))]
        if ref == i and len(pool) > 1:
            ref = pool[(pool.index(i) + 1) % len(pool)]
        c = self.conditions[i]
        item = {
            "latents": torch.from_numpy(np.ascontiguousarray(z)),
            "identity": torch.from_numpy(self.identities[ref]),
            "view_deg": torch.tensor(c.view_deg, dtype=torch.float32),
            "clothing": torch.tensor(c.clothing),
            "carrying": torch.tensor(c.carrying),
            "speed": torch.tensor(c.speed, dtype=torch.float32),
            # identity known; view, clothing, carrying, speed as recorded; reference; motion
            "present": torch.tensor((True, *c.present, self.reference_frames > 0, self.motions is not None)),
        }
        if self.reference_frames:
            span = self.reference_frames * self.reference_stride
            r, _ = self._window(self.latents[ref], span)
            item["reference"] = torch.from_numpy(np.ascontiguousarray(r[:: self.reference_stride]))
        if self.motions is not None:
            m, _ = self._window(self.motions[i], self.clip_frames, start)
            item["motion"] = torch.from_numpy(np.ascontiguousarray(m, dtype=np.float32))
        return item
