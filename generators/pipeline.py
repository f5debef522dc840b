"""`GaitGenerationPipeline`: conditions in, silhouette clips out.

Wires the frame autoencoder, the latent denoiser and a diffusers scheduler together, in the
manner of diffusers' pipelines: the models know nothing of sampling, the scheduler nothing of
networks. The pipeline turns what a user asks for (an identity as clips or embeddings, view,
clothing, carrying, speed, motion) into the denoiser's condition tensors, draws the noise, runs
the guided sampling loop (`generators.sampling`, which editing and anonymizing run too) and
decodes the clips. A pipeline is a folder (`autoencoder/`, `denoiser/`, `scheduler/`, each written
by its own `save_pretrained`; `generators.pipeline_folder`), so swapping DDIM for DPM-Solver is
`pipeline.scheduler = DPMSolverMultistepScheduler.from_config(pipeline.scheduler.config)`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from diffusers import DDIMScheduler, SchedulerMixin

from gaitdata import GaitSequence
from gaitdata.sequence import SIDE_COLUMNS
from gaitdata.silhouette_stats import gait_motion_signal
from generators import sampling
from generators.autoencoder import SilhouetteAutoencoder
from generators.conditions import (
    Covariates,
    carrying_index,
    clothing_index,
    parse_view,
    source_covariates,
    view_name,
)
from generators.denoiser import CONDITION_NAMES, GaitLatentDenoiser
from generators.identity_bank import normalize_identity
from generators.identity_guidance import ConditionerGuidance, check_scale
from generators.identity_loss import ConditionerIdentityLoss
from generators.identity_selection import (
    candidate_seed,
    check_candidates,
    identity_similarity,
    nearest_known_similarity,
)
from generators.pipeline_folder import SCHEDULERS, load_pipeline_folder, save_pipeline_folder
from generators.sampling import DDIM_SPACING, GenerationCancelled
from generators.settings import GENERATION_MOVES, SHIFT_SCALE

MAX_SHIFT_SCALE = 4.0  # twice the default move; beyond it the target is nobody in particular
MIN_REFERENCE_FRAMES = 10  # under ~half a gait cycle a clip shows too little of the body's motion
MIN_REFERENCE_FOREGROUND = 0.02  # mean foreground of a reference's frames; below it there is no body


def frames_from_model_output(masks: np.ndarray) -> np.ndarray:
    """`float [T, 64, 44]` in [0, 1] → `uint8 [T, 64, 64]` as OpenGait stores frames (10 zero columns each side)."""
    frames = np.clip(np.rint(masks * 255.0), 0, 255).astype(np.uint8)
    return np.pad(frames, ((0, 0), (0, 0), (SIDE_COLUMNS, SIDE_COLUMNS)))


class GaitGenerationPipeline:
    """Generate silhouette clips from an identity and covariates.

    Args:
        autoencoder: the per-frame `SilhouetteAutoencoder`.
        denoiser: the `GaitLatentDenoiser`.
        scheduler: a diffusers scheduler (DDIM or DPM-Solver for sampling).
        conditioner: optional recognizer with `embed(list[GaitSequence]) -> np.ndarray`, needed
            only when identities are given as clips rather than embeddings.
        identity_bank: optional `IdentityBank` of the identities the generator was trained on
            (the source of novel identities and anonymization targets); saved with the folder.
    """

    def __init__(
        self,
        autoencoder: SilhouetteAutoencoder,
        denoiser: GaitLatentDenoiser,
        scheduler: SchedulerMixin,
        conditioner=None,
        identity_bank=None,
    ):
        # channels-last once, here: oneDNN convs run 2x faster in it, and a format switched on the
        # first decode would make every encode before it ~1e-8 off from those after
        self.autoencoder = autoencoder.eval().to(memory_format=torch.channels_last)
        self.denoiser = denoiser.eval()
        self.scheduler = scheduler
        self.name_or_path = None  # the folder it was loaded from (jobs record a non-bundled one)
        self.conditioner = conditioner
        self.identity_bank = identity_bank

    # ---- folders -------------------------------------------------------------------------
    def save_pretrained(self, folder: str | os.PathLike, half: bool = False) -> None:
        """Write the pipeline folder; `half` stores weights in float16 (half the size; loads as float32)."""
        parts = (self.autoencoder, self.denoiser, self.scheduler, self.identity_bank)
        save_pipeline_folder(folder, *parts, half=half)

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike, conditioner=None, scheduler: str | None = None):
        """Load a pipeline folder; `scheduler` ('ddim' or 'dpm') overrides the saved one.

        Raises:
            GaitDataError: the folder or one of its parts is missing or corrupt.
        """
        autoencoder, denoiser, sched, bank = load_pipeline_folder(folder, scheduler)
        pipeline = cls(autoencoder, denoiser, sched, conditioner, bank)
        pipeline.name_or_path = str(folder)
        return pipeline

    # ---- conditions ----------------------------------------------------------------------
    def encode_identity(self, identity) -> torch.Tensor | None:
        """Identity given as clip(s) or embedding(s) → normalised `[N, E]` (None stays None)."""
        if identity is None:
            return None
        if isinstance(identity, GaitSequence):
            identity = [identity]
        if isinstance(identity, list | tuple) and identity and isinstance(identity[0], GaitSequence):
            if self.conditioner is None:
                raise ValueError("identity given as a clip, but the pipeline has no conditioner to embed it")
            for clip in identity:
                self._check_reference(clip)
            identity = self.conditioner.embed(list(identity))
        embedding = normalize_identity(identity)
        expected = self.denoiser.config.identity_dim
        if embedding.shape[1] != expected:
            raise ValueError(f"identity embedding has {embedding.shape[1]} numbers, the denoiser expects {expected}")
        return embedding

    def identity_statistics(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The denoiser's per-dimension `(mean, scale)` of its identity input (`IdentityBank.novel`'s
        `standardization`); None when it takes embeddings as they are."""
        if not getattr(self.denoiser.config, "standardize_identity", False):
            return None
        return self.denoiser.identity_mean.float().numpy(), self.denoiser.identity_scale.float().numpy()

    @staticmethod
    def _reference_covariates(identity, n: int) -> list[dict | None]:
        """The covariates each of `n` clips' identity was read under: its reference clip's
        metadata (`source_covariates`), None for an identity given as an embedding."""
        clips = [identity] * n if isinstance(identity, GaitSequence) else identity
        if not (isinstance(clips, list | tuple) and len(clips) == n):
            return [None] * n
        return [source_covariates(c) if isinstance(c, GaitSequence) else None for c in clips]

    @staticmethod
    def _check_reference(clip: GaitSequence) -> None:
        name = clip.source or clip.key
        if clip.num_frames < MIN_REFERENCE_FRAMES:
            raise ValueError(
                f"{name}: a reference clip of {clip.num_frames} frames is too short; at least "
                f"{MIN_REFERENCE_FRAMES} are needed to show the person"
            )
        foreground = float(clip.model_input().mean())
        if foreground < MIN_REFERENCE_FOREGROUND:
            raise ValueError(f"{name}: the reference clip's frames are empty (mean foreground {foreground:.4f})")

    @torch.no_grad()
    def encode_reference(self, identity) -> torch.Tensor | None:
        """Reference tokens for the denoiser: `[N, reference_frames, latent_dim]` frame latents of
        each identity clip (its central frames at the trained stride, looped if short); None when
        the identity is not given as clips or the denoiser has no reference pathway."""
        r = self.denoiser.config.reference_frames
        if not r or identity is None:
            return None
        clips = [identity] if isinstance(identity, GaitSequence) else identity
        if not (isinstance(clips, list | tuple) and clips and isinstance(clips[0], GaitSequence)):
            return None
        stride = self.denoiser.config.reference_stride
        picked = []
        for clip in clips:
            self._check_reference(clip)
            frames = clip.model_input()
            span = r * stride
            if len(frames) < span:
                frames = np.concatenate([frames] * (span // len(frames) + 1))
            start = (len(frames) - span) // 2
            picked.append(frames[start : start + span : stride])
        # every clip's frames in one encoder call: [N * r, 1, 64, 44] → [N, r, d]
        frames = torch.from_numpy(np.ascontiguousarray(np.concatenate(picked)))[:, None]
        return self.autoencoder.encode(frames).view(len(clips), r, -1)

    def encode_motion(self, motion, n: int) -> torch.Tensor | None:
        """Motion given as clip(s) (their timing is read) or signal(s) `[T, m]` → `[n, T, m]`; None stays None."""
        if motion is None or not self.denoiser.config.motion_dim:
            return None
        items = motion if isinstance(motion, list | tuple) else [motion]
        signals = [
            gait_motion_signal(m.frames) if isinstance(m, GaitSequence) else np.asarray(m, np.float32) for m in items
        ]
        dim = self.denoiser.config.motion_dim
        for sig in signals:
            if sig.ndim != 2 or sig.shape[1] != dim:
                raise ValueError(f"a motion signal must be [frames, {dim}], got {list(sig.shape)}")
        if len({len(sig) for sig in signals}) != 1:
            raise ValueError("motion signals of one call must have one length (the clips' frame count)")
        out = torch.from_numpy(np.stack(signals)).float()
        if out.shape[0] not in (1, n):
            raise ValueError(f"{out.shape[0]} motion signals for {n} clips")
        return out.expand(n, -1, -1)

    @staticmethod
    def _broadcast(value, n: int, name: str) -> list:
        values = list(value) if isinstance(value, list | tuple | np.ndarray) else [value] * n
        if len(values) == 1:
            values = values * n
        if len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries for {n} clips")
        return values

    def condition_tensors(self, n, identity, view, clothing, carrying, speed, motion=None, reference=None) -> dict:
        """Validated condition values (one or one per clip) → the denoiser's condition tensors for `n` clips.

        An identity given as clips also gives the reference tokens (for a denoiser with that
        pathway); one given as embeddings leaves the reference out unless `reference`
        (`encode_reference`'s tokens, computed once by a caller that conditions many windows) is given.
        """
        mask = torch.ones(n, len(CONDITION_NAMES), dtype=torch.bool)
        ident = self.encode_identity(identity)
        if reference is None:
            reference = self.encode_reference(identity)
        if ident is not None:
            if ident.shape[0] not in (1, n):
                raise ValueError(f"{ident.shape[0]} identities for {n} clips")
            ident = ident.expand(n, -1)
        if reference is not None:
            reference = reference.expand(n, -1, -1)
        motion_t = self.encode_motion(motion, n)
        mask[:, CONDITION_NAMES.index("reference")] = reference is not None
        mask[:, CONDITION_NAMES.index("motion")] = motion_t is not None
        views = self._broadcast(view, n, "view")
        cloth = self._broadcast(clothing, n, "clothing")
        carry = self._broadcast(carrying, n, "carrying")
        speeds = self._broadcast(speed, n, "speed")
        for column, values in ((1, views), (2, cloth), (3, carry), (4, speeds)):
            mask[:, column] = torch.tensor([v is not None for v in values])
        view_t = torch.tensor([parse_view(v) if v is not None else 0.0 for v in views])
        cloth_t = torch.tensor([clothing_index(v) if v is not None else 0 for v in cloth])
        carry_t = torch.tensor([carrying_index(v) if v is not None else 0 for v in carry])
        speed_t = torch.tensor([float(v) if v is not None else 1.0 for v in speeds])
        if (speed_t <= 0).any():
            raise ValueError("speed must be positive (1.0 = normal pace)")
        if ident is None:
            mask[:, 0] = False
        return {
            "identity": ident,
            "view_deg": view_t,
            "clothing": cloth_t,
            "carrying": carry_t,
            "speed": speed_t,
            "condition_mask": mask,
            "reference": reference,
            "motion": motion_t,
        }

    def person_noise(self, num_clips: int, num_frames: int = 30, seed: int = 0, share: float = 1.0) -> torch.Tensor:
        """Starting noise for the clips of one generated person: `share` of its variance is
        common to every clip, the rest each clip's own (still unit-variance Gaussian noise).

        The bundled denoiser carries a person's build and gait mostly through its starting
        noise rather than through the identity embedding, so clips of one novel person drawn
        from shared noise are one person to the judge (measured in `studio eval-generator`).

        Returns:
            `float [num_clips, num_frames, latent_dim]`, for the pipeline's `latents=`.
        """
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be within 0–1, got {share}")
        generator = torch.Generator().manual_seed(int(seed))
        dim = self.denoiser.config.latent_dim
        common = torch.randn((1, num_frames, dim), generator=generator)
        own = torch.randn((num_clips, num_frames, dim), generator=generator)
        return share**0.5 * common + (1.0 - share) ** 0.5 * own

    def novel_person(
        self,
        embedding,
        seed: int = 0,
        steps: int = 20,
        guidance: float = 2.0,
        view=90.0,
        latents=None,
        cancel=None,
        candidates: int = 1,
        conditioner_guidance: float = 0.0,
        known=None,
    ):
        """What to pass as `identity` to generate a new person consistently, given their embedding
        `[E]` (or several people's, `[N, E]`: a list comes back, drawn in one batch).

        A denoiser with a reference pathway is drawn ONE first clip of the person from the
        embedding alone (normal clothes, nothing carried, side view by default); that clip is
        returned, to be the reference of all their other clips, so every clip of the person
        reads the same body through the pathway that carries real people. A denoiser without
        one gets the embedding back. `view` is one angle or one per person; `latents` the first
        clips' starting noise (`[N, 30, latent_dim]`, default: drawn from `seed`); `cancel` and
        `conditioner_guidance` as in `__call__`.

        `candidates` first clips are drawn per person. With known people — the identity bank
        (the people the generator trained on) and `known` (more embeddings `[M, E]`, e.g. a
        user's own dataset) — the one the conditioner reads FARTHEST from all of them is kept,
        so a new person is checked distinct before their other clips copy the first one; its
        similarity is in `extra["nearest_known_similarity"]`. With nobody known, the candidate
        closest to the embedding is kept (as `__call__` chooses). One candidate is the plain call.
        """
        if not self.denoiser.config.reference_frames:
            return embedding
        batch = np.asarray(embedding).ndim == 2
        embeddings = normalize_identity(embedding)
        candidates = check_candidates(candidates)
        known_people = self._known_people(known)
        first = dict(
            identity=embeddings,
            view=view,
            clothing="normal",
            carrying="none",
            num_clips=len(embeddings),
            steps=steps,
            guidance=guidance,
            subject="novel",
            cancel=cancel,
            conditioner_guidance=conditioner_guidance,
        )
        if known_people is None or candidates == 1:
            clips = self(**first, seed=seed, latents=latents, candidates=candidates)
            return clips if batch else clips[0]
        if self.conditioner is None:
            raise ValueError(f"candidates={candidates} needs the pipeline's conditioner to read the first clips")
        # candidate 0 is the plain call's first clip; the others from seeds of their own
        drawn = [self(**first, seed=seed, latents=latents)]
        drawn += [self(**first, seed=candidate_seed(seed, k)) for k in range(1, candidates)]
        nearest = torch.stack(
            [nearest_known_similarity(self.conditioner.embed(clips), known_people, self.denoiser) for clips in drawn]
        )  # [candidates, N]
        best = nearest.argmin(0).tolist()
        clips = [drawn[k][i] for i, k in enumerate(best)]
        for i, clip in enumerate(clips):
            clip.extra.update(
                candidates=candidates,
                candidate=int(best[i]),
                nearest_known_similarity=round(float(nearest[best[i], i]), 4),
            )
        return clips if batch else clips[0]

    def _known_people(self, known) -> torch.Tensor | None:
        """Everyone a new person must differ from: the identity bank's people and `known`
        (`[M, E]`), normalised; None when there is nobody."""
        parts = [] if self.identity_bank is None else [normalize_identity(self.identity_bank.embeddings)]
        if known is not None and len(known):
            parts.append(normalize_identity(known))
        if not parts:
            return None
        expected = self.denoiser.config.identity_dim
        for part in parts:
            if part.shape[1] != expected:
                raise ValueError(f"known people have {part.shape[1]} numbers each, the denoiser expects {expected}")
        return torch.cat(parts)

    # ---- sampling ------------------------------------------------------------------------
    def guided_prediction(
        self, latents: torch.Tensor, t, conditions: dict, guidance: float, identity_guidance: float | None = None
    ) -> torch.Tensor:
        """The denoiser's prediction under classifier-free guidance (`sampling.guided_prediction`)."""
        return sampling.guided_prediction(self.denoiser, latents, t, conditions, guidance, identity_guidance)

    def invert_latents(
        self, latents: torch.Tensor, conditions: dict, steps: int, strength: float, cancel=None
    ) -> torch.Tensor:
        """DDIM inversion of clean latents `[b, t, d]` over the first `strength` of the schedule
        (`sampling.invert_latents`): re-denoised with `denoise_latents(..., start="inverted",
        scheduler=self.ddim_scheduler())`, a clip keeps its phase and cadence."""
        return sampling.invert_latents(
            self.denoiser, self.scheduler.config, latents, conditions, steps, strength, cancel
        )

    def ddim_scheduler(self) -> DDIMScheduler:
        """The DDIM sampler on the grid `invert_latents` walks (what re-denoises an inversion)."""
        return sampling.ddim_scheduler(self.scheduler.config)

    def denoise_latents(
        self,
        latents: torch.Tensor,
        conditions: dict,
        steps: int,
        guidance: float,
        generator: torch.Generator,
        strength: float = 1.0,
        identity_guidance: float | None = None,
        scheduler: SchedulerMixin | None = None,
        start: str = "noise",
        noise: torch.Tensor | None = None,
        cancel=None,
        steer=None,
    ) -> torch.Tensor:
        """Run the sampler from `latents` (`[b, t, d]`), guided: `sampling.denoise_latents` (which
        says what `start`, `noise`, `cancel` and `steer` are) with `scheduler` (default: a copy of the pipeline's)."""
        # a scheduler of this call's own: `set_timesteps` and multistep state must not be shared
        # between concurrent callers of one pipeline (e.g. app requests)
        scheduler = scheduler or type(self.scheduler).from_config(self.scheduler.config)
        guided = (steps, guidance, generator, strength, identity_guidance)
        return sampling.denoise_latents(
            self.denoiser, scheduler, latents, conditions, *guided, start=start, noise=noise, cancel=cancel, steer=steer
        )

    def identity_steering(
        self,
        targets: torch.Tensor | None,
        scale: float,
        shifts: torch.Tensor | None = None,
        shift_scale: float = SHIFT_SCALE,
    ) -> ConditionerGuidance | None:
        """Conditioner guidance toward `targets` (`[b, E]` unit-norm identities, each moved by
        `shift_scale` × `shifts` when given: `covariate_shifts`) for one sampling call
        (`generators.identity_guidance`; None when `scale` is 0): pass its `steer` to
        `denoise_latents`. Needs the pipeline's conditioner as a torch module."""
        if check_scale(scale) == 0.0:
            return None
        if isinstance(shift_scale, bool) or not 0.0 <= float(shift_scale) <= MAX_SHIFT_SCALE:
            raise ValueError(f"covariate_shift must be within 0–{MAX_SHIFT_SCALE:g}, got {shift_scale!r}")
        if targets is None:
            raise ValueError(f"conditioner_guidance={scale} steers toward an identity, but no identity was given")
        if not isinstance(self.conditioner, torch.nn.Module):
            raise ValueError(f"conditioner_guidance={scale} needs the pipeline's conditioner (a torch recognizer)")
        loss = ConditionerIdentityLoss.from_denoiser(self.autoencoder, self.conditioner, self.denoiser)
        schedule = self.scheduler.alphas_cumprod  # every sampler of the folder shares this noise schedule
        prediction_type = self.scheduler.config.prediction_type
        return ConditionerGuidance(
            loss, targets, schedule, prediction_type, scale, shifts=shifts, shift_scale=shift_scale
        )

    def covariate_shifts(
        self,
        references: Sequence[dict | None],
        targets: Sequence[dict],
        moving: Sequence[str] = ("view", "clothing", "carrying"),
    ) -> torch.Tensor | None:
        """`[b, E]` moves of identities read under each `references` covariates to the clip's
        `targets` covariates (`{"view", "clothing", "carrying"}`; a None reference: no move), from
        the identity bank's covariate means; None when the bank has none. Only the covariates in
        `moving` move the target: the others are held at the reference's."""
        means = None if self.identity_bank is None else self.identity_bank.covariate_means
        if means is None or all(r is None for r in references):
            return None
        size = self.denoiser.config.identity_dim
        stored = len(next(iter(means.means.values())))
        if stored != size:
            raise ValueError(f"the identity bank's covariate means have {stored} numbers, the denoiser expects {size}")
        targets = [{k: (v if k in moving else None) for k, v in t.items()} for t in targets]  # None: the reference's
        rows = [np.zeros(size, np.float32) if r is None else means.shift(r, t) for r, t in zip(references, targets)]
        return torch.from_numpy(np.stack(rows))

    @torch.no_grad()
    def decode_clips(self, latents: torch.Tensor) -> np.ndarray:
        """`[b, t, d]` latents → `float32 [b, t, 64, 44]` masks in [0, 1]."""
        b, t, d = latents.shape
        masks = self.autoencoder.decode(latents.reshape(b * t, d))  # [b*t, 1, 64, 44]
        return masks.reshape(b, t, *masks.shape[-2:]).float().numpy()  # float: bf16 autocast has no numpy type

    @torch.no_grad()
    def encode_clip(self, sequence: GaitSequence) -> torch.Tensor:
        """A clip → its frame latents `[t, d]`."""
        frames = torch.from_numpy(sequence.model_input())[:, None]  # [t, 1, 64, 44]
        return self.autoencoder.encode(frames)

    def __call__(
        self,
        identity=None,
        view: float | str | Sequence | None = None,
        clothing: str | Sequence | None = None,
        carrying: str | Sequence | None = None,
        speed: float | Sequence | None = None,
        num_clips: int = 1,
        num_frames: int = 30,
        steps: int = 20,
        guidance: float = 2.0,
        seed: int = 0,
        batch_size: int = 64,
        subject: str | Sequence[str] = "generated",
        condition_index: int = 1,
        latents: torch.Tensor | None = None,
        motion=None,
        identity_guidance: float | None = None,
        cancel=None,
        candidates: int = 1,
        conditioner_guidance: float = 0.0,
    ) -> list[GaitSequence]:
        """Generate `num_clips` clips.

        Args:
            identity: None (any person), a `GaitSequence` of the person — embedded by the
                conditioner and, for a denoiser with a reference pathway, read frame by frame
                (at least `MIN_REFERENCE_FRAMES` non-empty frames) —, or an embedding `[E]` (a
                person known only by embedding: no reference); or one per clip (a list / `[num_clips, E]`).
            view: degrees (0 = walking toward the camera, 90 = side, 180 = away; any angle
                0–360) or a dataset name like `'090'`; None leaves it free. One value or one per clip.
            clothing: `'normal'` or `'coat'` (None = free). One value or one per clip.
            carrying: `'none'` or `'bag'` (None = free). One value or one per clip.
            speed: walking pace relative to normal (1.0); None = free.
            num_clips: how many clips.
            num_frames: frames per clip (1–128; trained on 30).
            steps: sampler steps (> 0).
            guidance: classifier-free guidance scale of the covariates (1 = none; ~2 strengthens them).
            identity_guidance: the identity's own guidance scale (None = `guidance`).
            motion: the timing to walk on: a `GaitSequence` (its `gait_motion_signal`) or a
                signal `float [num_frames, 3]`, or one per clip; None leaves it free. It fixes
                `num_frames` to its length. Ignored by a denoiser without a motion pathway.
            seed: all randomness comes from `torch.Generator().manual_seed(seed)`.
            batch_size: clips denoised together (memory vs speed).
            subject: subject id written into each output sequence's metadata.
            condition_index: the `-NN` of the condition name written into the metadata.
            latents: the starting noise `[num_clips, num_frames, latent_dim]` (default: drawn from
                `seed`), e.g. noise shared between the clips of one novel person.
            cancel: a callable checked before every denoising step; when it returns True the
                call stops with `GenerationCancelled` (e.g. the browser that asked has gone).
            candidates: draw this many candidates of each clip and keep the one the conditioner
                reads as closest to `identity` (`generators.identity_selection`; 1 = no choice,
                exactly the plain call's clips; the first candidate is always those). Costs one
                generation and one conditioner pass per candidate; needs an identity.
            conditioner_guidance: steer every lower-noise step toward `identity` along the
                conditioner's gradient (`generators.identity_guidance`; 0 = off, 0.1–0.3 tested,
                at most 2). Costs a decode and a conditioner forward and backward pass per
                steered step; needs an identity. Combines with `candidates`.

        Returns:
            `num_clips` `GaitSequence`s of `uint8 [num_frames, 64, 64]` (OpenGait storage size),
            with view / condition names derived from the requested covariates.
        """
        # 0. check the arguments
        if not isinstance(steps, int) or steps <= 0:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if not 1 <= num_frames <= 128:
            raise ValueError(f"num_frames must be within 1–128, got {num_frames}")
        for name, scale in (("guidance", guidance), ("identity_guidance", identity_guidance)):
            if scale is not None and not 0.0 <= float(scale) <= 20.0:
                raise ValueError(f"{name} must be within 0–20, got {scale}")
        if num_clips <= 0:
            raise ValueError(f"num_clips must be positive, got {num_clips}")
        candidates = check_candidates(candidates)
        conditioner_guidance = check_scale(conditioner_guidance)
        conditions = self.condition_tensors(num_clips, identity, view, clothing, carrying, speed, motion)
        if candidates > 1 and conditions["identity"] is None:
            raise ValueError(f"candidates={candidates} chooses by identity, but no identity was given")
        if candidates > 1 and self.conditioner is None:
            raise ValueError(f"candidates={candidates} needs the pipeline's conditioner to read the candidates")
        if conditions["motion"] is not None:
            num_frames = conditions["motion"].shape[1]
        subjects = self._broadcast(subject, num_clips, "subject")
        views, cloth, carry = (
            self._broadcast(v, num_clips, n) for v, n in ((view, "view"), (clothing, "c"), (carrying, "c"))
        )
        shifts = None
        if conditioner_guidance:  # steer toward the person under this call's covariates, not the reference's
            targets = [{"view": v, "clothing": c, "carrying": b} for v, c, b in zip(views, cloth, carry)]
            references = self._reference_covariates(identity, num_clips)
            shifts = self.covariate_shifts(references, targets, moving=GENERATION_MOVES)
        generator = torch.Generator().manual_seed(int(seed))
        # 1. draw all the noise first, so a clip does not depend on the batch size
        shape = (num_clips, num_frames, self.denoiser.config.latent_dim)
        if latents is None:
            latents = torch.randn(shape, generator=generator)
        elif tuple(latents.shape) != shape:
            raise ValueError(f"latents must have shape {list(shape)}, got {list(latents.shape)}")
        # the other candidates' noise from seeds of their own: the first candidate is the plain call
        others = [
            torch.randn(shape, generator=torch.Generator().manual_seed(candidate_seed(seed, k)))
            for k in range(1, candidates)
        ]
        masks, similarity, chosen = [], [], []
        for start in range(0, num_clips, batch_size):
            part = slice(start, start + batch_size)
            conds = {k: None if v is None else v[part] for k, v in conditions.items()}
            # 2. denoise, 3. decode (each candidate), 4. keep the candidate closest to the identity
            drawn = []
            for noise in [latents, *others]:
                # a steering of its own per candidate: it counts its steps
                steering = self.identity_steering(
                    conds["identity"], conditioner_guidance, None if shifts is None else shifts[part]
                )
                guided = (steps, guidance, generator, 1.0, identity_guidance)
                steer = None if steering is None else steering.steer
                drawn.append(
                    self.decode_clips(self.denoise_latents(noise[part], conds, *guided, cancel=cancel, steer=steer))
                )
            if candidates == 1:
                masks.append(drawn[0])
                continue
            scores = torch.stack(
                [
                    identity_similarity(
                        self.conditioner.embed([GaitSequence(frames_from_model_output(m)) for m in clips]),
                        conds["identity"],
                        self.denoiser,
                    )
                    for clips in drawn
                ]
            )  # [candidates, b]
            best = scores.argmax(0).numpy()
            masks.append(np.stack([drawn[k][i] for i, k in enumerate(best)]))
            similarity.extend(scores.max(0).values.tolist())
            chosen.extend(best.tolist())
        masks = np.concatenate(masks)
        # 5. wrap as sequences with the metadata a dataset writer needs
        out = []
        for i in range(num_clips):
            cov = Covariates(
                view_deg=None if views[i] is None else parse_view(views[i]),
                clothing=None if cloth[i] is None else ("coat" if clothing_index(cloth[i]) else "normal"),
                carrying=None if carry[i] is None else ("bag" if carrying_index(carry[i]) else "none"),
            )
            out.append(
                GaitSequence(
                    frames_from_model_output(masks[i]),
                    subject=str(subjects[i]),
                    condition=f"{cov.condition_type()}-{condition_index:02d}",
                    view="unk" if cov.view_deg is None else view_name(cov.view_deg),
                    source="generated",
                    fps=25.0,
                    extra={"seed": int(seed), "steps": steps, "guidance": guidance, "clip_index": i},
                )
            )
            if conditioner_guidance:
                out[-1].extra["conditioner_guidance"] = conditioner_guidance
            if candidates > 1:
                out[-1].extra.update(
                    candidates=candidates, candidate=int(chosen[i]), identity_similarity=round(similarity[i], 4)
                )
        return out


__all__ = [
    "DDIM_SPACING",
    "MIN_REFERENCE_FOREGROUND",
    "MIN_REFERENCE_FRAMES",
    "SCHEDULERS",
    "GaitGenerationPipeline",
    "GenerationCancelled",
    "frames_from_model_output",
    "normalize_identity",
]
