"""A per-frame silhouette autoencoder: 64×44 masks ↔ a compact latent vector.

Video diffusion in pixel space does not fit a 2-core CPU (see DESIGN.md); diffusion over a
sequence of small per-frame latents does. The encoder is a strided conv stack ending in a linear
projection; the decoder mirrors it. Latents are scaled by `scaling_factor` (fitted after
training, as Stable Diffusion's VAE does) so that the denoiser sees roughly unit variance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch import nn

FRAME_HEIGHT, FRAME_WIDTH = 64, 44
# The conv stack works on 64×48 (three halvings → 8×6); two zero columns pad each side.
_PADDED_WIDTH = 48


def _conv_block(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.GroupNorm(8, c_out), nn.SiLU())


def _up_block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"),
        nn.Conv2d(c_in, c_out, 3, 1, 1),
        nn.GroupNorm(8, c_out),
        nn.SiLU(),
    )


class SilhouetteAutoencoder(ModelMixin, ConfigMixin):
    """Encode `[N, 1, 64, 44]` silhouettes in [0, 1] to `[N, latent_dim]` and back.

    Args:
        latent_dim: numbers per frame.
        channels: conv widths at 64×48, 32×24, 16×12 and 8×6.
        scaling_factor: multiplies raw latents so they have ~unit std (set after training).
    """

    @register_to_config
    def __init__(self, latent_dim: int = 128, channels: tuple = (16, 32, 64, 96), scaling_factor: float = 1.0):
        super().__init__()
        c0, c1, c2, c3 = channels
        self.encoder = nn.Sequential(
            _conv_block(1, c0, 1),  # [n, c0, 64, 48]
            _conv_block(c0, c1, 2),  # [n, c1, 32, 24]
            _conv_block(c1, c2, 2),  # [n, c2, 16, 12]
            _conv_block(c2, c3, 2),  # [n, c3, 8, 6]
            nn.Flatten(),
            nn.Linear(c3 * 8 * 6, latent_dim),
        )
        self.decoder_input = nn.Linear(latent_dim, c3 * 8 * 6)
        self.decoder = nn.Sequential(
            nn.SiLU(),
            _conv_block(c3, c3, 1),  # [n, c3, 8, 6]
            _up_block(c3, c2),  # [n, c2, 16, 12]
            _up_block(c2, c1),  # [n, c1, 32, 24]
            _up_block(c1, c0),  # [n, c0, 64, 48]
            nn.Conv2d(c0, 1, 3, 1, 1),
        )

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """`[N, 1, 64, 44]` in [0, 1] → scaled latents `[N, latent_dim]`."""
        pad = (_PADDED_WIDTH - FRAME_WIDTH) // 2
        x = F.pad(frames, (pad, pad))  # [n, 1, 64, 48]
        return self.encoder(x * 2 - 1) * self.config.scaling_factor

    def decode_logits(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents `[N, latent_dim]` → logits `[N, 1, 64, 44]` (sigmoid gives the mask)."""
        c3 = self.config.channels[3]
        x = self.decoder_input(latents / self.config.scaling_factor).view(-1, c3, 8, 6)
        x = self.decoder(x)  # [n, 1, 64, 48]
        pad = (_PADDED_WIDTH - FRAME_WIDTH) // 2
        return x[..., pad : pad + FRAME_WIDTH]

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents `[N, latent_dim]` → silhouettes `[N, 1, 64, 44]` in [0, 1]."""
        return torch.sigmoid(self.decode_logits(latents))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Reconstruction logits for `[N, 1, 64, 44]` frames."""
        return self.decode_logits(self.encode(frames))
