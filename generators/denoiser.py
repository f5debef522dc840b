"""The latent denoiser: a temporal transformer over a clip's frame latents.

Each frame's latent is one token; self-attention across frames carries the gait cycle. The
global conditions (diffusion timestep, identity embedding, view angle, clothing, carrying,
speed) are summed into one vector that modulates every block through adaLN-Zero (as DiT does,
with PixArt-α's shared modulation MLP), so a condition costs nothing per token.

Two per-token pathways carry what one pooled vector cannot (config `reference_frames`,
`motion_dim`; 0 switches them off, as in the first bundled model):

- **reference**: the frame latents of a clip of the person (another view or condition) join the
  self-attention as extra tokens (reference attention, as in image animation), so the body's
  build is read from the person's own silhouettes rather than from an embedding in which all
  walkers look alike (cosine 0.97); the embedding is standardised per dimension on training
  statistics before it enters;
- **motion**: a per-frame timing signal (`gaitdata.silhouette_stats.gait_motion_signal`: step
  phase, no body) added to each target token, so an edit or an anonymization walks on the
  source's timing while the body comes from the reference.

Every condition can be switched off per sample: it is then replaced by a learned null
embedding (a masked reference is simply not attended to). Training drops conditions at random,
which is what classifier-free guidance and "leave this condition out" at sampling time rely on.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps, get_timestep_embedding
from torch import nn

# Column order of `condition_mask`. The first five are pooled into the modulation vector.
CONDITION_NAMES = ("identity", "view", "clothing", "carrying", "speed", "reference", "motion")
POOLED_CONDITIONS = 5
IDENTITY_CONDITIONS = ("identity", "reference")  # guided together by the identity guidance scale
COVARIATE_CONDITIONS = ("view", "clothing", "carrying", "speed")


def _modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale) + shift


def _all_present(batch: int, device: torch.device) -> torch.Tensor:
    """The `condition_mask` `[batch, 7]` that switches no condition off."""
    return torch.ones(batch, len(CONDITION_NAMES), dtype=torch.bool, device=device)


class SelfAttention(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x `[b, t, w]`; key_mask `[b, t]` bool (False: no token attends to that one)."""
        b, t, w = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)  # 3×[b, h, t, d]
        mask = None if key_mask is None else key_mask[:, None, None, :]  # [b, 1, 1, t]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # [b, h, t, d]
        return self.out(y.transpose(1, 2).reshape(b, t, w))


class AdaLNZeroBlock(nn.Module):
    """Pre-norm transformer block whose norms are shifted, scaled and gated by the condition.

    The modulation comes from one MLP shared by all blocks (adaLN-single, as in PixArt-α) plus
    this block's own learned offsets: a fraction of DiT's per-block modulation parameters.
    """

    def __init__(self, width: int, heads: int, mlp_ratio: float):
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.attn = SelfAttention(width, heads)
        self.norm2 = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        # exact GELU: 4x faster than the tanh form in bf16 on CPU (22% of sampling time before); the
        # bundled weights were trained with the tanh form, which differs by < 5e-4 (clips: IoU 0.999)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.GELU(), nn.Linear(hidden, width))
        self.modulation_offset = nn.Parameter(torch.zeros(6, width))  # zero gates: starts as the identity

    def forward(self, x: torch.Tensor, modulation: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        """x `[b, t, w]`; modulation `[b, 6, w]` from the shared MLP; key_mask `[b, t]` (see SelfAttention)."""
        shift1, scale1, gate1, shift2, scale2, gate2 = (modulation + self.modulation_offset)[:, :, None].unbind(1)
        x = x + gate1 * self.attn(_modulate(self.norm1(x), shift1, scale1), key_mask)
        return x + gate2 * self.mlp(_modulate(self.norm2(x), shift2, scale2))


class GaitLatentDenoiser(ModelMixin, ConfigMixin):
    """Predicts the diffusion target for a clip of frame latents, given its conditions.

    Args:
        latent_dim: numbers per frame latent (the autoencoder's `latent_dim`).
        identity_dim: length of the identity embedding (the conditioner recognizer's output).
        num_clothing, num_carrying: number of clothing / carrying classes.
        width, depth, heads, mlp_ratio: transformer size.
        view_harmonics: the view angle enters as sin/cos of 1..view_harmonics times the angle.
        reference_frames: reference-clip tokens joining the self-attention (0 = no reference pathway).
        reference_stride: frames of the reference clip between two tokens (how training sampled them).
        motion_dim: numbers per frame of the motion signal (0 = no motion pathway).
        standardize_identity: standardise identity embeddings per dimension (statistics set by
            `set_identity_statistics` before training, saved with the weights).
    """

    @register_to_config
    def __init__(
        self,
        latent_dim: int = 128,
        identity_dim: int = 256,
        num_clothing: int = 2,
        num_carrying: int = 2,
        width: int = 192,
        depth: int = 6,
        heads: int = 4,
        mlp_ratio: float = 4.0,
        view_harmonics: int = 4,
        reference_frames: int = 0,
        reference_stride: int = 2,
        motion_dim: int = 0,
        standardize_identity: bool = False,
    ):
        super().__init__()
        self.proj_in = nn.Linear(latent_dim, width)
        self.time_proj = Timesteps(width, flip_sin_to_cos=True, downscale_freq_shift=0)
        self.time_embed = TimestepEmbedding(width, width)
        self.identity_embed = nn.Sequential(nn.Linear(identity_dim, width), nn.SiLU(), nn.Linear(width, width))
        self.view_embed = nn.Sequential(nn.Linear(2 * view_harmonics, width), nn.SiLU(), nn.Linear(width, width))
        self.speed_embed = nn.Sequential(nn.Linear(1, width), nn.SiLU(), nn.Linear(width, width))
        self.clothing_embed = nn.Embedding(num_clothing, width)
        self.carrying_embed = nn.Embedding(num_carrying, width)
        # One learned "absent" embedding per condition, used where condition_mask is False.
        self.null_embed = nn.Parameter(torch.zeros(POOLED_CONDITIONS, width))
        if standardize_identity:
            self.register_buffer("identity_mean", torch.zeros(identity_dim))
            self.register_buffer("identity_scale", torch.ones(identity_dim))
        if reference_frames:
            self.reference_in = nn.Linear(latent_dim, width)
            self.reference_type = nn.Parameter(torch.randn(width) * 0.02)  # tells reference tokens from the clip's
        if motion_dim:
            self.motion_in = nn.Linear(motion_dim, width)
            self.motion_null = nn.Parameter(torch.zeros(width))
        self.modulation = nn.Sequential(nn.SiLU(), nn.Linear(width, 6 * width))
        nn.init.zeros_(self.modulation[1].weight)
        nn.init.zeros_(self.modulation[1].bias)
        self.blocks = nn.ModuleList(AdaLNZeroBlock(width, heads, mlp_ratio) for _ in range(depth))
        self.norm_out = nn.LayerNorm(width, elementwise_affine=False, eps=1e-6)
        self.modulation_out = nn.Sequential(nn.SiLU(), nn.Linear(width, 2 * width))
        self.proj_out = nn.Linear(width, latent_dim)
        for layer in (self.modulation_out[1], self.proj_out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def _positions(self, tokens: int, device: torch.device) -> torch.Tensor:
        """Sinusoidal position embeddings `[tokens, width]` (float32)."""
        return get_timestep_embedding(torch.arange(tokens, device=device), self.config.width, True, 0)

    def _view_features(self, view_deg: torch.Tensor) -> torch.Tensor:
        k = torch.arange(1, self.config.view_harmonics + 1, device=view_deg.device, dtype=torch.float32)
        angle = view_deg.float()[:, None] * (math.pi / 180.0) * k  # [b, k]
        return torch.cat([angle.sin(), angle.cos()], dim=-1)  # [b, 2k]

    @torch.no_grad()
    def set_identity_statistics(self, embeddings: torch.Tensor) -> None:
        """Per-dimension mean and 1/std of training identity embeddings `[N, identity_dim]`."""
        if not self.config.standardize_identity:
            raise ValueError("this denoiser was configured without standardize_identity")
        embeddings = torch.as_tensor(embeddings, dtype=torch.float32)
        self.identity_mean.copy_(embeddings.mean(0))
        self.identity_scale.copy_(1.0 / embeddings.std(0).clamp(min=1e-4))

    def _identity_features(self, identity: torch.Tensor) -> torch.Tensor:
        identity = identity.float()
        if self.config.standardize_identity:
            identity = (identity - self.identity_mean) * self.identity_scale
        return self.identity_embed(identity)

    def embed_conditions(
        self,
        batch: int,
        identity: torch.Tensor | None = None,
        view_deg: torch.Tensor | None = None,
        clothing: torch.Tensor | None = None,
        carrying: torch.Tensor | None = None,
        speed: torch.Tensor | None = None,
        condition_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Sum of the condition embeddings `[b, width]` (timestep excluded).

        A condition given as None is absent for the whole batch; `condition_mask` `[b, 7]` (bool,
        columns in `CONDITION_NAMES` order; only the first five are read here) switches
        conditions off per sample.
        """
        if condition_mask is None:
            condition_mask = _all_present(batch, self.null_embed.device)
        embeds = []
        inputs = (
            (identity, self._identity_features),
            (view_deg, lambda v: self.view_embed(self._view_features(v))),
            (clothing, lambda v: self.clothing_embed(v.long())),
            (carrying, lambda v: self.carrying_embed(v.long())),
            (speed, lambda v: self.speed_embed(v.float()[:, None] - 1.0)),
        )
        for i, (value, embed) in enumerate(inputs):
            null = self.null_embed[i].expand(batch, -1)
            if value is None:
                embeds.append(null)
            else:
                embeds.append(torch.where(condition_mask[:, i : i + 1], embed(value), null))
        return torch.stack(embeds).sum(0)

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor,
        identity: torch.Tensor | None = None,
        view_deg: torch.Tensor | None = None,
        clothing: torch.Tensor | None = None,
        carrying: torch.Tensor | None = None,
        speed: torch.Tensor | None = None,
        condition_mask: torch.Tensor | None = None,
        reference: torch.Tensor | None = None,
        motion: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Noisy latents `[b, t, latent_dim]` and timesteps `[b]` (or a scalar) → prediction `[b, t, latent_dim]`.

        Conditions: identity `[b, identity_dim]`, view_deg `[b]` (degrees), clothing `[b]` and
        carrying `[b]` (class indices), speed `[b]` (1.0 = the walker's normal pace); reference
        `[b, reference_frames, latent_dim]` (clean frame latents of a clip of the person) and
        motion `[b, t, motion_dim]` (the timing signal of the clip to make), each ignored by a
        denoiser configured without that pathway.
        """
        b, t, _ = sample.shape
        if condition_mask is None:
            condition_mask = _all_present(b, sample.device)
        timestep = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(b)
        c = self.time_embed(self.time_proj(timestep).to(sample.dtype))  # [b, w]
        c = c + self.embed_conditions(b, identity, view_deg, clothing, carrying, speed, condition_mask)
        positions = self._positions(t, sample.device)
        x = self.proj_in(sample) + positions.to(sample.dtype)[None]  # [b, t, w]
        if self.config.motion_dim:
            use = condition_mask[:, 6:7, None] if motion is not None else condition_mask.new_zeros(b, 1, 1)
            motion_tokens = self.motion_in(motion.to(x.dtype)) if motion is not None else 0.0  # [b, t, w]
            x = x + torch.where(use, motion_tokens, self.motion_null.to(x.dtype))
        key_mask = None
        if self.config.reference_frames and reference is not None:
            r = reference.shape[1]
            ref_positions = self._positions(r, sample.device)
            ref = self.reference_in(reference.to(x.dtype)) + (ref_positions + self.reference_type).to(x.dtype)[None]
            x = torch.cat([x, ref], dim=1)  # [b, t + r, w]
            own = torch.ones(b, t, dtype=torch.bool, device=sample.device)
            key_mask = torch.cat([own, condition_mask[:, 5:6].expand(b, r)], dim=1)  # [b, t + r]
        modulation = self.modulation(c).view(b, 6, -1)  # [b, 6, w], shared by every block
        for block in self.blocks:
            x = block(x, modulation, key_mask)
        x = x[:, :t]  # the reference tokens only lend their keys and values
        shift, scale = self.modulation_out(c)[:, None].chunk(2, dim=-1)
        return self.proj_out(_modulate(self.norm_out(x), shift, scale))  # [b, t, latent_dim]
