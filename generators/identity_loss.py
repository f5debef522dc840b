"""An identity loss for the denoiser: the CONDITIONER's features of the decoded prediction.

The latent MSE treats every latent number alike; the body shape that tells one person from
another is a small part of it, and cross-view shape is what the denoiser learns least well.
This loss decodes the denoiser's clean-clip prediction to silhouettes and compares the frozen
conditioner's embedding of them with its embedding of the decoded true clip, so that errors a
recognizer would notice cost more. It goes through the conditioner, never the judge: the judge
scores identity and must stay out of training.

Only clips whose identity condition was kept take part (a clip generated without identity
cannot be asked to be somebody), up to `identity_loss_clips` per batch, at timesteps below
`identity_loss_max_timestep`: at high noise the prediction is the mean of the people the
conditions allow, and pulling that mean towards the person is the point of the loss.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from generators.autoencoder import SilhouetteAutoencoder


class ConditionerIdentityLoss(nn.Module):
    """`1 − cosine` between standardised conditioner embeddings of predicted and true clips, per clip.

    Raw walker embeddings point almost the same way (cosine ~0.97 between people), so a plain
    cosine hardly tells people apart; standardised per dimension on the training people's
    embeddings (as the denoiser's identity input is), people differ at cosine ~0.

    Args:
        autoencoder: the generator's frame autoencoder (its decoder turns latents into frames).
        conditioner: the recognizer whose embedding conditions the generator; called as
            `conditioner(silhouettes [n, t, 64, 44] in [0, 1]).embeddings`.
        statistics: unit-norm flattened training embeddings `[N, E]` (`normalize_identity`),
            for the per-dimension mean and scale.

    Both networks stay frozen and in eval mode (their batch-norm statistics are not touched).
    """

    def __init__(self, autoencoder: SilhouetteAutoencoder, conditioner: nn.Module, statistics: torch.Tensor):
        super().__init__()
        self.autoencoder = autoencoder.eval().requires_grad_(False)
        self.conditioner = conditioner.eval().requires_grad_(False)
        statistics = torch.as_tensor(statistics, dtype=torch.float32)
        self.register_buffer("mean", statistics.mean(0))
        self.register_buffer("scale", 1.0 / statistics.std(0).clamp(min=1e-4))

    @classmethod
    def from_denoiser(cls, autoencoder: SilhouetteAutoencoder, conditioner: nn.Module, denoiser):
        """The loss in the identity space of `denoiser`: standardised with its saved training
        statistics when it was configured with `standardize_identity`, else the plain cosine."""
        loss = cls(autoencoder, conditioner, torch.zeros(2, denoiser.config.identity_dim))
        loss.scale.fill_(1.0)
        if getattr(denoiser.config, "standardize_identity", False):
            loss.mean.copy_(denoiser.identity_mean.float())
            loss.scale.copy_(denoiser.identity_scale.float())
        return loss

    def train(self, mode: bool = True):  # frozen networks stay in eval mode inside a training model
        return super().train(False)

    def standardize(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Conditioner embeddings `[n, ...]` → standardised, then unit-norm, `[n, E]`."""
        unit = F.normalize(embeddings.reshape(len(embeddings), -1).float(), dim=-1)
        return F.normalize((unit - self.mean) * self.scale, dim=-1)

    def embed_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Frame latents `[n, t, d]` → decoded, embedded, standardised unit embeddings `[n, E]`."""
        n, t, d = latents.shape
        frames = self.autoencoder.decode(latents.reshape(n * t, d).float())  # [n*t, 1, 64, 44]
        return self.standardize(self.conditioner(frames.reshape(n, t, *frames.shape[-2:])).embeddings)

    def forward(self, predicted: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
        """Predicted and true clean latents `[n, t, d]` → loss per clip `[n]` (0 = same embedding)."""
        with torch.no_grad():
            target = self.embed_latents(clean)
        return 1.0 - (self.embed_latents(predicted) * target).sum(-1)


def predicted_clean(
    noisy: torch.Tensor, prediction: torch.Tensor, alphas_cumprod: torch.Tensor, t: torch.Tensor, prediction_type: str
) -> torch.Tensor:
    """The clean latents a denoiser's output implies at timesteps `t` (DDPM parametrisation)."""
    a = alphas_cumprod.to(noisy.device)[t].float().view(-1, *([1] * (noisy.dim() - 1)))
    if prediction_type == "v_prediction":
        return a.sqrt() * noisy - (1 - a).sqrt() * prediction
    if prediction_type == "epsilon":
        return (noisy - (1 - a).sqrt() * prediction) / a.sqrt()
    raise ValueError(f"prediction_type must be 'v_prediction' or 'epsilon', got {prediction_type!r}")


def prediction_from_clean(
    noisy: torch.Tensor, clean: torch.Tensor, alphas_cumprod: torch.Tensor, t: torch.Tensor, prediction_type: str
) -> torch.Tensor:
    """The denoiser output that implies `clean` at `noisy` and timesteps `t` (`predicted_clean` inverted)."""
    a = alphas_cumprod.to(noisy.device)[t].float().view(-1, *([1] * (noisy.dim() - 1)))
    if prediction_type == "v_prediction":
        return (a.sqrt() * noisy - clean) / (1 - a).sqrt()
    if prediction_type == "epsilon":
        return (noisy - a.sqrt() * clean) / (1 - a).sqrt()
    raise ValueError(f"prediction_type must be 'v_prediction' or 'epsilon', got {prediction_type!r}")
