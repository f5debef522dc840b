"""Embed the sequences of an OpenGait-layout dataset (or one split of it) with a recognizer.

`embed_dataset_to_npz` writes the `.npz` of `recognizers.embedding.save_embeddings`:
`embeddings float32 [N, c, p]`, the string labels `subject`, `condition`, `view`, `source`
(`[N]` each) and, as meta, the weights folder and the dataset root. `evaluate_recognizer_job
(embeddings=...)` and `studio eval-recognizer --embeddings` read it back.
"""

from __future__ import annotations

import os

from gaitdata import Partition, read_partition
from recognizers import load_recognizer, resolve_weights
from recognizers.embedding import DEFAULT_MAX_FRAMES, embed_dataset, save_embeddings

SPLITS = ("train", "test")


def split_subjects(partition: str | os.PathLike | Partition | None, split: str = "test") -> list[str] | None:
    """The subject ids of one split of a partition (a JSON path or a `Partition`).

    Returns:
        Its TRAIN_SET (`split="train"`) or TEST_SET (`split="test"`); None (every subject) when
        `partition` is None.

    Raises:
        ValueError: `split` is neither "train" nor "test".
        GaitDataError: the partition file is missing or malformed (the message names it).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if partition is None:
        return None
    partition = partition if isinstance(partition, Partition) else read_partition(partition)
    return partition.train if split == "train" else partition.test


def embed_dataset_to_npz(
    weights: str | os.PathLike,
    data: str | os.PathLike,
    out: str | os.PathLike,
    partition: str | os.PathLike | Partition | None = None,
    split: str = "test",
    max_frames: int | None = DEFAULT_MAX_FRAMES,
    bf16: bool = False,
    progress: bool = True,
) -> dict:
    """Embed every readable sequence of a dataset (or one split of it) and write the `.npz` (atomically).

    Args:
        weights: a recognizer's weights folder or bundled name (e.g. "gaitset-walkers", the judge).
        data: dataset root in the OpenGait layout.
        out: the `.npz` to write.
        partition: partition JSON path or `Partition`; None embeds every subject.
        split: "train" (its TRAIN_SET) or "test" (its TEST_SET); ignored without a partition.
        max_frames: frames per sequence at most (a centred window); None keeps all.
        bf16: bfloat16 autocast (faster on CPUs with AMX).
        progress: tqdm bars.

    Returns:
        `{"out", "weights" (the resolved folder), "data", "sequences", "shape" ([N, c, p]),
        "read" (`ReadReport.to_dict()`: loaded, skipped with why, single-frame ones; unreadable
        sequences are skipped, never fatal), "read_summary" (one line)}`, JSON-ready.

    Raises:
        FileNotFoundError: no weights by that name or in that folder.
        ValueError, GaitDataError: as `split_subjects`.
    """
    subjects = split_subjects(partition, split)
    folder = resolve_weights(weights)
    model = load_recognizer(folder)
    embeddings, labels, report = embed_dataset(
        model, data, subjects, max_frames=max_frames, bf16=bf16, progress=progress
    )
    save_embeddings(out, embeddings, labels, weights=folder, data=data)
    return {
        "out": str(out),
        "weights": str(folder),
        "data": str(data),
        "sequences": int(len(embeddings)),
        "shape": [int(n) for n in embeddings.shape],
        "read": report.to_dict(),
        "read_summary": report.summary(),
    }
