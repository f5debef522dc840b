"""Reading the two folders: which clips to read, and each read clip embedded by the judge (and by
the attackers, for anonymized clips) through `recognizers.embedding.embed_dataset`, with the
per-clip measurements the sections need."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from evaluation.attackers import gait_energy_image
from evaluation.fidelity import clip_statistics
from evaluation.report.values import Key
from gaitdata.errors import GaitDataError
from gaitdata.opengait import SequenceEntry, scan_opengait
from gaitdata.readers import read_sequence
from gaitdata.sequence import crop_to_model_input
from recognizers.embedding import embed_dataset

Progress = Callable[[str, int, int], None]


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
        return sum(n for size, n in self.frame_sizes.items() if size not in ("64x64", "64x44"))


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
    batch_clips: int = 256,
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
        out.geis = np.stack(geis) if geis else np.zeros((0, 64 * 44), np.float32)
    return out


def model_clip(path: str) -> np.ndarray:
    """A clip re-read whole from its pkl, as `uint8 [T, 64, 44]`."""
    return crop_to_model_input(read_sequence(path).frames)
