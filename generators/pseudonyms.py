"""Whom a clip is, and whom it becomes when anonymized: identity conditions and pseudonyms.

`clip_identities` reads a clip as an identity condition (its conditioner embedding and, for a
denoiser with a reference pathway, its reference tokens): an edit keeps it, an anonymization
replaces it. `anonymization_targets` makes the replacement: a novel identity from the
`IdentityBank`, far from the source and from every known person, and — for a denoiser with a
reference pathway — a first clip of that person, drawn from the embedding alone, as the reference.
Clips given one `Pseudonym` become one new person (one identity, one first clip per view), so an
anonymized dataset keeps who is who.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gaitdata import GaitSequence
from generators.conditions import source_covariates
from generators.identity_bank import IdentityBank, normalize_identity
from generators.pipeline import GaitGenerationPipeline
from generators.regeneration import WINDOW

# the push of the anonymization targets the model card's anonymization figures were measured with
PSEUDONYM_PUSH = 0.5


@dataclass(frozen=True)
class Pseudonym:
    """Who a source person becomes when anonymized: clips given the same pseudonym become ONE
    new person (the same identity; one first clip per view, the reference of all their clips).

    Attributes:
        seed: draws the new identity and their first clips (the same seed, the same person).
        anchor: a clip of the source person that the new identity is kept far from; None = the
            mean identity of the person's clips in the call. Give the same anchor wherever the
            person's clips are anonymized (e.g. their first clip), so every batch that holds
            some of them makes the same new person.
    """

    seed: int
    anchor: GaitSequence | None = None


def clip_identities(pipeline: GaitGenerationPipeline, sequences: Sequence[GaitSequence]) -> list[dict]:
    """Each clip as an identity condition: its conditioner embedding `[1, E]` and, for a denoiser
    with a reference pathway, its reference tokens `[1, r, d]` (else None); one batch each."""
    if not sequences:
        return []
    embeddings = pipeline.encode_identity(list(sequences))
    references = pipeline.encode_reference(list(sequences))
    return [
        {"embedding": embeddings[i : i + 1], "reference": None if references is None else references[i : i + 1]}
        for i in range(len(sequences))
    ]


def anonymization_targets(
    pipeline: GaitGenerationPipeline,
    bank: IdentityBank,
    sequences: Sequence[GaitSequence],
    seeds: Sequence[int],
    steps: int = 20,
    guidance: float = 2.0,
    cancel=None,
    people: Sequence[Pseudonym] | None = None,
) -> list[dict]:
    """Whom each clip becomes: a novel identity far from its source and from every known person.

    A denoiser with a reference pathway is given a first clip of the novel person (drawn from
    the embedding alone, in the source's view, normal clothes; one batch for all) as the
    reference, so the new body is carried by the same pathway that carries a real person in
    an edit. Without `people` each clip becomes its own person, drawn from its seed; with
    them, the clips of one `Pseudonym` share one identity and one first clip per view.
    Returns per clip `{"embedding": [1, E], "reference": tokens or None,
    "similarity_to_source": cosine to the clip's own source in the conditioner's space (to
    its person's anchor when every clip has a pseudonym with one)}`.
    """
    seeds = [int(s) for s in seeds]
    if len(seeds) != len(sequences) or (people is not None and len(people) != len(sequences)):
        raise ValueError(f"{len(sequences)} clips need as many seeds and people")
    anchored_only = people is not None and all(p.anchor is not None for p in people)
    # the conditioner is the costliest reader here: with anchors, a person's clips are measured
    # against their anchor (the one clip the new identity was chosen far from)
    sources = None if anchored_only else pipeline.encode_identity(list(sequences))  # [N, E]
    # one group per new person: (its seed, the embedding it keeps away from, its clips)
    groups: dict = {}
    for i in range(len(seeds)):
        key = ("clip", i) if people is None else ("person", people[i].seed)
        groups.setdefault(key, []).append(i)
    anchored = [k for k, m in groups.items() if k[0] == "person" and people[m[0]].anchor is not None]
    anchors = [people[groups[k][0]].anchor for k in anchored]
    anchor_of = dict(zip(anchored, pipeline.encode_identity(anchors))) if anchors else {}
    identity_of_clip = [None] * len(sequences)
    for key, members in groups.items():
        if key[0] == "clip":
            seed, away = seeds[members[0]], sources[members]
        else:
            seed = key[1]
            away = anchor_of[key][None] if key in anchor_of else sources[members].mean(0, keepdim=True)
        away = normalize_identity(away).numpy()
        candidates, _ = bank.novel(8, seed=seed, exclude=away, push=PSEUDONYM_PUSH)
        chosen = normalize_identity(candidates[bank.farthest(away, candidates)])
        for i in members:
            identity_of_clip[i] = (key, chosen)
    if pipeline.denoiser.config.reference_frames:
        views = [c["view"] if c["view"] is not None else 90.0 for c in map(source_covariates, sequences)]
        firsts: dict = {}  # (person, view) → index of its first clip in the batch drawn below
        draws = []  # (embedding, view, noise seed)
        for i, (key, chosen) in enumerate(identity_of_clip):
            if (key, views[i]) not in firsts:
                firsts[(key, views[i])] = len(draws)
                noise_seed = seeds[i] if key[0] == "clip" else _first_clip_seed(key[1], views[i])
                draws.append((chosen, views[i], noise_seed))
        dim = pipeline.denoiser.config.latent_dim
        noise = torch.cat(
            [torch.randn((1, WINDOW, dim), generator=torch.Generator().manual_seed(s)) for _, _, s in draws]
        )
        drawn = pipeline.novel_person(
            torch.cat([e for e, _, _ in draws]).numpy(),
            0,
            steps,
            guidance,
            [v for _, v, _ in draws],
            latents=noise,
            cancel=cancel,
        )
        made = clip_identities(pipeline, drawn)
        targets = [dict(made[firsts[(key, views[i])]]) for i, (key, _) in enumerate(identity_of_clip)]
    else:
        targets = [{"embedding": chosen, "reference": None} for _, chosen in identity_of_clip]
    if sources is None:
        sources = torch.cat([anchor_of[identity_of_clip[i][0]][None] for i in range(len(sequences))])
    for target, source in zip(targets, sources):
        target["similarity_to_source"] = float(target["embedding"][0] @ source)
    return targets


def _first_clip_seed(person_seed: int, view: float) -> int:
    """The starting noise of a pseudonym's first clip in one view: its seed and the view alone."""
    entropy = [int(person_seed) % 2**63, int(round(float(view) * 10)) % 3600]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


__all__ = ["Pseudonym", "anonymization_targets", "clip_identities"]
