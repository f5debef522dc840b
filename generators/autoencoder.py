"""A per-frame silhouette autoencoder: 64×44 masks ↔ a compact latent vector.

Video diffusion in pixel space does not fit a 2-core CPU (a 10 M-parameter
`UNet3DConditionModel` needs 3.8 s per forward pass of one clip here); diffusion over a sequence
of small per-frame latents does. The encoder folds each frame 4×4 into channels, runs a few
convs at 16×12 and projects to the latent; the decoder mirrors it. Latents are scaled by
`scaling_factor` (fitted after training, as Stable Diffusion's VAE does) so that the denoiser
sees roughly unit variance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch import nn

from gaitdata.sequence import CANONICAL_WIDTH

# Frames are padded to 64×48 and folded 4×4 into channels (pixel unshuffle): every conv then
# runs at 16×12 with `channels` channels, where this CPU's conv kernels are efficient; thin
# full-resolution convs spent most of their time moving memory (measured: 3–5× slower per step).
_PADDED_WIDTH = 48
_FOLD = 4


class SilhouetteAutoencoder(ModelMixin, ConfigMixin):
    """Encode `[N, 1, 64, 44]` silhouettes in [0, 1] to `[N, latent_dim]` and back.

    Args:
        latent_dim: numbers per frame.
        channels: conv width at 16×12 and 8×6.
        scaling_factor: multiplies raw latents so they have ~unit std (set after training).
    """

    @register_to_config
    def __init__(self, latent_dim: int = 128, channels: int = 96, scaling_factor: float = 1.0):
        super().__init__()
        c, folded = channels, _FOLD * _FOLD
        self.encoder = nn.Sequential(
            nn.PixelUnshuffle(_FOLD),  # [n, 16, 16, 12]
            nn.Conv2d(folded, c, 3, 1, 1),
            nn.SiLU(),
            nn.Conv2d(c, c, 3, 1, 1),  # [n, c, 16, 12]
            nn.SiLU(),
            nn.Conv2d(c, c, 3, 2, 1),  # [n, c, 8, 6]
            nn.SiLU(),
            nn.Flatten(),
            nn.Linear(c * 8 * 6, latent_dim),
        )
        self.decoder_input = nn.Linear(latent_dim, c * 8 * 6)
        self.decoder = nn.Sequential(
            nn.SiLU(),
            nn.Upsample(scale_factor=2, mode="nearest"),  # [n, c, 16, 12]
            nn.Conv2d(c, c, 3, 1, 1),
            nn.SiLU(),
            nn.Conv2d(c, c, 3, 1, 1),
            nn.SiLU(),
            nn.Conv2d(c, folded, 3, 1, 1),  # [n, 16, 16, 12]
            nn.PixelShuffle(_FOLD),  # [n, 1, 64, 48]
        )

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """`[N, 1, 64, 44]` in [0, 1] → scaled latents `[N, latent_dim]`."""
        pad = (_PADDED_WIDTH - CANONICAL_WIDTH) // 2
        x = F.pad(frames * 2 - 1, (pad, pad), value=-1.0)  # [n, 1, 64, 48], padding is background
        return self.encoder(x) * self.config.scaling_factor

    def decode_logits(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents `[N, latent_dim]` → logits `[N, 1, 64, 44]` (sigmoid gives the mask)."""
        c = self.config.channels
        x = self.decoder_input(latents / self.config.scaling_factor).view(-1, c, 8, 6)
        x = self.decoder(x)  # [n, 1, 64, 48]
        pad = (_PADDED_WIDTH - CANONICAL_WIDTH) // 2
        return x[..., pad : pad + CANONICAL_WIDTH]

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Scaled latents `[N, latent_dim]` → silhouettes `[N, 1, 64, 44]` in [0, 1]."""
        return torch.sigmoid(self.decode_logits(latents))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Reconstruction logits for `[N, 1, 64, 44]` frames."""
        return self.decode_logits(self.encode(frames))
