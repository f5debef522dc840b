"""Regenerating a clip from its own latents: the recipe editing and anonymizing share.

A source clip's frame latents are carried toward noise — DDIM inversion under the source's own
conditions (deterministic, keeps phase and cadence), or plain partial noising (strength 1: fresh
noise) — up to `strength` of the schedule, then denoised under the target's conditions by the
pipeline's guided sampling loop (`generators.sampling`, the one generation runs). With a denoiser
that has a motion pathway, every window also walks on the source's own timing
(`gait_motion_signal`), so the body can be made anew without losing the walk.

Clips are processed in windows of `WINDOW` frames (what the denoiser was trained on); windows of
one length and strength denoise together, whatever clip they come from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from gaitdata import GaitSequence
from gaitdata.silhouette_stats import gait_motion_signal
from generators.pipeline import GaitGenerationPipeline, frames_from_model_output
from generators.settings import SHIFT_SCALE

WINDOW = 30


def clip_windows(length: int) -> list[tuple[slice, slice]]:
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


@dataclass
class Regeneration:
    """One clip to regenerate: its source, whom it becomes, under which covariates, how hard.

    Identities are `{"embedding": [1, E], "reference": [1, r, d] or None}`
    (`generators.pseudonyms.clip_identities`); covariates `{"view", "clothing", "carrying"}`.
    """

    sequence: GaitSequence
    source_identity: dict | None  # None when nothing inverts the source (method "noise")
    target_identity: dict
    source_covariates: dict
    target_covariates: dict
    seed: int
    strength: float
    # the covariates the target identity was read under (an edit: the source's), so that
    # conditioner guidance asks for the person under the target covariates; None: no move
    identity_covariates: dict | None = None


def window_conditions(
    pipeline: GaitGenerationPipeline, identity: dict, covariates: dict, motion: np.ndarray | None
) -> dict:
    """The denoiser's condition tensors of one window: an identity, covariates, its motion signal."""
    return pipeline.condition_tensors(
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
def regenerate(
    pipeline: GaitGenerationPipeline,
    jobs: list[Regeneration],
    steps: int,
    guidance: float,
    identity_guidance: float | None,
    method: str,
    batch_size: int = 64,
    cancel=None,
    conditioner_guidance: float = 0.0,
    covariate_shift: float = SHIFT_SCALE,
) -> list[np.ndarray]:
    """Carry every window of every job's source toward noise and denoise it under the job's
    target conditions; windows of one length and strength denoise together, whatever clip
    they come from. Each job's noise comes from its own seed, so a clip comes out the same
    in any batch. `method`: "invert" or "noise"; `conditioner_guidance`: steer each window's
    denoising toward the job's target identity (`generators.identity_guidance`; 0 = off), its
    target moved `covariate_shift` times the covariate means' shift to the job's new covariates.
    Returns each job's frames, `uint8 [T, 64, 64]`.
    """
    windows = []  # (job index, output part, clean latents [1, w, d], target conds, source conds, noise)
    for j, job in enumerate(jobs):
        seq = job.sequence
        x = torch.from_numpy(seq.model_input())[:, None]  # [t, 1, 64, 44]
        motion = gait_motion_signal(seq.frames) if pipeline.denoiser.config.motion_dim else None
        generator = torch.Generator().manual_seed(int(job.seed))
        if method == "noise" and job.strength >= 1.0:  # fresh noise: nothing reads the source's latents
            latents = torch.zeros(seq.num_frames, pipeline.denoiser.config.latent_dim)
        else:
            latents = pipeline.autoencoder.encode(x)  # [t, d]: frame by frame, so one call for all windows
        for frames, part in clip_windows(seq.num_frames):
            window_motion = None if motion is None else motion[frames]
            clean = latents[frames][None]  # [1, w, d]
            windows.append(
                (
                    j,
                    part,
                    clean,
                    window_conditions(pipeline, job.target_identity, job.target_covariates, window_motion),
                    # the source's own conditions only steer a DDIM inversion
                    None
                    if method == "noise"
                    else window_conditions(pipeline, job.source_identity, job.source_covariates, window_motion),
                    torch.randn(clean.shape, generator=generator),
                )
            )
    shifts = (
        pipeline.covariate_shifts([job.identity_covariates for job in jobs], [job.target_covariates for job in jobs])
        if conditioner_guidance
        else None
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
                return {key: None if v is None else torch.cat([c[key] for c in conds]) for key, v in conds[0].items()}

            clean = torch.cat([windows[i][2] for i in chunk])
            noise = torch.cat([windows[i][5] for i in chunk])
            generator = torch.Generator().manual_seed(0)  # unused: the noise is drawn per job above
            guided = (guidance, generator, strength, identity_guidance)
            target = stacked(3)
            shift = None if shifts is None else shifts[[windows[i][0] for i in chunk]]
            steering = pipeline.identity_steering(target["identity"], conditioner_guidance, shift, covariate_shift)
            steer = None if steering is None else steering.steer
            if method == "noise":
                start_latents = noise if strength >= 1.0 else clean
                out = pipeline.denoise_latents(
                    start_latents, target, steps, *guided, noise=noise, cancel=cancel, steer=steer
                )
            else:
                noisy = pipeline.invert_latents(clean, stacked(4), steps, strength, cancel=cancel)
                out = pipeline.denoise_latents(
                    noisy,
                    target,
                    steps,
                    *guided,
                    scheduler=pipeline.ddim_scheduler(),
                    start="inverted",
                    cancel=cancel,
                    steer=steer,
                )
            for i, mask in zip(chunk, pipeline.decode_clips(out)):
                masks[i] = mask
    per_job: list[list[np.ndarray]] = [[] for _ in jobs]
    for (j, part, *_), mask in zip(windows, masks):
        per_job[j].append(mask[part])
    return [frames_from_model_output(np.concatenate(parts)) for parts in per_job]


__all__ = ["WINDOW", "Regeneration", "clip_windows", "regenerate", "window_conditions"]
