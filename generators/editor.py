"""Editing and anonymizing a given clip: its motion kept, its covariates or identity changed.

Both are the generation pipeline, started from the source's latents and denoised by the
pipeline's own guided step (`generators.regeneration`: the source carried toward noise up to
`strength` of the schedule, by DDIM inversion or partial noising, then denoised under the new
conditions, in windows of `WINDOW` frames, on the source's own timing where the denoiser reads one):

- `edit`: the same person (the source clip is the identity reference), new view / clothing /
  carrying;
- `anonymize_many`: the same covariates, the person replaced by a novel one far from the source
  and from every known person (`generators.pseudonyms`): a first clip of that person is
  generated and becomes the reference. Clips given one `Pseudonym` become one new person, so an
  anonymized dataset keeps who is who. Nothing here judges: what identity is left is measured by
  the judge in `studio.jobs.anonymization`, which retries the clips that still verify as their source.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence

import numpy as np

from gaitdata import GaitSequence
from generators.conditions import Covariates, carrying_index, clothing_index, parse_view, source_covariates, view_name
from generators.identity_bank import IdentityBank
from generators.pipeline import MIN_REFERENCE_FOREGROUND, GaitGenerationPipeline, normalize_identity
from generators.pseudonyms import Pseudonym, anonymization_targets, clip_identities
from generators.regeneration import WINDOW, Regeneration, regenerate
from generators.regeneration import clip_windows as _windows  # noqa: F401  (the tests' name for it)
from generators.settings import ANONYMIZE, EDIT, METHODS

logger = logging.getLogger(__name__)

MIN_FRAMES = 16  # below ~one gait cycle there is no motion to keep


def unusable_source(seq: GaitSequence) -> str | None:
    """Why a clip cannot be edited or anonymized (too short, or no body in its frames); None if it can."""
    if seq.num_frames < MIN_FRAMES:
        return f"too short: {seq.num_frames} frames, at least {MIN_FRAMES} are needed"
    foreground = float(seq.model_input().mean())
    if foreground < MIN_REFERENCE_FOREGROUND:
        return f"empty: no body in its frames (mean foreground {foreground:.4f})"
    return None


class GaitEditor:
    """Edit or anonymize clips with a generation pipeline.

    Args:
        pipeline: a `GaitGenerationPipeline` whose `conditioner` embeds identities.
        bank: known identities (conditioner space) from which anonymization targets are made.
        judge, calibration: the judge (a recognizer that is NOT the conditioner) and its
            verification calibration, carried for the callers that score results (batch jobs,
            the app, the retry policy); the editor itself never calls them.
    """

    def __init__(
        self,
        pipeline: GaitGenerationPipeline,
        bank: IdentityBank | None = None,
        judge=None,
        calibration: dict | None = None,
    ):
        if pipeline.conditioner is None:
            raise ValueError("the pipeline needs a conditioner to embed the source's identity")
        if judge is not None and judge is pipeline.conditioner:
            raise ValueError("the judge must not be the conditioner: it would measure nothing")
        self.pipeline = pipeline
        self.bank = bank
        self.judge = judge
        self.calibration = calibration

    # ---- the shared recipe ----------------------------------------------------------------
    def identity_of(self, sequence: GaitSequence) -> dict:
        """A clip as an identity condition: its conditioner embedding `[1, E]` and, for a
        denoiser with a reference pathway, its reference tokens `[1, r, d]` (else None)."""
        return self.identities_of([sequence])[0]

    def identities_of(self, sequences: Sequence[GaitSequence]) -> list[dict]:
        """`identity_of` of many clips, embedded and encoded in one batch each."""
        return clip_identities(self.pipeline, sequences)

    def _check(self, seq: GaitSequence, strength: float, steps: int, method: str) -> None:
        if not isinstance(seq, GaitSequence):
            raise ValueError(f"expected a GaitSequence, got {type(seq).__name__}")
        problem = unusable_source(seq)
        if problem is not None:
            raise ValueError(f"{seq.source or 'clip'}: cannot edit it, {problem}")
        if not 0.0 <= strength <= 1.0:
            raise ValueError(f"strength must lie in [0, 1], got {strength}")
        if not isinstance(steps, int) or steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")

    # ---- edit -----------------------------------------------------------------------------
    def _edit_target(self, sequence: GaitSequence, view, clothing, carrying) -> tuple[dict, dict]:
        """(the source's covariates, the covariates asked for), validated; warns on a no-op edit."""
        if view is None and clothing is None and carrying is None:
            raise ValueError(f"{sequence.source or sequence.key}: nothing to edit: give a view, clothing or carrying")
        source = source_covariates(sequence)
        target = dict(source)
        for key, value in (("view", view), ("clothing", clothing), ("carrying", carrying)):
            if value is not None:
                target[key] = value
        if view is not None:
            target["view"] = parse_view(view)
        for key, index in (("clothing", clothing_index), ("carrying", carrying_index)):
            if target[key] is not None:
                index(target[key])  # validates the name
        if target == source:
            warnings.warn(
                f"{sequence.source or sequence.key}: the requested covariates equal the source's: "
                "the edit only re-renders",
                stacklevel=3,
            )
        return source, target

    def edit(
        self,
        sequence: GaitSequence,
        view: float | str | None = None,
        clothing: str | None = None,
        carrying: str | None = None,
        strength: float = EDIT.strength,
        steps: int = EDIT.steps,
        guidance: float = EDIT.guidance,
        seed: int = 0,
        method: str = EDIT.method,
        identity_guidance: float | None = EDIT.identity_guidance,
        cancel=None,
        conditioner_guidance: float = EDIT.conditioner_guidance,
        covariate_shift: float = EDIT.covariate_shift,
    ) -> GaitSequence:
        """The same person, walking the same way, with new covariates.

        Args:
            sequence: the source clip (≥ `MIN_FRAMES` frames; any person, seen in training or not).
            view, clothing, carrying: the new values; None keeps the source's.
            strength: 0 returns the source unchanged; higher allows bigger changes (1 = regenerate
                from the fully inverted latents, or from fresh noise with method "noise": then the
                body comes from the identity pathway alone, the walk from the motion signal).
            steps, guidance, seed: sampler settings (guidance: the covariates' scale).
            method: "invert" (DDIM inversion, keeps the motion best) or "noise" (partial noising).
            identity_guidance: the identity's guidance scale (None = `guidance`).
            cancel: a callable checked between denoising steps (True stops with
                `GenerationCancelled`).
            conditioner_guidance: steer every lower-noise step toward the source person along
                the conditioner's gradient (`generators.identity_guidance`; 0 = off).

        Returns:
            The edited clip, `uint8 [T, 64, 64]`, with the new condition / view names.

        Raises:
            ValueError: too short a clip, strength outside [0, 1], nothing to edit, bad values.
        """
        return self.edit_many(
            [sequence],
            view,
            clothing,
            carrying,
            strength,
            steps,
            guidance,
            [seed],
            method,
            identity_guidance,
            cancel=cancel,
            conditioner_guidance=conditioner_guidance,
            covariate_shift=covariate_shift,
        )[0]

    def edit_many(
        self,
        sequences: Sequence[GaitSequence],
        view=None,
        clothing=None,
        carrying=None,
        strength: float = EDIT.strength,
        steps: int = EDIT.steps,
        guidance: float = EDIT.guidance,
        seeds: Sequence[int] | int = 0,
        method: str = EDIT.method,
        identity_guidance: float | None = EDIT.identity_guidance,
        batch_size: int = 64,
        cancel=None,
        conditioner_guidance: float = EDIT.conditioner_guidance,
        covariate_shift: float = EDIT.covariate_shift,
    ) -> list[GaitSequence]:
        """`edit` of many clips at once, their windows denoised in shared batches.

        `view`, `clothing`, `carrying`: one value for all or one per clip; `seeds`: one per clip
        (an int: clip i gets seed + i). Each clip comes out as `edit` makes it alone.
        """
        n = len(sequences)
        targets = [
            _per_clip(v, n, name) for v, name in ((view, "view"), (clothing, "clothing"), (carrying, "carrying"))
        ]
        seeds = _seeds(seeds, n)
        jobs, out, asked = [], [None] * n, []
        for i, seq in enumerate(sequences):
            self._check(seq, strength, steps, method)
            source, target = self._edit_target(seq, *(t[i] for t in targets))
            if strength == 0.0:
                out[i] = seq.with_frames(seq.frames.copy())
                continue
            asked.append((i, source, target))
        identities = self.identities_of([sequences[i] for i, _, _ in asked])
        for (i, source, target), identity in zip(asked, identities):
            job = Regeneration(sequences[i], identity, identity, source, target, seeds[i], strength, source)
            jobs.append((i, job))
        frames = regenerate(
            self.pipeline,
            [job for _, job in jobs],
            steps,
            guidance,
            identity_guidance,
            method,
            batch_size,
            cancel,
            conditioner_guidance,
            covariate_shift,
        )
        for (i, job), made in zip(jobs, frames):
            seq, target = job.sequence, job.target_covariates
            kind = Covariates(clothing=target["clothing"], carrying=target["carrying"]).condition_type()
            index = seq.condition.split("-")[-1] if "-" in seq.condition else "01"
            out[i] = seq.with_frames(
                made,
                condition=f"{kind}-{index}",
                view=seq.view if target["view"] is None else view_name(target["view"]),
                source=f"edit of {seq.source or seq.key}",
                extra={**seq.extra, "edit": _edit_record(strength, job.seed, method, target, conditioner_guidance)},
            )
        return out

    # ---- anonymize ------------------------------------------------------------------------
    def anonymization_targets(
        self,
        sequences: Sequence[GaitSequence],
        seeds: Sequence[int],
        steps: int = 20,
        guidance: float = 2.0,
        cancel=None,
        people: Sequence[Pseudonym] | None = None,
    ) -> list[dict]:
        """Whom each clip becomes: a novel identity from the editor's bank, far from its source and
        from every known person, with its reference (`generators.pseudonyms.anonymization_targets`).
        Returns per clip `{"embedding": [1, E], "reference": tokens or None, "similarity_to_source"}`."""
        if self.bank is None:
            raise ValueError("anonymize needs a target identity or an identity bank to make one")
        return anonymization_targets(self.pipeline, self.bank, sequences, seeds, steps, guidance, cancel, people)

    def anonymize_many(
        self,
        sequences: Sequence[GaitSequence],
        strength: float = ANONYMIZE.strength,
        seeds: Sequence[int] | int = 0,
        targets: Sequence[np.ndarray] | None = None,
        steps: int = ANONYMIZE.steps,
        guidance: float = ANONYMIZE.guidance,
        method: str = ANONYMIZE.method,
        identity_guidance: float | None = ANONYMIZE.identity_guidance,
        batch_size: int = 64,
        cancel=None,
        people: Sequence[Pseudonym] | None = None,
    ) -> list[GaitSequence]:
        """One anonymization of each clip: the same walk, view and clothing, by somebody else.

        No judging here: what identity is left is measured by `evaluation`, and a batch job
        decides whether to try again (`studio.jobs.anonymization`).

        Args:
            sequences: the source clips (≥ `MIN_FRAMES` frames each).
            strength: how much of the schedule is regenerated (0 would keep the source: refused).
            seeds: one per clip (an int: clip i gets seed + i); the target person follows from it.
            targets: per clip a target identity embedding (conditioner space); default: a novel
                identity from the bank, far from the source and from every known person.
            steps, guidance, method, identity_guidance, batch_size, cancel: as in `edit_many`.
            people: per clip the `Pseudonym` of its source person: clips that share one become
                the same new person. Default: each clip becomes a person of its own.

        Returns:
            The anonymized clips (subject `anon-<subject>`), each with `extra["anonymize"]` =
            strength, seed and the target's cosine to the source in the conditioner's space.

        Raises:
            ValueError: strength 0, a target equal to the source, no bank and no target, bad values.
        """
        n = len(sequences)
        seeds = _seeds(seeds, n)
        for seq in sequences:
            self._check(seq, strength, steps, method)
        if strength == 0.0:
            raise ValueError("strength 0 would return the source itself, which is not anonymous")
        if people is not None and targets is not None:
            raise ValueError("give either targets or people, not both")
        if targets is None:
            chosen = self.anonymization_targets(sequences, seeds, steps, guidance, cancel, people)
        else:
            if len(targets) != n:
                raise ValueError(f"{len(targets)} targets for {n} clips")
            chosen = []
            sources = self.pipeline.encode_identity(list(sequences))
            for seq, target, source in zip(sequences, targets, sources):
                embedding = normalize_identity(target)
                similarity = float(embedding[0] @ source)
                if similarity > 0.999:
                    raise ValueError(f"{seq.source or seq.key}: the target identity equals the source identity")
                chosen.append({"embedding": embedding, "reference": None, "similarity_to_source": similarity})
        # only an inversion reads the source's own identity
        own = self.identities_of(list(sequences)) if method == "invert" else [None] * n
        jobs = []
        for seq, seed, person, source in zip(sequences, seeds, chosen, own):
            covariates = source_covariates(seq)
            jobs.append(Regeneration(seq, source, person, covariates, covariates, seed, strength))
        frames = regenerate(self.pipeline, jobs, steps, guidance, identity_guidance, method, batch_size, cancel)
        return [
            seq.with_frames(
                made,
                subject=f"anon-{seq.subject}",
                source=f"anonymized {seq.source or seq.key}",
                extra={
                    **seq.extra,
                    "anonymize": {
                        "strength": strength,
                        "seed": seed,
                        "target_similarity_to_source": round(person["similarity_to_source"], 5),
                    },
                },
            )
            for seq, seed, person, made in zip(sequences, seeds, chosen, frames)
        ]


def _edit_record(strength: float, seed: int, method: str, target: dict, conditioner_guidance: float) -> dict:
    """What an edited clip's `extra["edit"]` says of how it was made (steering only when used)."""
    record = {"strength": strength, "seed": seed, "method": method, "to": target}
    if conditioner_guidance:
        record["conditioner_guidance"] = conditioner_guidance
    return record


def _per_clip(value, n: int, name: str) -> list:
    values = list(value) if isinstance(value, list | tuple | np.ndarray) else [value] * n
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries for {n} clips")
    return values


def _seeds(seeds, n: int) -> list[int]:
    if isinstance(seeds, int | np.integer):
        return [int(seeds) + i for i in range(n)]
    seeds = [int(s) for s in seeds]
    if len(seeds) != n:
        raise ValueError(f"{len(seeds)} seeds for {n} clips")
    return seeds


__all__ = [
    "MIN_FRAMES",
    "METHODS",
    "WINDOW",
    "GaitEditor",
    "Pseudonym",
    "source_covariates",
    "unusable_source",
]
