"""Editing and anonymizing a given clip: its motion kept, its covariates or identity changed.

Both are the generation pipeline, started from the source's latents and denoised by the
pipeline's own guided step. The source clip's frame latents are carried toward noise — DDIM
inversion under the source's own conditions (deterministic, keeps phase and cadence), or plain
partial noising (strength 1: fresh noise) — up to `strength` of the schedule, then denoised
under the new conditions:

- `edit`: the same person (the source clip is the identity reference), new view / clothing /
  carrying;
- `anonymize_many`: the same covariates, the person replaced by a novel one far from the source
  and from every known person (`IdentityBank`): a first clip of that person is generated and
  becomes the reference. Clips given one `Pseudonym` become one new person (one identity, one
  first clip per view), so an anonymized dataset keeps who is who. Nothing here judges: what
  identity is left is measured by the judge in `studio.jobs.anonymization`, which retries
  the clips that still verify as their source.

With a denoiser that has a motion pathway, every window also walks on the source's own timing
(`gait_motion_signal`), so the body can be made anew without losing the walk.

Clips are processed in windows of `WINDOW` frames (what the denoiser was trained on).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gaitdata import GaitSequence
from gaitdata.silhouette_stats import gait_motion_signal
from generators.conditions import (
    Covariates,
    carrying_index,
    clothing_index,
    covariates_from_condition,
    parse_view,
    view_name,
)
from generators.identity_bank import IdentityBank
from generators.pipeline import (
    MIN_REFERENCE_FOREGROUND,
    GaitGenerationPipeline,
    frames_from_model_output,
    normalize_identity,
)
from generators.settings import ANONYMIZE, EDIT, METHODS

logger = logging.getLogger(__name__)

MIN_FRAMES = 16  # below ~one gait cycle there is no motion to keep
WINDOW = 30


def unusable_source(seq: GaitSequence) -> str | None:
    """Why a clip cannot be edited or anonymized (too short, or no body in its frames); None if it can."""
    if seq.num_frames < MIN_FRAMES:
        return f"too short: {seq.num_frames} frames, at least {MIN_FRAMES} are needed"
    foreground = float(seq.model_input().mean())
    if foreground < MIN_REFERENCE_FOREGROUND:
        return f"empty: no body in its frames (mean foreground {foreground:.4f})"
    return None


def source_covariates(seq: GaitSequence) -> dict:
    """The covariates a clip's metadata states (view, clothing, carrying), None where unknown."""
    out = {"view": None, "clothing": None, "carrying": None}
    try:
        out["view"] = parse_view(seq.view)
    except ValueError:
        pass
    try:
        cov = covariates_from_condition(seq.condition)
        out["clothing"], out["carrying"] = cov.clothing, cov.carrying
    except ValueError:
        pass
    return out


def _windows(length: int) -> list[tuple[slice, slice]]:
    """Cover `length` frames with WINDOW-frame windows (one shorter window when the clip is).

    Returns, per window, (the frames it denoises, the part of them it gives the output): windows
    overlap where `length` is no multiple of WINDOW, and each frame is taken from the window whose
    centre is nearest. Equal windows let the windows of many clips denoise as one batch.
    """
    if length <= WINDOW:
        return [(slice(0, length), slice(0, length))]
    count = -(-length // WINDOW)
    starts = np.linspace(0, length - WINDOW, count).round().astype(int)
    centres = starts + WINDOW / 2
    frame = np.arange(length)[:, None] + 0.5  # frame centres
    inside = (frame >= starts[None, :]) & (frame < starts[None, :] + WINDOW)
    owner = np.where(inside, np.abs(frame - centres[None, :]), np.inf).argmin(1)  # [length]
    out = []
    for k, a in enumerate(starts):
        mine = np.flatnonzero(owner == k)
        out.append((slice(a, a + WINDOW), slice(mine[0] - a, mine[-1] + 1 - a)))
    return out


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


@dataclass
class _Regeneration:
    """One clip to regenerate: its source, whom it becomes, under which covariates, how hard."""

    sequence: GaitSequence
    source_identity: dict | None  # None when nothing inverts the source (method "noise")
    target_identity: dict
    source_covariates: dict
    target_covariates: dict
    seed: int
    strength: float


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
        if not sequences:
            return []
        embeddings = self.pipeline.encode_identity(list(sequences))
        references = self.pipeline.encode_reference(list(sequences))
        return [
            {"embedding": embeddings[i : i + 1], "reference": None if references is None else references[i : i + 1]}
            for i in range(len(sequences))
        ]

    def _conditions(self, identity: dict, covariates: dict, motion: np.ndarray | None) -> dict:
        return self.pipeline.condition_tensors(
            1,
            identity["embedding"],
            covariates["view"],
            covariates["clothing"],
            covariates["carrying"],
            None,
            motion=motion,
            reference=identity["reference"],
        )

    @torch.no_grad()
    def _regenerate_many(
        self,
        jobs: list[_Regeneration],
        steps: int,
        guidance: float,
        identity_guidance: float | None,
        method: str,
        batch_size: int = 64,
        cancel=None,
    ) -> list[np.ndarray]:
        """Carry every window of every job's source toward noise and denoise it under the job's
        target conditions; windows of one length and strength denoise together, whatever clip
        they come from. Each job's noise comes from its own seed, so a clip comes out the same
        in any batch. Returns each job's frames, `uint8 [T, 64, 64]`.
        """
        pipe = self.pipeline
        windows = []  # (job index, output part, clean latents [1, w, d], target conds, source conds, noise)
        for j, job in enumerate(jobs):
            seq = job.sequence
            x = torch.from_numpy(seq.model_input())[:, None]  # [t, 1, 64, 44]
            motion = gait_motion_signal(seq.frames) if pipe.denoiser.config.motion_dim else None
            generator = torch.Generator().manual_seed(int(job.seed))
            if method == "noise" and job.strength >= 1.0:  # fresh noise: nothing reads the source's latents
                latents = torch.zeros(seq.num_frames, pipe.denoiser.config.latent_dim)
            else:
                latents = pipe.autoencoder.encode(x)  # [t, d]: frame by frame, so one call for all windows
            for frames, part in _windows(seq.num_frames):
                window_motion = None if motion is None else motion[frames]
                clean = latents[frames][None]  # [1, w, d]
                windows.append(
                    (
                        j,
                        part,
                        clean,
                        self._conditions(job.target_identity, job.target_covariates, window_motion),
                        # the source's own conditions only steer a DDIM inversion
                        None
                        if method == "noise"
                        else self._conditions(job.source_identity, job.source_covariates, window_motion),
                        torch.randn(clean.shape, generator=generator),
                    )
                )
        groups: dict[tuple, list[int]] = {}
        for i, (j, _, clean, target, _, _) in enumerate(windows):
            shape = tuple(None if v is None else tuple(v.shape[1:]) for v in target.values())
            groups.setdefault((clean.shape[1], jobs[j].strength, shape), []).append(i)
        masks: list = [None] * len(windows)
        for (_, strength, _), members in groups.items():
            for start in range(0, len(members), batch_size):
                chunk = members[start : start + batch_size]

                def stacked(k: int, chunk=chunk) -> dict:
                    conds = [windows[i][k] for i in chunk]
                    return {
                        key: None if v is None else torch.cat([c[key] for c in conds]) for key, v in conds[0].items()
                    }

                clean = torch.cat([windows[i][2] for i in chunk])
                noise = torch.cat([windows[i][5] for i in chunk])
                generator = torch.Generator().manual_seed(0)  # unused: the noise is drawn per job above
                guided = (guidance, generator, strength, identity_guidance)
                if method == "noise":
                    start_latents = noise if strength >= 1.0 else clean
                    out = pipe.denoise_latents(start_latents, stacked(3), steps, *guided, noise=noise, cancel=cancel)
                else:
                    noisy = pipe.invert_latents(clean, stacked(4), steps, strength, cancel=cancel)
                    out = pipe.denoise_latents(
                        noisy,
                        stacked(3),
                        steps,
                        *guided,
                        scheduler=pipe.ddim_scheduler(),
                        start="inverted",
                        cancel=cancel,
                    )
                for i, mask in zip(chunk, pipe.decode_clips(out)):
                    masks[i] = mask
        per_job: list[list[np.ndarray]] = [[] for _ in jobs]
        for (j, part, *_), mask in zip(windows, masks):
            per_job[j].append(mask[part])
        return [frames_from_model_output(np.concatenate(parts)) for parts in per_job]

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
            jobs.append((i, _Regeneration(sequences[i], identity, identity, source, target, seeds[i], strength)))
        frames = self._regenerate_many(
            [job for _, job in jobs], steps, guidance, identity_guidance, method, batch_size, cancel
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
                extra={**seq.extra, "edit": {"strength": strength, "seed": job.seed, "method": method, "to": target}},
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
        if self.bank is None:
            raise ValueError("anonymize needs a target identity or an identity bank to make one")
        seeds = [int(s) for s in seeds]
        if len(seeds) != len(sequences) or (people is not None and len(people) != len(sequences)):
            raise ValueError(f"{len(sequences)} clips need as many seeds and people")
        anchored_only = people is not None and all(p.anchor is not None for p in people)
        # the conditioner is the costliest reader here: with anchors, a person's clips are measured
        # against their anchor (the one clip the new identity was chosen far from)
        sources = None if anchored_only else self.pipeline.encode_identity(list(sequences))  # [N, E]
        # one group per new person: (its seed, the embedding it keeps away from, its clips)
        groups: dict = {}
        for i in range(len(seeds)):
            key = ("clip", i) if people is None else ("person", people[i].seed)
            groups.setdefault(key, []).append(i)
        anchored = [k for k, m in groups.items() if k[0] == "person" and people[m[0]].anchor is not None]
        anchors = [people[groups[k][0]].anchor for k in anchored]
        anchor_of = dict(zip(anchored, self.pipeline.encode_identity(anchors))) if anchors else {}
        identity_of_clip = [None] * len(sequences)
        for key, members in groups.items():
            if key[0] == "clip":
                seed, away = seeds[members[0]], sources[members]
            else:
                seed = key[1]
                away = anchor_of[key][None] if key in anchor_of else sources[members].mean(0, keepdim=True)
            away = normalize_identity(away).numpy()
            candidates, _ = self.bank.novel(8, seed=seed, exclude=away)
            chosen = normalize_identity(candidates[self.bank.farthest(away, candidates)])
            for i in members:
                identity_of_clip[i] = (key, chosen)
        if self.pipeline.denoiser.config.reference_frames:
            views = [c["view"] if c["view"] is not None else 90.0 for c in map(source_covariates, sequences)]
            firsts: dict = {}  # (person, view) → index of its first clip in the batch drawn below
            draws = []  # (embedding, view, noise seed)
            for i, (key, chosen) in enumerate(identity_of_clip):
                if (key, views[i]) not in firsts:
                    firsts[(key, views[i])] = len(draws)
                    noise_seed = seeds[i] if key[0] == "clip" else _first_clip_seed(key[1], views[i])
                    draws.append((chosen, views[i], noise_seed))
            dim = self.pipeline.denoiser.config.latent_dim
            noise = torch.cat(
                [torch.randn((1, WINDOW, dim), generator=torch.Generator().manual_seed(s)) for _, _, s in draws]
            )
            drawn = self.pipeline.novel_person(
                torch.cat([e for e, _, _ in draws]).numpy(),
                0,
                steps,
                guidance,
                [v for _, v, _ in draws],
                latents=noise,
                cancel=cancel,
            )
            made = self.identities_of(drawn)
            targets = [dict(made[firsts[(key, views[i])]]) for i, (key, _) in enumerate(identity_of_clip)]
        else:
            targets = [{"embedding": chosen, "reference": None} for _, chosen in identity_of_clip]
        if sources is None:
            sources = torch.cat([anchor_of[identity_of_clip[i][0]][None] for i in range(len(sequences))])
        for target, source in zip(targets, sources):
            target["similarity_to_source"] = float(target["embedding"][0] @ source)
        return targets

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
            jobs.append(_Regeneration(seq, source, person, covariates, covariates, seed, strength))
        frames = self._regenerate_many(jobs, steps, guidance, identity_guidance, method, batch_size, cancel)
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


def _first_clip_seed(person_seed: int, view: float) -> int:
    """The starting noise of a pseudonym's first clip in one view: its seed and the view alone."""
    entropy = [int(person_seed) % 2**63, int(round(float(view) * 10)) % 3600]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


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
