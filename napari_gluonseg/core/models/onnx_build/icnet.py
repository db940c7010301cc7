"""ICNet (``gluoncv/model_zoo/icnet.py``, ``ICNet.hybrid_forward``), sizes from the input's
(H, W) as GluonCV computes them.

- Large resolution: ``conv_sub1``, three ConvBnRelu 3x3 stride 2 (32, 32, 64): 1/8.
- Medium: the input resized to (H // 2, W // 2), the dilated ResNet's stem, layer1 and layer2:
  x_sub2 (512 channels, 1/16).
- Small: x_sub2 resized to (H // 32, W // 32), layer3 and layer4 (dilated), ``psp_head``
  (``_PSPHead`` without its last conv: 512 channels), ``conv_sub4`` (1x1 to 256). x_sub2 goes
  through ``conv_sub2`` (1x1 to 256).
- ``_ICHead``: ``cff_24`` fuses the small branch into the medium one at (H // 16, W // 16),
  ``cff_12`` that into the large one at (H // 8, W // 8); the result is resized to (H // 4,
  W // 4) and ``conv_cls`` gives the main logits (the first output, ``up_x8``, is their resize
  to (H, W), which ``Graph.model`` adds). The fusions' ``conv_low_cls`` only feed the
  training-time outputs.
"""

from __future__ import annotations

import numpy as np

from . import Builder
from .graph import Graph
from .psp import psp_head
from .resnet import DEPTHS, bottleneck, deep_stem, stage_plan

# The cascade-feature-fusion classifiers: training-only outputs.
IGNORED = ("head.cff_12.conv_low_cls.", "head.cff_24.conv_low_cls.")


def _scaled(g: Graph, size: str, divisor: int) -> str:
    """``size // divisor`` (int64 [2], sizes >= 0)."""
    return g.node("Div", [size, g.const(np.array([divisor], np.int64))])


def conv_bn_relu(g: Graph, x: str, prefix: str, out: int, kernel: int, stride: int = 1) -> str:
    """``ConvBnRelu`` ``prefix`` (padding 1 for 3x3, 0 for 1x1, as ICNet builds them)."""
    return g.conv(
        x,
        f"{prefix}.conv",
        kernel=kernel,
        stride=stride,
        padding=kernel // 2,
        out=out,
        bn=f"{prefix}.bn",
        relu=True,
    )


def _stages(g: Graph, x: str, depth: str, stages: range) -> str:
    """Stages ``stages`` (1..4) of the dilated ResNetV1b."""
    for stage in stages:
        stride, first, later = stage_plan(stage)
        planes = 64 * 2 ** (stage - 1)
        for b in range(DEPTHS[depth][stage - 1]):
            x = bottleneck(
                g,
                x,
                f"layer{stage}.{b}",
                planes,
                stride if b == 0 else 1,
                first if b == 0 else later,
            )
    return x


def cascade_fusion(g: Graph, low: str, high: str, prefix: str, size: str) -> str:
    """``CascadeFeatureFusion`` ``prefix``: ``low`` resized to ``size``, 3x3 conv (dilation 2)
    and BatchNorm, plus ``high`` through 1x1 conv and BatchNorm, ReLU."""
    low = g.conv(
        g.resize(low, size),
        f"{prefix}.conv_low.0",
        kernel=3,
        padding=2,
        dilation=2,
        out=128,
        bn=f"{prefix}.conv_low.1",
    )
    high = g.conv(high, f"{prefix}.conv_hign.0", kernel=1, out=128, bn=f"{prefix}.conv_hign.1")
    return g.relu(g.add(low, high))


def icnet(g: Graph, x: str, backbone: str, classes: int) -> str:
    size = g.spatial_size(x)
    sub1 = x
    for k, out in enumerate((32, 32, 64)):
        sub1 = conv_bn_relu(g, sub1, f"conv_sub1.{k}", out, 3, stride=2)

    y = deep_stem(g, g.resize(x, _scaled(g, size, 2)))
    sub2 = _stages(g, y, backbone, range(1, 3))

    y = _stages(g, g.resize(sub2, _scaled(g, size, 32)), backbone, range(3, 5))
    sub4 = conv_bn_relu(g, psp_head(g, y, "psp_head", None), "conv_sub4", 256, 1)
    sub2 = conv_bn_relu(g, sub2, "conv_sub2", 256, 1)

    fused = cascade_fusion(g, sub4, sub2, "head.cff_24", _scaled(g, size, 16))
    fused = cascade_fusion(g, fused, sub1, "head.cff_12", _scaled(g, size, 8))
    up = g.resize(fused, _scaled(g, size, 4))
    return g.conv(up, "head.conv_cls", kernel=1, out=classes)


BUILDERS: dict[str, Builder] = {
    "icnet_resnet50": lambda g, x, c: icnet(g, x, "resnet50", c),
}
