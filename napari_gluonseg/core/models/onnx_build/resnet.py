"""GluonCV's dilated ResNetV1b "v1s" backbone (``resnet50/101/152_v1s``, ``dilated=True``), as
``SegBaseModel.base_forward`` runs it: the spec is ``gluoncv/model_zoo/resnetv1b.py``.

Deep stem of three 3x3 convolutions (64 -> 64 -> 128, stride 2 first), BatchNorm, max-pool 3/2/1;
four stages of bottlenecks (stride on the 3x3 convolution of a stage's first block); stages 3
and 4 dilated (2 and 4; their first blocks 1 and 2) instead of strided: output stride 8.
"""

from __future__ import annotations

from .graph import Graph

# Blocks per stage.
DEPTHS = {
    "resnet50": (3, 4, 6, 3),
    "resnet101": (3, 4, 23, 3),
    "resnet152": (3, 8, 36, 3),
}
EXPANSION = 4


def deep_stem(g: Graph, x: str, prefix: str = "") -> str:
    """``conv1`` (3 convolutions), ``bn1``, ReLU, max-pool: stride 4."""
    x = g.conv(
        x, f"{prefix}conv1.0", kernel=3, stride=2, padding=1, bn=f"{prefix}conv1.1", relu=True
    )
    x = g.conv(x, f"{prefix}conv1.3", kernel=3, padding=1, bn=f"{prefix}conv1.4", relu=True)
    x = g.conv(x, f"{prefix}conv1.6", kernel=3, padding=1, bn=f"{prefix}bn1", relu=True)
    return g.max_pool(x, 3, 2, 1)


def stage_plan(stage: int, dilated: bool = True) -> tuple[int, int, int]:
    """(stride, first block's dilation, later blocks' dilation) of stage 1..4."""
    if stage == 1:
        return 1, 1, 1
    if stage == 2 or not dilated:
        return 2, 1, 1
    return (1, 1, 2) if stage == 3 else (1, 2, 4)


def bottleneck(g: Graph, x: str, prefix: str, planes: int, stride: int, dilation: int) -> str:
    """``BottleneckV1b``: 1x1, 3x3 (stride, dilation), 1x1 x4, plus the shortcut."""
    out = g.conv(x, f"{prefix}.conv1", kernel=1, bn=f"{prefix}.bn1", relu=True)
    out = g.conv(
        out,
        f"{prefix}.conv2",
        kernel=3,
        stride=stride,
        padding=dilation,
        dilation=dilation,
        bn=f"{prefix}.bn2",
        relu=True,
    )
    out = g.conv(out, f"{prefix}.conv3", kernel=1, bn=f"{prefix}.bn3")
    shortcut = x
    if f"{prefix}.downsample.0.weight" in g.params:
        shortcut = g.conv(
            x, f"{prefix}.downsample.0", kernel=1, stride=stride, bn=f"{prefix}.downsample.1"
        )
    elif stride != 1 or g.channels[x] != planes * EXPANSION:
        g.param(f"{prefix}.downsample.0.weight")  # raises: the file lacks it
    return g.relu(g.add(out, shortcut))


def resnet_v1s(g: Graph, x: str, depth: str, prefix: str = "") -> tuple[str, str]:
    """The dilated backbone; returns (c3, c4), the outputs of stages 3 and 4 (stride 8)."""
    x = deep_stem(g, x, prefix)
    outputs = []
    for stage, blocks in enumerate(DEPTHS[depth], start=1):
        stride, first, later = stage_plan(stage)
        planes = 64 * 2 ** (stage - 1)
        for b in range(blocks):
            x = bottleneck(
                g,
                x,
                f"{prefix}layer{stage}.{b}",
                planes,
                stride if b == 0 else 1,
                first if b == 0 else later,
            )
        outputs.append(x)
    return outputs[2], outputs[3]
