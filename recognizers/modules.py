"""Named parts the recognizers are assembled from (after OpenGait's `modeling/modules`).

Shape letters: n = clips in the batch, c = channels, s = frames (the set / sequence axis),
h, w = height and width of a feature map, p = horizontal parts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from recognizers.outputs import RecognizerOutput


class PerFrame(nn.Module):
    """Run a 2D module on every frame of a clip: `[n, c, s, h, w]` → `[n, c', s, h', w']`.

    Frames are folded into the batch axis, so the wrapped module never sees time.
    """

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, s, h, w = x.shape
        x = x.transpose(1, 2).reshape(n * s, c, h, w)  # [n*s, c, h, w]
        x = self.module(x)  # [n*s, c', h', w']
        _, c2, h2, w2 = x.shape
        return x.reshape(n, s, c2, h2, w2).transpose(1, 2)  # [n, c', s, h', w']


class TemporalMaxPool(nn.Module):
    """Set pooling: the element-wise max over frames, `[n, c, s, h, w]` → `[n, c, h, w]`.

    Order-free, so a clip of any length (one frame included) gives a feature of one size.
    With `seq_lengths`, `x` is several clips concatenated along `s` (`n = 1`) and each clip is
    pooled on its own: `[1, c, sum(seq_lengths), h, w]` → `[len(seq_lengths), c, h, w]`.
    """

    def forward(self, x: torch.Tensor, seq_lengths: list[int] | None = None) -> torch.Tensor:
        if seq_lengths is None:
            return x.amax(dim=2)
        if x.shape[0] != 1 or sum(seq_lengths) != x.shape[2]:
            raise ValueError(f"seq_lengths {list(seq_lengths)} do not add up to the {x.shape[2]} frames of one row")
        return torch.cat([part.amax(dim=2) for part in x.split(list(seq_lengths), dim=2)])


class HorizontalPoolingPyramid(nn.Module):
    """Cut a feature map into horizontal strips and pool each by mean + max.

    `[n, c, h, w]` → `[n, c, p]` with `p = sum(bin_num)`; `h` must be divisible by every bin count.
    """

    def __init__(self, bin_num: tuple[int, ...] = (16,)):
        super().__init__()
        self.bin_num = tuple(bin_num)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[:2]
        features = []
        for b in self.bin_num:
            z = x.reshape(n, c, b, -1)  # [n, c, b, h/b * w]
            features.append(z.mean(-1) + z.amax(-1))  # [n, c, b]
        return torch.cat(features, dim=-1)  # [n, c, p]


class SeparateFCs(nn.Module):
    """One linear map per part: `[n, c_in, p]` → `[n, c_out, p]`."""

    def __init__(self, parts_num: int, in_channels: int, out_channels: int):
        super().__init__()
        self.fc_bin = nn.Parameter(torch.empty(parts_num, in_channels, out_channels))
        nn.init.xavier_uniform_(self.fc_bin)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(2, 0, 1)  # [p, n, c_in]
        out = x.matmul(self.fc_bin)  # [p, n, c_out]
        return out.permute(1, 2, 0).contiguous()  # [n, c_out, p]


class SeparateBNNecks(nn.Module):
    """BNNeck per part (Luo et al. 2019): batch norm, then a classifier per part.

    The triplet loss uses the features before this neck, cross-entropy uses its logits; the
    normalised features are what retrieval compares at test time.

    `[n, c, p]` → (`features [n, c, p]`, `logits [n, class_num, p]`).
    """

    def __init__(self, parts_num: int, in_channels: int, class_num: int):
        super().__init__()
        self.parts_num = parts_num
        self.fc_bin = nn.Parameter(torch.empty(parts_num, in_channels, class_num))
        nn.init.xavier_uniform_(self.fc_bin)
        self.bn1d = nn.BatchNorm1d(in_channels * parts_num)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        n, c, p = x.shape
        x = self.bn1d(x.reshape(n, c * p)).reshape(n, c, p)  # [n, c, p]
        feature = x.permute(2, 0, 1)  # [p, n, c]
        logits = F.normalize(feature, dim=-1).matmul(F.normalize(self.fc_bin, dim=1))  # [p, n, class_num]
        return x, logits.permute(1, 2, 0).contiguous()  # [n, c, p], [n, class_num, p]


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs and a shortcut): `[b, c_in, h, w]` → `[b, c_out, h/stride, w/stride]`."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False), nn.BatchNorm2d(out_channels)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNetBackbone(nn.Sequential):
    """A small ResNet for one silhouette frame, after GaitBase's ResNet9.

    `[b, 1, 64, 44]` → `[b, channels[-1], 64 / prod(strides), 44 / prod(strides)]` (rounded up).
    A stem conv (`stem_stride`) is followed by one `BasicBlock` per entry of `channels`.
    """

    def __init__(self, channels: tuple[int, ...], strides: tuple[int, ...], stem_channels: int, stem_stride: int):
        layers = [
            nn.Conv2d(1, stem_channels, 3, stem_stride, 1, bias=False),
            nn.BatchNorm2d(stem_channels),
            nn.ReLU(inplace=True),
        ]
        in_channels = stem_channels
        for out_channels, stride in zip(channels, strides, strict=True):
            layers.append(BasicBlock(in_channels, out_channels, stride))
            in_channels = out_channels
        super().__init__(*layers)


class ConvBlock(nn.Sequential):
    """Conv (+ batch norm) + leaky ReLU (GaitSet's plain per-frame layers), optionally followed by 2x2 max pooling.

    Batch norm is not in the paper; with it the embeddings keep a usable scale early, so the
    triplet loss works within a CPU-sized step budget (without it, it sat at the margin).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        pool: bool = False,
        stride: int = 1,
        batch_norm: bool = False,
    ):
        layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=kernel_size // 2, bias=False)]
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_channels))
        layers.append(nn.LeakyReLU(inplace=True))
        if pool:
            layers.append(nn.MaxPool2d(2))
        super().__init__(*layers)


class PartHeadMixin:
    """The head the recognizers end in, and their `forward`: the model's `part_features` (a
    horizontal pyramid's parts) → separate FCs → separate BNNecks. Its modules are the model's own
    `pyramid`, `fcs` and `bnnecks` (the names in the bundled weights). List it first among the
    bases, so that its `forward` is the model's."""

    def add_part_head(
        self, bin_num: tuple[int, ...], parts_num: int, in_channels: int, embedding_dim: int, class_num: int
    ) -> None:
        """Make `self.pyramid` over `bin_num` strips, and the FCs and BNNecks of `parts_num` parts."""
        self.pyramid = HorizontalPoolingPyramid(tuple(bin_num))
        self.fcs = SeparateFCs(parts_num, in_channels, embedding_dim)
        self.bnnecks = SeparateBNNecks(parts_num, embedding_dim, class_num)

    def part_features(self, silhouettes: torch.Tensor, seq_lengths: list[int] | None = None) -> torch.Tensor:
        """`forward`'s arguments → the parts `[n, c, p]` the head embeds (each model's own)."""
        raise NotImplementedError

    def forward(self, silhouettes: torch.Tensor, seq_lengths: list[int] | None = None) -> RecognizerOutput:
        """Embed clips.

        Args:
            silhouettes: `float [n, s, 64, 44]` in [0, 1].
            seq_lengths: to embed clips of different lengths in one call, concatenate them along
                `s` with `n = 1` and give each clip's length here; the output then has one row per clip.

        Returns:
            `RecognizerOutput` with `embeddings [n, embedding_dim, p]` and `logits [n, class_num, p]`,
            `p` the parts of `part_features`.
        """
        parts = self.part_features(silhouettes, seq_lengths)  # [n, c, p]
        embeddings = self.fcs(parts)  # [n, embedding_dim, p]
        _, logits = self.bnnecks(embeddings)  # [n, class_num, p]
        return RecognizerOutput(embeddings=embeddings, logits=logits)
