"""GaitBase (Fan et al., OpenGait 2023), with widths that train on a CPU: the CONDITIONER.

Per-frame ResNet → temporal max pooling → 16-strip horizontal pyramid (mean + max) →
separate FCs → separate BNNecks.
"""

from __future__ import annotations

import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from recognizers.embedding import EmbedMixin
from recognizers.modules import (
    HorizontalPoolingPyramid,
    PerFrame,
    ResNetBackbone,
    SeparateBNNecks,
    SeparateFCs,
    TemporalMaxPool,
)
from recognizers.outputs import RecognizerOutput


class GaitBase(ModelMixin, ConfigMixin, EmbedMixin):
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
        self.pyramid = HorizontalPoolingPyramid(tuple(bin_num))
        self.fcs = SeparateFCs(parts_num, channels[-1], embedding_dim)
        self.bnnecks = SeparateBNNecks(parts_num, embedding_dim, class_num)

    def forward(self, silhouettes: torch.Tensor, seq_lengths: list[int] | None = None) -> RecognizerOutput:
        """Embed clips.

        Args:
            silhouettes: `float [n, s, 64, 44]` in [0, 1].
            seq_lengths: to embed clips of different lengths in one call, concatenate them along
                `s` with `n = 1` and give each clip's length here; the output then has one row per clip.

        Returns:
            `RecognizerOutput` with `embeddings [n, embedding_dim, p]` and `logits [n, class_num, p]`.
        """
        x = silhouettes.unsqueeze(1)  # [n, 1, s, h, w]
        x = self.backbone(x)  # [n, c, s, h', w']
        x = self.temporal_pool(x, seq_lengths)  # [n, c, h', w']
        x = self.pyramid(x)  # [n, c, p]
        embeddings = self.fcs(x)  # [n, embedding_dim, p]
        _, logits = self.bnnecks(embeddings)  # [n, class_num, p]
        return RecognizerOutput(embeddings=embeddings, logits=logits)
