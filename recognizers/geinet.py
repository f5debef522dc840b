"""GEINet-style recognizer (after Shiraga et al., ICB 2016): an ATTACKER, not the judge.

The clip is averaged over time first (its gait energy image, GEI), then one small 2-D CNN reads
that single image → multi-scale horizontal pyramid → separate FCs → BNNecks. Independent of the
conditioner (`GaitBase`: per-frame ResNet) and the judge (`GaitSet`: per-frame convs, set
pooling), and one image per clip, so it trains in minutes on one CPU thread.
"""

from __future__ import annotations

import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch import nn

from recognizers.embedding import EmbedMixin
from recognizers.modules import ConvBlock, PartHeadMixin


class TemporalMeanPool(nn.Module):
    """The gait energy image: the mean over frames, `[n, s, h, w]` → `[n, 1, h, w]`.

    With `seq_lengths`, `x` is several clips concatenated along `s` (`n = 1`) and each clip is
    averaged on its own: `[1, sum(seq_lengths), h, w]` → `[len(seq_lengths), 1, h, w]`.
    """

    def forward(self, x: torch.Tensor, seq_lengths: list[int] | None = None) -> torch.Tensor:
        if seq_lengths is None:
            return x.mean(dim=1, keepdim=True)
        if x.shape[0] != 1 or sum(seq_lengths) != x.shape[1]:
            raise ValueError(f"seq_lengths {list(seq_lengths)} do not add up to the {x.shape[1]} frames of one row")
        return torch.cat([part.mean(dim=1, keepdim=True) for part in x.split(list(seq_lengths), dim=1)])


class GEINet(PartHeadMixin, ModelMixin, ConfigMixin, EmbedMixin):
    """GEI + 2-D CNN recognizer.

    Args:
        channels: channels of the three conv stages (two 3x3 convs each; stages 1 and 2 end
            with 2x2 max pooling, so a 64x44 GEI becomes a 16x11 map).
        bin_num: horizontal strips of the pyramid; each must divide 16.
        embedding_dim: channels of each part's embedding.
        class_num: identities of the training set (size of the BNNeck classifier).
    """

    @register_to_config
    def __init__(
        self,
        channels: tuple[int, int, int] = (32, 64, 128),
        bin_num: tuple[int, ...] = (16, 8, 4, 2, 1),
        embedding_dim: int = 64,
        class_num: int = 74,
    ):
        super().__init__()
        c1, c2, c3 = channels
        self.gei = TemporalMeanPool()
        self.cnn = nn.Sequential(
            ConvBlock(1, c1, 3, batch_norm=True),
            ConvBlock(c1, c1, 3, pool=True, batch_norm=True),
            ConvBlock(c1, c2, 3, batch_norm=True),
            ConvBlock(c2, c2, 3, pool=True, batch_norm=True),
            ConvBlock(c2, c3, 3, batch_norm=True),
            ConvBlock(c3, c3, 3, batch_norm=True),
        )
        parts_num = sum(bin_num)
        self.add_part_head(bin_num, parts_num, c3, embedding_dim, class_num)

    def part_features(self, silhouettes: torch.Tensor, seq_lengths: list[int] | None = None) -> torch.Tensor:
        """Clips (`forward`'s arguments) → parts `[n, c3, p]` of each clip's GEI, `p = sum(bin_num)`."""
        x = self.gei(silhouettes, seq_lengths)  # [n, 1, 64, 44]
        x = self.cnn(x)  # [n, c3, 16, 11]
        return self.pyramid(x)  # [n, c3, p]
