"""The sampling loop every pipeline call runs: guided prediction, denoising, DDIM inversion.

Generation, editing and anonymization all denoise here, with one guided step: the denoiser's
prediction under classifier-free guidance (`guided_prediction`), stepped by a diffusers scheduler
(`denoise_latents`). An edit or an anonymization first carries a clip's latents toward noise by
DDIM inversion (`invert_latents`), and re-denoises them on the same DDIM grid (`ddim_scheduler`).
The functions take the denoiser and the scheduler they run; `GaitGenerationPipeline` calls them
with its own.
"""

from __future__ import annotations

import torch
from diffusers import DDIMInverseScheduler, DDIMScheduler, SchedulerMixin

from generators.denoiser import CONDITION_NAMES, COVARIATE_CONDITIONS, IDENTITY_CONDITIONS, GaitLatentDenoiser

# inversion and re-denoising walk the same DDIM grid; DDIMInverseScheduler knows no "linspace"
# (the bundled sampler's spacing), so both use "leading"; neither clips the predicted clean latents
# to [-1, 1] (DDIM's default): latents have unit spread, 31% lie beyond ±1, and clipping them
# distorted every inversion (the anonymizer missed its targets with it, met them without)
DDIM_SPACING = "leading"


class GenerationCancelled(Exception):
    """Raised between denoising steps when the caller's `cancel()` says the work is no longer wanted."""


def check_cancel(cancel) -> None:
    """Raise `GenerationCancelled` when `cancel` (a callable, or None) returns True."""
    if cancel is not None and cancel():  # a callable that raises its own exception works too
        raise GenerationCancelled("generation cancelled")


def guided_prediction(
    denoiser: GaitLatentDenoiser,
    latents: torch.Tensor,
    t,
    conditions: dict,
    guidance: float,
    identity_guidance: float | None = None,
) -> torch.Tensor:
    """The denoiser's prediction under classifier-free guidance, one scale per condition group.

    `guidance` scales the covariates (view, clothing, carrying, speed), `identity_guidance`
    the identity (embedding and reference; None = `guidance`). With equal scales this is plain
    CFG against the unconditional model (two passes); with different ones, each group is
    guided against the prediction without it (three passes):
    `cond + (g_id − 1)(cond − no_identity) + (g_cov − 1)(cond − no_covariates)`.
    The motion signal is a structural condition, kept in every pass.
    """
    identity_guidance = guidance if identity_guidance is None else identity_guidance
    mask = conditions["condition_mask"]

    def without(names) -> dict:
        dropped = mask.clone()
        dropped[:, [CONDITION_NAMES.index(c) for c in names]] = False
        return dict(conditions, condition_mask=dropped)

    if guidance == identity_guidance:
        variants = [] if guidance == 1.0 else [(guidance, without(CONDITION_NAMES[:-1]))]
    else:
        variants = [
            (g, without(names))
            for g, names in ((identity_guidance, IDENTITY_CONDITIONS), (guidance, COVARIATE_CONDITIONS))
            if g != 1.0
        ]
    # a pass whose reference is masked out for every clip runs without the reference tokens:
    # masked keys get zero attention weight, so it is the same prediction at 2/3 of the cost
    column = CONDITION_NAMES.index("reference")
    passes: dict[bool, list[tuple[int, dict]]] = {True: [], False: []}
    for i, c in enumerate([conditions] + [v for _, v in variants]):
        short = c.get("reference") is not None and not bool(c["condition_mask"][:, column].any())
        passes[short].append((i, dict(c, reference=None) if short else c))
    preds: list = [None] * (1 + len(variants))
    for group in passes.values():
        if group:
            conds = [c for _, c in group]
            stacked = {k: None if v is None else torch.cat([c[k] for c in conds]) for k, v in conds[0].items()}
            out = denoiser(torch.cat([latents] * len(group)), t, **stacked).chunk(len(group))
            for (i, _), p in zip(group, out):
                preds[i] = p
    pred = preds[0]
    for (scale, _), other in zip(variants, preds[1:]):
        pred = pred + (scale - 1.0) * (preds[0] - other)
    return pred


@torch.no_grad()
def denoise_latents(
    denoiser: GaitLatentDenoiser,
    scheduler: SchedulerMixin,
    latents: torch.Tensor,
    conditions: dict,
    steps: int,
    guidance: float,
    generator: torch.Generator,
    strength: float = 1.0,
    identity_guidance: float | None = None,
    start: str = "noise",
    noise: torch.Tensor | None = None,
    cancel=None,
    steer=None,
) -> torch.Tensor:
    """Run `scheduler` from `latents` (`[b, t, d]`), each step guided (`guided_prediction`).

    Args:
        scheduler: the sampler, this call's own (`set_timesteps` and multistep state are changed).
        start: what `latents` are. "noise": pure noise (strength must be 1) or, with
            strength < 1, clean latents of a source clip, noised to the matching timestep
            first (img2img-style editing). "inverted": latents already carried to the
            `strength` point of the schedule by DDIM inversion (`invert_latents`); no noise is added.
        noise: the noise added to clean latents when strength < 1 (default: drawn from
            `generator`); given per clip, a batch of clips is the same as each alone.
        cancel: a callable checked before every step; True raises `GenerationCancelled`.
        steer: `steer(latents, t, prediction) -> prediction`, applied to every guided
            prediction before the scheduler steps (`identity_guidance.ConditionerGuidance.steer`).

    Returns:
        The denoised latents, `[b, t, d]`.
    """
    scheduler.set_timesteps(steps)
    timesteps = scheduler.timesteps
    if start not in ("noise", "inverted"):
        raise ValueError(f"start must be 'noise' or 'inverted', got {start!r}")
    if start == "inverted":
        timesteps = timesteps[steps - int(round(steps * strength)) :]
    elif strength < 1.0:
        first = steps - int(round(steps * strength))
        timesteps = timesteps[first:]
        if len(timesteps) == 0:
            return latents
        if noise is None:
            noise = torch.randn(latents.shape, generator=generator)
        latents = scheduler.add_noise(latents, noise, timesteps[:1])
        if hasattr(scheduler, "set_begin_index"):
            scheduler.set_begin_index(first)
    else:
        latents = latents * scheduler.init_noise_sigma
    for t in timesteps:
        check_cancel(cancel)
        # 1. predict, guided (conditional and unconditional passes in one batch)
        model_in = scheduler.scale_model_input(latents, t)
        pred = guided_prediction(denoiser, model_in, t, conditions, guidance, identity_guidance)
        if steer is not None:
            pred = steer(latents, t, pred)
        # 2. step: the scheduler turns the prediction into the next, less noisy latents
        latents = scheduler.step(pred, t, latents, generator=generator).prev_sample
    return latents


@torch.no_grad()
def invert_latents(
    denoiser: GaitLatentDenoiser,
    scheduler_config,
    latents: torch.Tensor,
    conditions: dict,
    steps: int,
    strength: float,
    cancel=None,
) -> torch.Tensor:
    """DDIM inversion of clean latents `[b, t, d]` over the first `strength` of the schedule.

    `scheduler_config` is the pipeline scheduler's config (its noise schedule). Deterministic, so
    a clip re-denoised from its inversion (`denoise_latents(..., start="inverted")` with
    `ddim_scheduler(scheduler_config)`) keeps its phase and cadence.
    """
    inverse = DDIMInverseScheduler.from_config(scheduler_config, timestep_spacing=DDIM_SPACING, clip_sample=False)
    inverse.set_timesteps(steps)
    for t in inverse.timesteps[: int(round(steps * strength))]:
        check_cancel(cancel)
        pred = denoiser(latents, t, **conditions)
        latents = inverse.step(pred, t, latents).prev_sample
    return latents


def ddim_scheduler(scheduler_config) -> DDIMScheduler:
    """The DDIM sampler on the grid `invert_latents` walks (what re-denoises an inversion)."""
    return DDIMScheduler.from_config(scheduler_config, timestep_spacing=DDIM_SPACING, clip_sample=False)


__all__ = [
    "DDIM_SPACING",
    "GenerationCancelled",
    "check_cancel",
    "ddim_scheduler",
    "denoise_latents",
    "guided_prediction",
    "invert_latents",
]
