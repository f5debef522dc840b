"""`IdentityBank`: known identities in the conditioner's embedding space, and new ones made from them.

A novel identity mixes a few real ones (random convex weights, renormalised onto the sphere:
a multi-way slerp) and is then pushed away from every real identity it resembles, so that it
lies between people rather than on any of them. Whether it is truly nobody is for the JUDGE
to say (`evaluation`), never for this bank, which lives in the conditioner's space.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from gaitdata import GaitDataError
from generators.covariate_means import CovariateMeans

# How far a novel identity steps from the mean of the identities it most resembles, in each space.
# Measured with the bundled generator (`studio eval-generator --parts novel`, 100 people, steered
# 0.2; the model card has the sweep): standardised 0.5 / 1.0 / 1.5 gave 63 / 84 / 77 distinct, Fréchet
# 1.71 / 1.45 / 1.66 x other real people's; raw 0.5 / 0.75 / 1.0 gave 57 / 84 / 97 distinct at 2.08 /
# 2.07 / 4.63 (a raw push of 1 removes what all embeddings share: people no longer look like people).
# Anonymization keeps its own measured push (`generators.pseudonyms`).
NOVEL_PUSH = {"raw": 0.5, "standardized": 1.0}
MAX_PUSH = 2.0  # a step of twice the nearest people's mean: past it, nobody resembles a person


def normalize_identity(embedding: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Flatten and L2-normalise identity embeddings: `[E]` or `[N, ...]` → `float32 [N, E']`."""
    x = torch.as_tensor(np.asarray(embedding), dtype=torch.float32)
    x = x.reshape(1, -1) if x.ndim == 1 else x.reshape(x.shape[0], -1)
    return torch.nn.functional.normalize(x, dim=-1)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True).clip(min=1e-12)


def _from_standardized(direction: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """The unit raw embedding `e` whose standardised form `(e - mean) * scale` points along
    `direction`: `e = mean + t * direction / scale` with `t > 0` solving `|e| = 1` (the generator
    normalises an identity before standardising it, so its norm must be 1 already)."""
    step = direction / scale
    a, b, c = step @ step, 2 * (mean @ step), mean @ mean - 1.0
    if c >= 0:  # the mean of unit vectors lies inside the sphere; statistics of anything else do not
        raise ValueError("standardization mean must lie inside the unit sphere (the mean of unit embeddings)")
    t = (-b + np.sqrt(b * b - 4 * a * c)) / (2 * a)
    return _unit(mean + t * step)


class IdentityBank:
    """Unit-norm identity embeddings `[N, E]` of named subjects.

    Args:
        embeddings: `[N, E]` (normalised here).
        subjects: N subject ids.
        covariate_means: the conditioner's mean embedding per condition type and view over the
            same people's clips (`generators.covariate_means`), when known.
    """

    def __init__(self, embeddings: np.ndarray, subjects: list[str], covariate_means: CovariateMeans | None = None):
        embeddings = np.asarray(embeddings, np.float32)
        if embeddings.ndim != 2 or len(embeddings) != len(subjects) or len(subjects) == 0:
            raise ValueError(f"need [N, E] embeddings for N subjects, got {embeddings.shape} for {len(subjects)}")
        self.embeddings = _unit(embeddings)
        self.subjects = [str(s) for s in subjects]
        self.covariate_means = covariate_means

    @classmethod
    def from_embeddings(cls, embeddings: np.ndarray, subjects: list[str]) -> IdentityBank:
        """Per-clip embeddings (any shape `[M, ...]`) and their subjects → one mean identity per subject."""
        flat = normalize_identity(embeddings).numpy()
        subjects = np.asarray([str(s) for s in subjects])
        names = sorted(set(subjects.tolist()))
        means = np.stack([flat[subjects == n].mean(0) for n in names])
        return cls(means, names)

    def __len__(self) -> int:
        return len(self.subjects)

    def similarity(self, embedding: np.ndarray) -> np.ndarray:
        """Cosine similarity of `[E]` or `[M, E]` to every bank identity → `[N]` or `[M, N]`."""
        q = normalize_identity(embedding).numpy()
        sims = q @ self.embeddings.T
        return sims[0] if np.asarray(embedding).ndim == 1 else sims

    def nearest(self, embedding: np.ndarray) -> tuple[str, float]:
        """The bank subject most similar to one embedding, and the cosine similarity."""
        sims = self.similarity(np.asarray(embedding).reshape(-1))
        i = int(np.argmax(sims))
        return self.subjects[i], float(sims[i])

    def novel(
        self,
        count: int,
        seed: int = 0,
        parents: tuple[int, int] = (2, 4),
        push: float | None = None,
        max_similarity: float | None = None,
        exclude: np.ndarray | None = None,
        max_tries: int = 200,
        standardization: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, list[dict]]:
        """Make `count` new identities.

        Args:
            count: how many.
            seed: randomness.
            parents: how many real identities each one mixes (inclusive range).
            push: step away from the mean of the real identities it is closest to (None:
                `NOVEL_PUSH` of the space it is made in).
            max_similarity: reject candidates whose cosine to any bank identity (or to
                `exclude`) exceeds this; None = keep every candidate.
            exclude: more embeddings `[M, E]` to stay away from (e.g. a source to anonymize).
            max_tries: candidates drawn per identity before giving up.
            standardization: per-dimension `(mean, scale)` of the generator's identity input
                (`GaitGenerationPipeline.identity_statistics`): mix and push there, where people
                differ at cosine ~0 (raw walker embeddings are ~0.97 alike, so a push in raw
                space mostly removes what all people share), and map back to a unit embedding
                whose standardised form points exactly there. Similarities (and `max_similarity`) are then standardised.

        Returns:
            (`float32 [count, E]` unit embeddings, per identity: parents, weights, nearest
            similarity in this bank).

        Raises:
            RuntimeError: no candidate within `max_tries` met `max_similarity`.
        """
        if count < 0:
            raise ValueError(f"count must be ≥ 0, got {count}")
        if push is None:
            push = NOVEL_PUSH["raw" if standardization is None else "standardized"]
        if isinstance(push, bool) or not 0.0 <= float(push) <= MAX_PUSH:
            raise ValueError(f"push (how far from the people it resembles) must be within 0–{MAX_PUSH:g}, got {push!r}")
        rng = np.random.default_rng(seed)
        avoid = self.embeddings if exclude is None else np.concatenate([self.embeddings, normalize_identity(exclude)])
        people = self.embeddings
        if standardization is not None:
            mean, scale = (np.asarray(v, np.float32).reshape(-1) for v in standardization)
            if mean.shape != scale.shape or mean.shape[0] != people.shape[1]:
                raise ValueError(
                    f"standardization has {mean.shape[0]} / {scale.shape[0]} numbers, the identities {people.shape[1]}"
                )
            people, avoid = _unit((people - mean) * scale), _unit((avoid - mean) * scale)
        lo, hi = max(1, parents[0]), min(len(self), parents[1])
        out, info = [], []
        for n in range(count):
            for _ in range(max_tries):
                k = int(rng.integers(lo, max(lo, hi) + 1))
                idx = rng.choice(len(self), size=min(k, len(self)), replace=False)
                weights = rng.dirichlet(np.ones(len(idx)))
                candidate = _unit(weights @ people[idx])
                sims = avoid @ candidate
                near = np.argsort(sims)[-3:]  # push away from the few it most resembles
                candidate = _unit(candidate - push * avoid[near].mean(0))
                nearest = float((avoid @ candidate).max())
                if standardization is not None:
                    candidate = _from_standardized(candidate, mean, scale)
                if max_similarity is None or nearest <= max_similarity:
                    break
            else:
                raise RuntimeError(
                    f"no novel identity {n} within {max_tries} tries kept similarity ≤ {max_similarity}; "
                    "lower `push` demands or raise max_similarity"
                )
            out.append(candidate)
            info.append(
                {
                    "parents": [self.subjects[i] for i in idx],
                    "weights": [round(float(w), 4) for w in weights],
                    "nearest_similarity": round(nearest, 4),
                }
            )
        return np.stack(out).astype(np.float32) if out else np.zeros((0, self.embeddings.shape[1])), info

    def farthest(self, embedding: np.ndarray, candidates: np.ndarray) -> int:
        """Index of the candidate least similar to `embedding` (for anonymization targets)."""
        return int(np.argmin(normalize_identity(candidates).numpy() @ normalize_identity(embedding).numpy()[0]))

    # ---- files ----------------------------------------------------------------------------
    def save(self, folder: str | os.PathLike) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({"embeddings": self.embeddings}, str(folder / "identity_bank.safetensors"))
        (folder / "identity_bank.json").write_text(json.dumps({"subjects": self.subjects}, indent=0) + "\n")
        if self.covariate_means is not None:
            self.covariate_means.save(folder)

    @classmethod
    def load(cls, folder: str | os.PathLike) -> IdentityBank:
        folder = Path(folder)
        try:
            embeddings = load_file(str(folder / "identity_bank.safetensors"))["embeddings"]
            subjects = json.loads((folder / "identity_bank.json").read_text())["subjects"]
        except (OSError, KeyError, ValueError, SafetensorError) as err:
            raise GaitDataError(folder, f"not an identity bank: {err}") from None
        return cls(embeddings, subjects, CovariateMeans.load(folder))
