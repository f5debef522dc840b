"""Conditioner guidance: steer each denoising step toward the requested identity along the
gradient of the CONDITIONER's similarity to it.

The bundled denoiser under-uses its identity pathway: even people it trained on come out at two
thirds of the judge's real rank-1, and a higher classifier-free identity guidance does not help
(issue 12). The conditioner itself knows the person, so at every step below `max_timestep` the
step's clean-clip prediction is decoded to silhouettes, embedded by the frozen conditioner, and
moved one normalised gradient step up the standardised cosine to the requested identity; the
sampler then continues from the moved prediction (x0 editing, as "universal guidance" does for
images). The denoiser is not differentiated, only the decoder and the conditioner.

The judge is never consulted: the steered clips are scored by it and by recognizers of other
architectures that played no part (measured in `studio eval-generator` and
`scripts/identity_diagnostics.py`). Each steered step costs a decode and a conditioner
forward and backward pass of the clips; `frame_stride` embeds every n-th frame, a different
offset at each step, to divide that cost.
"""

from __future__ import annotations

import contextlib

import torch

from gaitdata.runtime import fast_bf16
from generators.identity_loss import ConditionerIdentityLoss, predicted_clean, prediction_from_clean
from generators.settings import SHIFT_SCALE

MAX_SCALE = 2.0
DEFAULT_MAX_TIMESTEP = 700  # above it the prediction is still the mean of everybody the conditions allow


def check_scale(scale) -> float:
    """`scale` as a float within 0–MAX_SCALE; else ValueError naming the value."""
    if isinstance(scale, bool) or not isinstance(scale, int | float):
        raise ValueError(f"conditioner_guidance must be a number within 0–{MAX_SCALE}, got {scale!r}")
    if not 0.0 <= float(scale) <= MAX_SCALE:
        raise ValueError(f"conditioner_guidance must be within 0–{MAX_SCALE}, got {scale}")
    return float(scale)


class ConditionerGuidance:
    """The steering of one sampling call: `steer(latents, t, prediction) -> prediction`.

    Args:
        identity_loss: `ConditionerIdentityLoss` (the generator's autoencoder, the frozen
            conditioner module, the denoiser's identity statistics).
        targets: the requested identities `[b, E]` (unit-norm raw conditioner embeddings, as
            the pipeline's `encode_identity` gives), one per clip of the call.
        alphas_cumprod: the sampler's noise schedule (`scheduler.alphas_cumprod`).
        prediction_type: what the denoiser predicts ("v_prediction" or "epsilon").
        scale: size of each step, in units of the latents' spread per number (0.1–0.3 tested).
        max_timestep: steps at higher noise are left alone.
        frame_stride: embed every n-th frame of a clip (offset changing with each step).
        chunk: clips differentiated together (memory).
        shifts: `[b, E]` added (× `shift_scale`) to the raw targets before they are standardised: the move from
            the covariates each identity was read under to the clip's own
            (`generators.covariate_means`), so that the steering asks for the person, not
            for the reference's clothes, bag and view; None = no move.
        shift_scale: how many times the mean move (default `SHIFT_SCALE`).
    """

    def __init__(
        self,
        identity_loss: ConditionerIdentityLoss,
        targets: torch.Tensor,
        alphas_cumprod: torch.Tensor,
        prediction_type: str,
        scale: float,
        max_timestep: int = DEFAULT_MAX_TIMESTEP,
        frame_stride: int = 2,
        chunk: int = 50,
        shifts: torch.Tensor | None = None,
        shift_scale: float = SHIFT_SCALE,
    ):
        self.loss = identity_loss
        if shifts is not None:
            shifts = torch.as_tensor(shifts, dtype=torch.float32).reshape(targets.shape)
            targets = targets.float() + float(shift_scale) * shifts
        self.targets = identity_loss.standardize(targets)
        self.alphas_cumprod = alphas_cumprod
        self.prediction_type = prediction_type
        self.scale = check_scale(scale)
        self.max_timestep = int(max_timestep)
        self.frame_stride = max(1, int(frame_stride))
        self.chunk = int(chunk)
        self.steps_taken = 0

    def steer(self, latents: torch.Tensor, t, prediction: torch.Tensor) -> torch.Tensor:
        """The prediction at noisy `latents` `[b, t, d]` and timestep `t`, moved toward the identity."""
        if self.scale == 0.0 or int(t) > self.max_timestep:
            return prediction
        step = torch.full((latents.shape[0],), int(t), dtype=torch.long)
        clean = predicted_clean(latents, prediction, self.alphas_cumprod, step, self.prediction_type)
        clean = clean.detach().clone()
        offset = self.steps_taken % self.frame_stride
        self.steps_taken += 1
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if fast_bf16("cpu") else contextlib.nullcontext()
        for start in range(0, len(clean), self.chunk):
            rows = slice(start, start + self.chunk)
            frames = clean[rows, offset :: self.frame_stride].float().requires_grad_(True)
            with torch.enable_grad(), autocast:
                similarity = (self.loss.embed_latents(frames).float() * self.targets[rows]).sum()
            (gradient,) = torch.autograd.grad(similarity, frames)
            # a normalised step: the raw gradient's size depends on how far off the clip is
            rms = gradient.float().pow(2).mean(dim=(1, 2), keepdim=True).sqrt().clamp(min=1e-12)
            clean[rows, offset :: self.frame_stride] = frames.detach() + self.scale * gradient.float() / rms
        return prediction_from_clean(
            latents, clean.to(prediction.dtype), self.alphas_cumprod, step, self.prediction_type
        )


__all__ = ["DEFAULT_MAX_TIMESTEP", "MAX_SCALE", "SHIFT_SCALE", "ConditionerGuidance", "check_scale"]
