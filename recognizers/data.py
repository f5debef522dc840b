"""Training data for the recognizers (after OpenGait's `data/`): a preloaded clip store, the
P×K sampler, clip sampling and collate (augmentation is `recognizers.augment`).

Sequences are read once through `gaitdata`'s safe OpenGait reader, cropped to 64×44 and kept
in RAM as `uint8` (the walker set is ~1.7 GB that way), so a training step never touches disk.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from gaitdata import ReadReport, SequenceEntry, iter_opengait, scan_opengait
from gaitdata.sequence import crop_to_model_input
from recognizers.augment import ClipAugment

logger = logging.getLogger(__name__)


@dataclass
class ClipStore:
    """Sequences held in memory, cropped to the model input, with their labels.

    Attributes:
        frames: one `uint8 [T, 64, 44]` array per sequence.
        subjects, conditions, views: labels, one per sequence.
        sources: where each sequence was read from.
        shapes: (height, width) of each sequence's stored frames, before the crop.
        report: what the reader skipped and why.
    """

    frames: list[np.ndarray] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    shapes: list[tuple[int, int]] = field(default_factory=list)
    report: ReadReport = field(default_factory=ReadReport)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def labels(self) -> dict[str, np.ndarray]:
        """`{"subject", "condition", "view"}` → string arrays `[N]` (the form evaluation takes)."""
        return {
            "subject": np.asarray(self.subjects),
            "condition": np.asarray(self.conditions),
            "view": np.asarray(self.views),
        }


def load_clip_store(
    root: str | os.PathLike,
    subjects: Iterable[str] | None = None,
    max_frames: int | None = None,
    progress: bool = True,
    entries: list[SequenceEntry] | None = None,
    **filters,
) -> ClipStore:
    """Read an OpenGait-layout dataset (or some of its subjects) into a `ClipStore`.

    Args:
        root: dataset root.
        subjects: keep only these subject ids (e.g. a partition's `TRAIN_SET`); None = all.
        max_frames: keep at most this many frames per sequence (a centred window), to bound
            memory on datasets with very long sequences; None keeps all.
        progress: show a tqdm bar.
        filters: `conditions=`, `views=` as in `gaitdata.scan_opengait`.
        entries: read these sequence folders (`gaitdata.scan_opengait` entries, already
            picked) instead of scanning `root` with `subjects` and `filters`.

    Unreadable sequences are skipped and listed in `store.report`, never fatal.
    """
    store = ClipStore()
    if entries is None:
        entries = scan_opengait(root, subjects=subjects, **filters)
    sequences = iter_opengait(root, report=store.report, entries=entries)
    for seq in tqdm(sequences, total=len(entries), desc="reading", unit="seq", disable=not progress, leave=False):
        frames = seq.frames
        if max_frames is not None and len(frames) > max_frames:
            start = (len(frames) - max_frames) // 2
            frames = frames[start : start + max_frames]
        store.frames.append(crop_to_model_input(frames))
        store.subjects.append(seq.subject)
        store.conditions.append(seq.condition)
        store.views.append(seq.view)
        store.sources.append(seq.source)
        store.shapes.append(seq.frames.shape[1:])
    if store.report.skipped:
        logger.warning("%s: %s", root, store.report.summary())
    return store


def concat_clip_stores(*stores: ClipStore) -> ClipStore:
    """One store holding the sequences of several (e.g. real clips plus generated ones), in order."""
    out = ClipStore()
    for store in stores:
        out.frames.extend(store.frames)
        out.subjects.extend(store.subjects)
        out.conditions.extend(store.conditions)
        out.views.extend(store.views)
        out.sources.extend(store.sources)
        out.shapes.extend(store.shapes)
        out.report.loaded += store.report.loaded
        out.report.skipped.extend(store.report.skipped)
        out.report.single_frame.extend(store.report.single_frame)
    return out


def sample_clip(frames: np.ndarray, num_frames: int, sample_type: str, rng: np.random.Generator) -> np.ndarray:
    """Draw a training clip of exactly `num_frames` frames from `uint8 [T, h, w]`.

    `sample_type`:
        "contiguous": a random window of consecutive frames; a sequence shorter than the clip
            is looped (a 1-frame sequence becomes a still clip).
        "unordered": frames drawn at random without replacement (with, if too short), in order.
    """
    t = len(frames)
    if sample_type == "contiguous":
        if t < num_frames:
            index = (int(rng.integers(t)) + np.arange(num_frames)) % t
        else:
            index = int(rng.integers(t - num_frames + 1)) + np.arange(num_frames)
    elif sample_type == "unordered":
        index = np.sort(rng.choice(t, size=num_frames, replace=t < num_frames))
    else:
        raise ValueError(f"sample_type must be 'contiguous' or 'unordered', got {sample_type!r}")
    return frames[index]


class TripletSampler:
    """P×K batches for ever: `p` identities drawn at random, `k` sequences of each.

    Identities with fewer than `k` sequences are drawn with replacement. Yields lists of indices
    into the store. Each process of a multi-process run should get its own `seed`.
    """

    def __init__(self, subjects: list[str], p: int, k: int, seed: int = 0):
        by_subject: dict[str, list[int]] = {}
        for index, subject in enumerate(subjects):
            by_subject.setdefault(subject, []).append(index)
        if len(by_subject) < 2:
            raise ValueError(f"P×K sampling needs at least 2 identities, the training set has {len(by_subject)}")
        self.groups = [np.asarray(v) for _, v in sorted(by_subject.items())]
        self.p = min(p, len(self.groups))
        self.k = k
        self.rng = np.random.default_rng(seed)

    def __iter__(self) -> Iterator[list[int]]:
        while True:
            batch = []
            for g in self.rng.choice(len(self.groups), size=self.p, replace=False):
                group = self.groups[g]
                batch.extend(self.rng.choice(group, size=self.k, replace=len(group) < self.k).tolist())
            yield batch


class ClipBatches:
    """Training batches from a `ClipStore`: P×K indices → sampled clips → augmented float tensors.

    Iterating yields `(clips float32 [p*k, frames, 64, 44] in [0, 1], labels int64 [p*k])`, labels
    being indices into `self.classes` (the sorted subject ids).

    Args:
        store: the training sequences.
        p, k: identities per batch and sequences per identity.
        frames: frames per training clip (30 in GaitBase).
        sample_type: see `sample_clip`.
        augment: a `ClipAugment`, or None for none.
        seed: seeds the sampler, the clip draws and the augmentation.
    """

    def __init__(
        self,
        store: ClipStore,
        p: int,
        k: int,
        frames: int = 30,
        sample_type: str = "contiguous",
        augment: ClipAugment | None = None,
        seed: int = 0,
    ):
        self.store = store
        self.classes = sorted(set(store.subjects))
        index = {s: i for i, s in enumerate(self.classes)}
        self.labels = np.asarray([index[s] for s in store.subjects], dtype=np.int64)
        self.sampler = TripletSampler(store.subjects, p, k, seed)
        self.frames = frames
        self.sample_type = sample_type
        self.augment = augment
        self.rng = np.random.default_rng(seed + 1)
        self.generator = torch.Generator().manual_seed(seed + 2)

    def collate(self, indices: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        clips = np.stack([sample_clip(self.store.frames[i], self.frames, self.sample_type, self.rng) for i in indices])
        clips = torch.from_numpy(clips).float().div_(255.0)  # [n, s, 64, 44]
        if self.augment is not None:
            clips = self.augment(clips, self.generator)
        return clips, torch.from_numpy(self.labels[indices])

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for indices in self.sampler:
            yield self.collate(indices)

    def state_dict(self) -> dict:
        """Random states, so a resumed run draws what an uninterrupted one would have."""
        return {
            "sampler": self.sampler.rng.bit_generator.state,
            "clips": self.rng.bit_generator.state,
            "augment": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.sampler.rng.bit_generator.state = state["sampler"]
        self.rng.bit_generator.state = state["clips"]
        self.generator.set_state(state["augment"])
