"""GaitBase (Fan et al., OpenGait 2023), with widths that train on a CPU: the CONDITIONER.

Per-frame ResNet → temporal max pooling → 16-strip horizontal pyramid (mean + max) →
separate FCs → separate BNNecks.
"""

from __future__ import annotations

import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from recognizers.embedding import EmbedMixin
from recognizers.modules import PartHeadMixin, PerFrame, ResNetBackbone, TemporalMaxPool


class GaitBase(PartHeadMixin, ModelMixin, ConfigMixin, EmbedMixin):
    """GaitBase-style recognizer.

    Args:
        channels: output channels of the backbone's residual blocks.
        strides: stride of each residual block.
        stem_channels: channels of the first 3x3 conv.
        stem_stride: stride of the first conv (2 halves the cost of everything after it).
        bin_num: horizontal strips of the pooling pyramid; the last feature map's height must
            be divisible by each.
        embedding_dim: channels of each part's embedding.
        class_num: identities of the training set (size of the BNNeck classifier).
    """

    @register_to_config
    def __init__(
        self,
        channels: tuple[int, ...] = (16, 32, 64, 64),
        strides: tuple[int, ...] = (1, 2, 1, 1),
        stem_channels: int = 16,
        stem_stride: int = 2,
        bin_num: tuple[int, ...] = (16,),
        embedding_dim: int = 128,
        class_num: int = 74,
    ):
        super().__init__()
        parts_num = sum(bin_num)
        self.backbone = PerFrame(ResNetBackbone(tuple(channels), tuple(strides), stem_channels, stem_stride))
        self.temporal_pool = TemporalMaxPool()
        self.add_part_head(bin_num, parts_num, channels[-1], embedding_dim, class_num)

    def part_features(self, silhouettes: torch.Tensor, seq_lengths: list[int] | None = None) -> torch.Tensor:
        """Clips (`forward`'s arguments) → parts `[n, c, p]`, `p = sum(bin_num)`."""
        x = silhouettes.unsqueeze(1)  # [n, 1, s, h, w]
        x = self.backbone(x)  # [n, c, s, h', w']
        x = self.temporal_pool(x, seq_lengths)  # [n, c, h', w']
        return self.pyramid(x)  # [n, c, p]
