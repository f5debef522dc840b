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
from recognizers.modules import ConvBlock, HorizontalPoolingPyramid, SeparateBNNecks, SeparateFCs
from recognizers.outputs import RecognizerOutput


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


class GEINet(ModelMixin, ConfigMixin, EmbedMixin):
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
        self.pyramid = HorizontalPoolingPyramid(tuple(bin_num))
        self.fcs = SeparateFCs(parts_num, c3, embedding_dim)
        self.bnnecks = SeparateBNNecks(parts_num, embedding_dim, class_num)

    def forward(self, silhouettes: torch.Tensor, seq_lengths: list[int] | None = None) -> RecognizerOutput:
        """Embed clips.

        Args:
            silhouettes: `float [n, s, 64, 44]` in [0, 1].
            seq_lengths: to embed clips of different lengths in one call, concatenate them along
                `s` with `n = 1` and give each clip's length here; the output then has one row per clip.

        Returns:
            `RecognizerOutput` with `embeddings [n, embedding_dim, p]` and `logits [n, class_num, p]`,
            `p = sum(bin_num)`.
        """
        x = self.gei(silhouettes, seq_lengths)  # [n, 1, 64, 44]
        x = self.cnn(x)  # [n, c3, 16, 11]
        parts = self.pyramid(x)  # [n, c3, p]
        embeddings = self.fcs(parts)  # [n, embedding_dim, p]
        _, logits = self.bnnecks(embeddings)  # [n, class_num, p]
        return RecognizerOutput(embeddings=embeddings, logits=logits)
