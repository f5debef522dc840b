"""Reading the two folders: which clips to read, and each read clip embedded by the judge (and by
the attackers, for anonymized clips) through `recognizers.embedding.embed_dataset`, with the
per-clip measurements the sections need.

Several processes may share the reading (`read_and_embed_shared`): the clips of both folders are
cut into batches of `batch_clips` (the real folder's, then the generated one's, in the job's
order), and each process reads and embeds a contiguous block of whole batches
(`shard.take`), so every clip goes through the models in the very batch one process would have
put it in and comes out bit for bit the same. Each process leaves its share in the output folder
as plain arrays (`.embeddings.shard-K-of-N.npz`, written atomically, read without pickle); the
main process joins the shares in order, removes the files and goes on as if it had read every
clip itself.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation.attackers import gait_energy_image
from evaluation.fidelity import clip_statistics
from evaluation.report.values import Key
from gaitdata.atomic import atomic_open
from gaitdata.errors import GaitDataError
from gaitdata.opengait import SequenceEntry, scan_opengait
from gaitdata.readers import read_sequence
from gaitdata.sequence import CANONICAL_HEIGHT, CANONICAL_WIDTH, STORED_SIZE, crop_to_model_input
from recognizers.embedding import embed_dataset

Progress = Callable[[str, int, int], None]
BATCH_CLIPS = 256  # clips read and embedded together; the unit that processes share
SHARE_FILE = ".embeddings.shard-{index}-of-{count}.npz"  # one process's share; index counted from 1
SHARE_GLOB = ".embeddings.shard-*-of-*.npz"


@dataclass
class EmbeddedClips:
    """The readable clips of one folder, embedded by the judge.

    Attributes:
        root: the folder.
        keys: (subject, condition, view) of each clip, `N` of them.
        paths: the pkl each clip was read from.
        embeddings: judge embeddings `float32 [N, c, p]`.
        stats: per clip, `evaluation.fidelity.clip_statistics` of the embedded window.
        geis: gait energy images of the embedded windows `float32 [N, 2816]` (when asked for).
        attacker_embeddings: attacker name → its embeddings `float32 [N, c', p']` (when asked for).
        frame_sizes: "HxW" of the stored frames → clips (anything but 64x64 / 64x44 was resized).
        skipped: `{"path", "problem"}` of each unreadable clip.
    """

    root: Path
    keys: list[Key] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    embeddings: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    stats: list[dict] = field(default_factory=list)
    geis: np.ndarray | None = None
    attacker_embeddings: dict[str, np.ndarray] = field(default_factory=dict)
    frame_sizes: Counter = field(default_factory=Counter)
    skipped: list[dict] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    def column(self, i: int) -> np.ndarray:
        return np.asarray([k[i] for k in self.keys], dtype=str)

    @property
    def subjects(self) -> np.ndarray:
        return self.column(0)

    @property
    def conditions(self) -> np.ndarray:
        return self.column(1)

    @property
    def views(self) -> np.ndarray:
        return self.column(2)

    def resized(self) -> int:
        return sum(
            n
            for size, n in self.frame_sizes.items()
            if size not in (f"{STORED_SIZE}x{STORED_SIZE}", f"{CANONICAL_HEIGHT}x{CANONICAL_WIDTH}")
        )

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Everything but `root` as plain arrays named `prefix…` (no objects: no pickle to read them)."""
        names = list(self.stats[0]) if self.stats else []
        out = {
            "keys": np.asarray(self.keys, dtype=str).reshape(-1, 3),
            "paths": np.asarray(self.paths, dtype=str),
            "embeddings": self.embeddings,
            "stat_names": np.asarray(names, dtype=str),
            "stats": np.asarray([[s[n] for n in names] for s in self.stats], np.float64).reshape(len(self), len(names)),
            "attackers": np.asarray(list(self.attacker_embeddings), dtype=str),
            **{f"attacker{i}": e for i, e in enumerate(self.attacker_embeddings.values())},
            "frame_sizes": np.asarray(list(self.frame_sizes), dtype=str),
            "frame_counts": np.asarray(list(self.frame_sizes.values()), np.int64),
            "skipped": np.asarray([[s["path"], s["problem"]] for s in self.skipped], dtype=str).reshape(-1, 2),
        }
        if self.geis is not None:
            out["geis"] = self.geis
        return {prefix + name: value for name, value in out.items()}

    @classmethod
    def from_arrays(cls, root: Path, arrays, prefix: str) -> EmbeddedClips:
        """The clips `arrays` (what `arrays(prefix)` gave, e.g. read back from an `.npz`) hold."""
        names = arrays[prefix + "stat_names"].tolist()
        attackers = arrays[prefix + "attackers"].tolist()
        sizes = zip(arrays[prefix + "frame_sizes"].tolist(), arrays[prefix + "frame_counts"].tolist())
        return cls(
            Path(root),
            keys=[tuple(key) for key in arrays[prefix + "keys"].tolist()],
            paths=arrays[prefix + "paths"].tolist(),
            embeddings=arrays[prefix + "embeddings"],
            stats=[dict(zip(names, row)) for row in arrays[prefix + "stats"].tolist()],
            geis=arrays[prefix + "geis"] if prefix + "geis" in arrays else None,
            attacker_embeddings={name: arrays[f"{prefix}attacker{i}"] for i, name in enumerate(attackers)},
            frame_sizes=Counter(dict(sizes)),
            skipped=[{"path": path, "problem": problem} for path, problem in arrays[prefix + "skipped"].tolist()],
        )

    @classmethod
    def joined(cls, root: Path, parts: Sequence[EmbeddedClips]) -> EmbeddedClips:
        """One folder's clips from the parts it was read in, in order: as if read in one go."""
        out = cls(Path(root))
        for part in parts:
            out.keys += part.keys
            out.paths += part.paths
            out.stats += part.stats
            out.frame_sizes.update(part.frame_sizes)  # sizes in the order they were first met
            out.skipped += part.skipped
        filled = [part for part in parts if len(part)]
        if filled:
            out.embeddings = np.concatenate([part.embeddings for part in filled])
            names = filled[0].attacker_embeddings
            out.attacker_embeddings = {n: np.concatenate([p.attacker_embeddings[n] for p in filled]) for n in names}
        if any(part.geis is not None for part in parts):
            out.geis = np.concatenate([part.geis for part in parts])
        return out


def scan_folder(root: str | Path, role: str) -> list[SequenceEntry]:
    """The sequence folders under `root`; an empty or non-OpenGait folder is an error naming it."""
    entries = [e for e in scan_opengait(root) if e.files]
    if not entries:
        raise GaitDataError(
            root, f"the {role} folder holds no sequences (<subject>/<condition>/<view>/*.pkl): empty or not OpenGait"
        )
    return entries


def select_real_subjects(all_subjects: list[str], common: list[str], size: int, rng) -> tuple[list[str], str]:
    """The real subjects to read: every subject in common, topped up with others to `size`."""
    others = [s for s in all_subjects if s not in set(common)]
    extra = max(0, size - len(common))
    picked = sorted(rng.choice(others, size=min(extra, len(others)), replace=False).tolist()) if extra else []
    chosen = sorted(set(common) | set(picked))
    if common and picked:
        text = f"the {len(common)} subjects in common with the generated clips, plus {len(picked)} others"
    elif common:
        text = f"the {len(common)} subjects in common with the generated clips"
    else:
        text = f"{len(chosen)} real subjects at random (none in common with the generated clips)"
    return chosen, text + f" (of {len(all_subjects)} in the real folder)"


def read_and_embed(
    entries: list[SequenceEntry],
    root: Path,
    judge,
    max_frames: int | None,
    bf16: bool,
    batch_clips: int = BATCH_CLIPS,
    progress: Progress | None = None,
    stage: str = "",
    attackers: dict | None = None,
) -> EmbeddedClips:
    """Read, crop to 64×44, cap and embed `entries` in batches; unreadable clips are skipped and counted.

    With `attackers` (name → recognizer), each also embeds every clip, and the clips' GEIs are kept.
    Frames are not kept: memory stays bounded by one batch whatever the folder's size.
    """
    out = EmbeddedClips(Path(root))
    geis, attacker_chunks = [], {name: [] for name in attackers or {}}

    def measure(store, _judge_embeddings) -> None:
        out.frame_sizes.update(f"{h}x{w}" for h, w in store.shapes)
        out.stats.extend(clip_statistics(clip) for clip in store.frames)  # uint8 [T, 64, 44] each
        if attackers is not None:
            geis.extend(gait_energy_image(clip) for clip in store.frames)
        for name, model in (attackers or {}).items():
            attacker_chunks[name].append(model.embed(store.frames, max_frames=None, bf16=bf16))

    embeddings, labels, report = embed_dataset(
        judge,
        root,
        max_frames=max_frames,
        bf16=bf16,
        progress=(lambda done, total: progress(stage, done, total)) if progress else False,
        entries=entries,
        batch_clips=batch_clips,
        on_batch=measure,
    )
    out.keys = list(zip(*(labels[k].tolist() for k in ("subject", "condition", "view"))))
    out.paths = labels["source"].tolist()
    out.skipped = [{"path": path, "problem": problem} for path, problem in report.skipped]
    if len(out):
        out.embeddings = np.asarray(embeddings, np.float32)
        out.attacker_embeddings = {k: np.concatenate(v).astype(np.float32) for k, v in attacker_chunks.items()}
    if attackers is not None:
        out.geis = np.stack(geis) if geis else np.zeros((0, CANONICAL_HEIGHT * CANONICAL_WIDTH), np.float32)
    return out


def read_and_embed_shared(
    folders: Sequence[tuple[list[SequenceEntry], Path, str]],
    judge,
    max_frames: int | None,
    bf16: bool,
    batch_clips: int = BATCH_CLIPS,
    progress: Progress | None = None,
    attackers: dict | None = None,
    shard=None,
    exchange: Path | None = None,
) -> tuple[list[EmbeddedClips], list[dict]] | None:
    """`read_and_embed` of several folders (`(entries, root, stage)` each), shared between processes.

    The folders' entries are cut into batches of `batch_clips` (the first folder's, then the
    next's) and each process reads and embeds a contiguous block of whole batches, as
    `read_and_embed` would in one process; the shares meet in `exchange` and the main process
    joins them (see the module doc).

    Args:
        shard: this process's place in a shared run: anything with `index`, `count`, `is_main`,
            `take(items)` (a contiguous block, the same in every process) and `wait()` (a barrier),
            as `studio.jobs.sharding.Shard`; None: this process reads everything.
        exchange: the folder the shares are left in (needed when `shard.count > 1`).

    Returns:
        To the main process (or a lone one), every folder's clips, in the order of `folders`, and
        what each process read: `{"clips", "subjects", "embedding_seconds"}` per process, in
        process order. None to the other processes.
    """
    started = time.perf_counter()
    if int(batch_clips) < 1:
        raise ValueError(f"batch_clips must be a positive number of clips, got {batch_clips!r}")
    count = 1 if shard is None else shard.count
    if count > 1 and exchange is None:
        raise ValueError("several processes share the clips through a folder: give `exchange`")
    units = [(f, start) for f, (entries, _, _) in enumerate(folders) for start in range(0, len(entries), batch_clips)]
    mine = units if count == 1 else shard.take(units)
    parts = []
    for f, (entries, root, stage) in enumerate(folders):
        starts = [start for g, start in mine if g == f]  # consecutive batches of this folder
        share = entries[starts[0] : starts[-1] + batch_clips] if starts else []
        parts.append(read_and_embed(share, root, judge, max_frames, bf16, batch_clips, progress, stage, attackers))
    subjects = {key[0] for part in parts for key in part.keys}
    read = {"clips": sum(len(part) for part in parts), "subjects": len(subjects)}
    if count == 1:
        return parts, [{**read, "embedding_seconds": time.perf_counter() - started}]
    exchange = Path(exchange)
    arrays = {k: v for f, part in enumerate(parts) for k, v in part.arrays(f"{f}.").items()}
    arrays.update({k: np.asarray(v) for k, v in read.items()})
    arrays["embedding_seconds"] = np.asarray(time.perf_counter() - started)
    with atomic_open(exchange / SHARE_FILE.format(index=shard.index + 1, count=count), "wb") as file:
        np.savez(file, **arrays)
    shard.wait()
    if not shard.is_main:
        return None
    shares, by_folder = [], [[] for _ in folders]
    for index in range(count):
        with np.load(exchange / SHARE_FILE.format(index=index + 1, count=count), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        shares.append({name: arrays[name].item() for name in ("clips", "subjects", "embedding_seconds")})
        for f, (_, root, _) in enumerate(folders):
            by_folder[f].append(EmbeddedClips.from_arrays(root, arrays, f"{f}."))
    for path in exchange.glob(SHARE_GLOB):  # this run's shares, and any a killed run left
        path.unlink(missing_ok=True)
    return [EmbeddedClips.joined(root, p) for (_, root, _), p in zip(folders, by_folder)], shares


def model_clip(path: str) -> np.ndarray:
    """A clip re-read whole from its pkl, as `uint8 [T, 64, 44]`."""
    return crop_to_model_input(read_sequence(path).frames)
