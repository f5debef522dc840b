"""GaitSet (Chao et al., AAAI 2019), with widths that train on a CPU: the JUDGE.

A gait is an unordered set of frames: per-frame convs, set pooling (max over frames) after
every stage, a global branch fed by the set-pooled features of each stage (multilayer global
pipeline), a multi-scale horizontal pyramid over both branches, separate FCs, BNNecks.
Independent of `GaitBase` by design: plain conv stages, no residuals, a different pyramid.
"""

from __future__ import annotations

import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config
from torch import nn

from recognizers.embedding import EmbedMixin
from recognizers.modules import ConvBlock, PartHeadMixin, PerFrame, TemporalMaxPool


class GaitSet(PartHeadMixin, ModelMixin, ConfigMixin, EmbedMixin):
    """GaitSet-style recognizer.

    Args:
        channels: channels of the three conv stages (stage 1 ends with 2x2 max pooling).
        bin_num: horizontal strips of the pyramid, applied to both branches; each must divide
            the height of the last feature map.
        stem_stride: stride of the first conv; 2 quarters the cost of every later layer (the
            CPU setting), 1 is the paper's full-resolution first stage.
        pool_stage2: end stage 2 (and the global branch) with 2x2 max pooling too, as the paper does.
        batch_norm: batch norm after every conv (not in the paper; see `ConvBlock`).
        embedding_dim: channels of each part's embedding.
        class_num: identities of the training set (size of the BNNeck classifier).
    """

    @register_to_config
    def __init__(
        self,
        channels: tuple[int, int, int] = (16, 32, 64),
        bin_num: tuple[int, ...] = (16, 8, 4, 2, 1),
        embedding_dim: int = 128,
        class_num: int = 74,
        stem_stride: int = 1,
        pool_stage2: bool = True,
        batch_norm: bool = False,
    ):
        super().__init__()
        c1, c2, c3 = channels

        def block(*args, **kwargs) -> ConvBlock:
            return ConvBlock(*args, batch_norm=batch_norm, **kwargs)

        parts_num = 2 * sum(bin_num)
        self.stage1 = PerFrame(nn.Sequential(block(1, c1, 5, stride=stem_stride), block(c1, c1, 3, pool=True)))
        self.stage2 = PerFrame(nn.Sequential(block(c1, c2, 3), block(c2, c2, 3, pool=pool_stage2)))
        self.stage3 = PerFrame(nn.Sequential(block(c2, c3, 3), block(c3, c3, 3)))
        self.global2 = nn.Sequential(block(c1, c2, 3), block(c2, c2, 3, pool=pool_stage2))
        self.global3 = nn.Sequential(block(c2, c3, 3), block(c3, c3, 3))
        self.set_pool = TemporalMaxPool()
        self.add_part_head(bin_num, parts_num, c3, embedding_dim, class_num)

    def part_features(self, silhouettes: torch.Tensor, seq_lengths: list[int] | None = None) -> torch.Tensor:
        """Clips (`forward`'s arguments) → parts `[n, c3, p]`, `p = 2 * sum(bin_num)`: the set
        branch's pyramid, then the global branch's."""
        # shapes for the paper's setting (stem_stride 1, pool_stage2); the CPU setting
        # (stem_stride 2, no stage-2 pool) reaches the same 16x11 maps at a quarter of the cost
        x = self.stage1(silhouettes.unsqueeze(1))  # [n, c1, s, 32, 22]
        g = self.global2(self.set_pool(x, seq_lengths))  # [n, c2, 16, 11]
        x = self.stage2(x)  # [n, c2, s, 16, 11]
        g = self.global3(g + self.set_pool(x, seq_lengths))  # [n, c3, 16, 11]
        x = self.set_pool(self.stage3(x), seq_lengths)  # [n, c3, 16, 11]
        g = g + x  # [n, c3, 16, 11]
        return torch.cat([self.pyramid(x), self.pyramid(g)], dim=-1)  # [n, c3, p]
