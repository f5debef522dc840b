"""Turning sequences into identity embeddings: `EmbedMixin.embed`, shared by every recognizer."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from gaitdata import GaitSequence
from gaitdata.runtime import fast_bf16
from gaitdata.sequence import crop_to_model_input

DEFAULT_MAX_FRAMES = 300


def as_model_frames(item: GaitSequence | np.ndarray) -> np.ndarray:
    """A `GaitSequence`, or `uint8 [T, H, W]` frames, → `uint8 [T, 64, 44]` (cropped as models expect)."""
    if isinstance(item, GaitSequence):
        return crop_to_model_input(item.frames)
    frames = np.asarray(item)
    if frames.ndim == 2:
        frames = frames[None]
    if frames.dtype != np.uint8:
        frames = GaitSequence(frames).frames
    return crop_to_model_input(frames)


def cap_frames(frames: np.ndarray, max_frames: int | None) -> np.ndarray:
    """At most `max_frames` frames: a centred window of consecutive frames."""
    if max_frames is None or len(frames) <= max_frames:
        return frames
    start = (len(frames) - max_frames) // 2
    return frames[start : start + max_frames]


class EmbedMixin:
    """Adds `embed()` to a recognizer whose `forward(silhouettes, seq_lengths)` returns `.embeddings`."""

    @torch.no_grad()
    def embed(
        self,
        sequences: GaitSequence | np.ndarray | Sequence[GaitSequence | np.ndarray],
        max_frames: int | None = DEFAULT_MAX_FRAMES,
        batch_frames: int = 1024,
        bf16: bool = False,
        progress: bool = False,
    ) -> np.ndarray:
        """Identity embeddings of one or many sequences.

        Args:
            sequences: a `GaitSequence`, frames `uint8 [T, H, W]`, or a list of either. Frames of
                any size are cropped/resized to 64×44 (`GaitSequence.model_input`'s rule).
            max_frames: frames used per sequence at most (a centred window); None = all.
            batch_frames: frames pushed through the network per call (sequences of different
                lengths share a call; a longer sequence goes alone).
            bf16: run under bfloat16 autocast where it is native (a GPU, a CPU with AMX /
                AVX512-BF16: `gaitdata.runtime.fast_bf16`); elsewhere it would be several
                times slower, and float32 runs instead.
            progress: show a tqdm bar.

        Returns:
            `float32 [N, c, p]` (`[c, p]` for a single sequence).
        """
        single = isinstance(sequences, GaitSequence) or (isinstance(sequences, np.ndarray) and sequences.ndim <= 3)
        items = [sequences] if single else list(sequences)
        clips = [cap_frames(as_model_frames(item), max_frames) for item in items]
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        if device.type == "cpu":
            self.to(memory_format=torch.channels_last)  # oneDNN convs: ~2x faster on CPU, same numbers
        bf16 = bf16 and fast_bf16(device.type)
        autocast = torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        out = []
        bar = tqdm(total=len(clips), desc="embedding", unit="seq", disable=not progress, leave=False)
        start = 0
        while start < len(clips):
            stop, frames = start, 0
            while stop < len(clips) and (stop == start or frames + len(clips[stop]) <= batch_frames):
                frames += len(clips[stop])
                stop += 1
            batch = np.concatenate(clips[start:stop])[None]  # [1, sum(T), 64, 44]
            x = torch.from_numpy(batch).to(device).float().div_(255.0)
            with autocast:
                emb = self(x, seq_lengths=[len(c) for c in clips[start:stop]]).embeddings
            out.append(emb.float().cpu().numpy())
            bar.update(stop - start)
            start = stop
        bar.close()
        self.train(was_training)
        embeddings = np.concatenate(out) if out else np.zeros((0,), np.float32)
        return embeddings[0] if single else embeddings


def embed_dataset(
    model,
    root,
    subjects=None,
    max_frames: int | None = DEFAULT_MAX_FRAMES,
    bf16: bool = False,
    progress: bool | Callable[[int, int], None] = True,
    *,
    entries: list | None = None,
    batch_clips: int | None = None,
    on_batch: Callable | None = None,
    **filters,
) -> tuple[np.ndarray, dict[str, np.ndarray], object]:
    """Embed every readable sequence of an OpenGait-layout dataset (or of some subjects).

    Args:
        progress: True: tqdm bars; a callable: called as `progress(done, total)` (sequences) after
            each batch.
        entries: embed these sequence folders (`gaitdata.scan_opengait` entries, already
            picked) instead of scanning `root` with `subjects` and `filters`.
        batch_clips: read and embed this many sequences at a time, so that memory holds one
            batch of frames whatever the dataset's size; None: all at once.
        on_batch: called as `on_batch(store, embeddings)` after each batch that read any clip,
            with its `recognizers.data.ClipStore` (frames cropped and capped) and their embeddings,
            before the frames are let go (e.g. to measure the clips or embed them with other models).

    Returns:
        (`embeddings float32 [N, c, p]`, labels `{"subject", "condition", "view", "source"}` →
        string arrays `[N]`, the reader's `ReadReport` of skipped sequences).
    """
    from gaitdata import scan_opengait
    from recognizers.data import concat_clip_stores, load_clip_store

    if entries is None:
        entries = scan_opengait(root, subjects=subjects, **filters)
    bars = progress is True
    step = batch_clips or max(1, len(entries))
    chunks, stores = [], []
    for start in range(0, len(entries), step):
        store = load_clip_store(root, max_frames=max_frames, progress=bars, entries=entries[start : start + step])
        if len(store):
            chunks.append(model.embed(store.frames, max_frames=max_frames, bf16=bf16, progress=bars))
            if on_batch is not None:
                on_batch(store, chunks[-1])
        stores.append(dataclasses.replace(store, frames=[]))
        if callable(progress):
            progress(min(start + step, len(entries)), len(entries))
    store = concat_clip_stores(*stores)
    embeddings = np.concatenate(chunks) if chunks else np.zeros((0,), np.float32)
    return embeddings, {**store.labels, "source": np.asarray(store.sources)}, store.report


def save_embeddings(path, embeddings: np.ndarray, labels: dict[str, np.ndarray], **meta: str) -> None:
    """Write embeddings and their labels to an `.npz` (no pickled objects; `meta` as strings)."""
    from gaitdata.atomic import atomic_open

    arrays = {"embeddings": np.asarray(embeddings, np.float32)}
    arrays.update({k: np.asarray(v).astype(str) for k, v in labels.items()})
    arrays.update({f"meta_{k}": np.asarray(str(v)) for k, v in meta.items()})
    with atomic_open(path, "wb") as f:
        np.savez_compressed(f, **arrays)


def load_embeddings(path) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, str]]:
    """Read what `save_embeddings` wrote: (embeddings, labels, meta)."""
    with np.load(path, allow_pickle=False) as data:
        embeddings = data["embeddings"]
        labels = {k: data[k] for k in data.files if k != "embeddings" and not k.startswith("meta_")}
        meta = {k[5:]: str(data[k]) for k in data.files if k.startswith("meta_")}
    return embeddings, labels, meta
