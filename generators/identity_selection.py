"""Best-of-K for identity: draw several candidates of each clip, keep the one the CONDITIONER reads
as closest to the requested person.

The conditioner is the network that already conditions the generator, so choosing with it keeps
the judge (and every attacker) out of the loop: identity is still scored by the judge and by
recognizers never consulted. Measured on the bundled `walkers` generator (50 walker test
subjects, one nm-05 reference each, NM at the 10 other views, raw cosine): judge rank-1 55.2 →
61.6 (2 candidates) → 65.8 (3); the GEINet attacker, never consulted, 55.9 → 62.7; the same-view
GEI template matcher 49.4 → 53.8. Each candidate costs one more generation and one conditioner pass.

Similarity is the cosine in the denoiser's standardised identity space (per-dimension training
statistics) when it has one: raw walker embeddings are ~0.97 alike, standardised they spread.
"""

from __future__ import annotations

import numpy as np
import torch

from generators.identity_bank import normalize_identity

MAX_CANDIDATES = 16


def check_candidates(candidates) -> int:
    """`candidates` as an int within 1–MAX_CANDIDATES; else ValueError naming the value."""
    if isinstance(candidates, bool) or not isinstance(candidates, int | np.integer):
        raise ValueError(f"candidates must be an integer within 1–{MAX_CANDIDATES}, got {candidates!r}")
    if not 1 <= int(candidates) <= MAX_CANDIDATES:
        raise ValueError(f"candidates must be within 1–{MAX_CANDIDATES}, got {candidates}")
    return int(candidates)


def candidate_seed(seed: int, candidate: int) -> int:
    """The noise seed of candidate `candidate` (≥ 1) of a call seeded `seed`: candidate 0 is the
    call's own noise, so one candidate gives exactly the clips of a plain call."""
    return int(np.random.SeedSequence([int(seed), int(candidate)]).generate_state(1)[0])


def _as_the_denoiser_reads(candidate_embeddings, others, denoiser, mismatch: str):
    """Both sets normalised and, when `denoiser` standardises its identity input, standardised
    as it does; `mismatch` finishes the error for sets of different sizes."""
    a, b = normalize_identity(candidate_embeddings), normalize_identity(others)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"the conditioner reads {a.shape[1]} numbers per clip but {mismatch.format(b.shape[1])}")
    if denoiser is not None and getattr(denoiser.config, "standardize_identity", False):
        mean, scale = denoiser.identity_mean.float(), denoiser.identity_scale.float()
        a, b = (a - mean) * scale, (b - mean) * scale
    return a, b


def identity_similarity(candidate_embeddings, targets: torch.Tensor, denoiser=None) -> torch.Tensor:
    """Cosine `[N]` between candidates' conditioner embeddings `[N, ...]` and the requested
    identities `[N, E]` (unit-norm, as `normalize_identity` gives), standardised as `denoiser` does."""
    a, b = _as_the_denoiser_reads(
        candidate_embeddings,
        targets,
        denoiser,
        "the identities have {}: choosing candidates needs the conditioner the generator was trained with",
    )
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)


def nearest_known_similarity(candidate_embeddings, known, denoiser=None) -> torch.Tensor:
    """Each candidate's highest cosine `[N]` to any of the `known` identities `[M, E]` (everyone
    the studio knows: the people the generator trained on, a user's own), standardised as
    `denoiser` does: the lower, the more the candidate is somebody new."""
    a, b = _as_the_denoiser_reads(candidate_embeddings, known, denoiser, "the known people have {}")
    a, b = torch.nn.functional.normalize(a, dim=-1), torch.nn.functional.normalize(b, dim=-1)
    return (a @ b.T).max(dim=1).values
