"""GluonCV's DeepLabV3 on ResNeSt (``gluoncv/model_zoo/deeplabv3.py`` with ``get_backbone``'s
``resnest50/101/200/269(dilated=True)``); the backbone follows ``gluoncv/model_zoo/resnest.py``
and ``gluoncv/nn/splat.py``, the head is ``deeplab.deeplab_head``.

Deep stem (3x3 convolutions stem_width, stem_width, 2 x stem_width; the widths are read from
the file: 32 for ResNeSt-50, 64 for the others), BatchNorm, ReLU, max-pool 3/2/1; four stages
of bottlenecks (radix 2, cardinality 1, width 64): 1x1 convolution, split-attention 3x3
convolution, then in a stage's first block (the "avd" blocks: stride 2 or a change of dilation)
a 3x3 average pool (pad 1, with the stride) instead of a strided convolution, 1x1 convolution
x4; the shortcut ("avg_down") average-pools 2x2 (ceil, padding not counted) where the stage
strides, then 1x1 convolution + BatchNorm. Stages 3 and 4 are dilated (first blocks 1 and 2,
later blocks 2 and 4): output stride 8.

Split attention: a grouped 3x3 convolution to radix x channels (+ BatchNorm, ReLU), split into
radix parts; their sum is globally pooled, passed through fc1 (1x1, bias) + BatchNorm + ReLU and
fc2 (1x1, bias) to radix x channels, soft-maxed across the radix parts and used to weight them.
"""

from __future__ import annotations

import numpy as np

from . import Builder
from .deeplab import deeplab_head
from .graph import Graph
from .resnet import EXPANSION, deep_stem, stage_plan

# Blocks per stage.
DEPTHS = {
    "resnest50": (3, 4, 6, 3),
    "resnest101": (3, 4, 23, 3),
    "resnest200": (3, 24, 36, 3),
    "resnest269": (3, 30, 48, 8),
}
RADIX = 2
CARDINALITY = 1


def _channel_slice(g: Graph, x: str, start: int, stop: int) -> str:
    begin, end, axis = (g.const(np.array([v])) for v in (start, stop, 1))
    return g.node("Slice", [x, begin, end, axis], stop - start)


def _sum(g: Graph, xs: list[str]) -> str:
    total = xs[0]
    for x in xs[1:]:
        total = g.add(total, x)
    return total


def _radix_softmax(g: Graph, x: str, channels: int) -> str:
    """fc2's (N, radix x channels, 1, 1) as (cardinality, radix, rest) per sample, soft-maxed
    over the radix axis, back in (radix, channels) order."""
    shape = g.const(np.array([0, CARDINALITY, RADIX, -1]))
    x = g.node("Reshape", [x, shape])
    x = g.node("Transpose", [x], perm=[0, 2, 1, 3])
    x = g.node("Softmax", [x], axis=1)
    back = g.const(np.array([0, RADIX * channels, 1, 1]))
    return g.node("Reshape", [x, back], RADIX * channels)


def split_attention(g: Graph, x: str, prefix: str, stride: int, dilation: int) -> str:
    """``SplitAttentionConv`` (3x3, ``stride``, ``dilation``)."""
    y = g.conv(
        x,
        f"{prefix}.conv",
        kernel=3,
        stride=stride,
        padding=dilation,
        dilation=dilation,
        groups=CARDINALITY * RADIX,
        bn=f"{prefix}.bn",
        relu=True,
    )
    channels = g.channels[y] // RADIX
    parts = [_channel_slice(g, y, r * channels, (r + 1) * channels) for r in range(RADIX)]
    gap = g.global_avg_pool(_sum(g, parts))
    gap = g.conv(
        gap, f"{prefix}.fc1", kernel=1, groups=CARDINALITY, bias=True, bn=f"{prefix}.bn1", relu=True
    )
    att = g.conv(
        gap, f"{prefix}.fc2", kernel=1, groups=CARDINALITY, bias=True, out=RADIX * channels
    )
    att = _radix_softmax(g, att, channels)
    weights = [_channel_slice(g, att, r * channels, (r + 1) * channels) for r in range(RADIX)]
    return _sum(g, [g.mul(p, w) for p, w in zip(parts, weights, strict=True)])


def _shortcut(g: Graph, x: str, prefix: str, planes: int, stride: int) -> str:
    """``avg_down`` downsample: ``.0`` average pool (identity at stride 1), ``.1`` 1x1
    convolution, ``.2`` BatchNorm."""
    if f"{prefix}.downsample.1.weight" not in g.params:
        if stride != 1 or g.channels[x] != planes * EXPANSION:
            g.param(f"{prefix}.downsample.1.weight")  # raises: the file lacks it
        return x
    if stride != 1:
        x = g.avg_pool(x, stride, stride, ceil=True, count_include_pad=False)
    return g.conv(x, f"{prefix}.downsample.1", kernel=1, bn=f"{prefix}.downsample.2")


def bottleneck(
    g: Graph, x: str, prefix: str, planes: int, stride: int, dilation: int, avd: bool
) -> str:
    """ResNeSt ``Bottleneck`` (``avd_first=False``)."""
    out = g.conv(x, f"{prefix}.conv1", kernel=1, bn=f"{prefix}.bn1", relu=True)
    out = split_attention(g, out, f"{prefix}.conv2", 1 if avd else stride, dilation)
    if avd:
        out = g.avg_pool(out, 3, stride, 1)
    out = g.conv(out, f"{prefix}.conv3", kernel=1, bn=f"{prefix}.bn3")
    return g.relu(g.add(out, _shortcut(g, x, prefix, planes, stride)))


def resnest(g: Graph, x: str, depth: str) -> tuple[str, str]:
    """The dilated ResNeSt; returns (c3, c4), the outputs of stages 3 and 4 (stride 8)."""
    x = deep_stem(g, x)
    outputs = []
    for stage, blocks in enumerate(DEPTHS[depth], start=1):
        stride, first, later = stage_plan(stage)
        planes = 64 * 2 ** (stage - 1)
        # GluonCV's avd: the first block strides or changes the dilation (previous_dilation).
        avd = stride > 1 or first != later
        x = bottleneck(g, x, f"layer{stage}.0", planes, stride, first, avd)
        for b in range(1, blocks):
            x = bottleneck(g, x, f"layer{stage}.{b}", planes, 1, later, False)
        outputs.append(x)
    return outputs[2], outputs[3]


def deeplab_resnest(g: Graph, x: str, depth: str, classes: int) -> str:
    _c3, c4 = resnest(g, x, depth)
    return deeplab_head(g, c4, "head", classes)


BUILDERS: dict[str, Builder] = {
    "deeplab_resnest50": lambda g, x, c: deeplab_resnest(g, x, "resnest50", c),
    "deeplab_resnest101": lambda g, x, c: deeplab_resnest(g, x, "resnest101", c),
    "deeplab_resnest200": lambda g, x, c: deeplab_resnest(g, x, "resnest200", c),
    "deeplab_resnest269": lambda g, x, c: deeplab_resnest(g, x, "resnest269", c),
}
