"""GluonCV's DeepLabV3 (``gluoncv/model_zoo/deeplabv3.py``) on the dilated ResNets.

The dilated ResNet v1s (output stride 8), then ``_DeepLabHead`` on c4:

- ``_ASPP``: five parallel branches of 256 channels, each convolution + BatchNorm + ReLU: a 1x1
  convolution; 3x3 convolutions at dilations 12, 24, 36; ``_AsppPooling`` (global average pool,
  1x1 convolution, then "resized" from 1x1 to the feature size, i.e. broadcast); concatenated
  and projected by a 1x1 convolution (+ BatchNorm, ReLU, dropout);
- ``block``: 3x3 convolution to 256, BatchNorm, ReLU, (dropout), 1x1 convolution to the classes
  with bias.
"""

from __future__ import annotations

from . import Builder
from .graph import Graph
from .resnet import resnet_v1s

ATROUS_RATES = (12, 24, 36)


def aspp_pooling(g: Graph, x: str, prefix: str, like: str) -> str:
    """``_AsppPooling``: image-level features, spread over ``like``'s shape.

    GluonCV resizes the 1x1 map to the size fixed at construction (``side // 8``, which equals
    the feature size for the inputs it accepts); an align-corners resize of a 1x1 map is a
    broadcast, so it is expanded to the feature's runtime shape.
    """
    pool = g.global_avg_pool(x)
    pool = g.conv(pool, f"{prefix}.gap.1", kernel=1, bn=f"{prefix}.gap.2", relu=True)
    return g.node("Expand", [pool, g.node("Shape", [like])], g.channels[pool])


def aspp(g: Graph, x: str, prefix: str) -> str:
    """``_ASPP``: the five branches of ``prefix.concurent``, then ``prefix.project``."""
    branch = f"{prefix}.concurent"
    b0 = g.conv(x, f"{branch}.0.0", kernel=1, bn=f"{branch}.0.1", relu=True)
    branches = [b0]
    for i, rate in enumerate(ATROUS_RATES, start=1):
        branches.append(
            g.conv(
                x,
                f"{branch}.{i}.0",
                kernel=3,
                padding=rate,
                dilation=rate,
                bn=f"{branch}.{i}.1",
                relu=True,
            )
        )
    branches.append(aspp_pooling(g, x, f"{branch}.{len(branches)}", b0))
    y = g.concat(branches)
    return g.conv(y, f"{prefix}.project.0", kernel=1, bn=f"{prefix}.project.1", relu=True)


def deeplab_head(g: Graph, x: str, prefix: str, classes: int) -> str:
    """``_DeepLabHead``: ASPP, then the 3x3 + 1x1 classifier."""
    x = aspp(g, x, f"{prefix}.aspp")
    x = g.conv(x, f"{prefix}.block.0", kernel=3, padding=1, bn=f"{prefix}.block.1", relu=True)
    return g.conv(x, f"{prefix}.block.4", kernel=1, bias=True, out=classes)


def deeplab(g: Graph, x: str, backbone: str, classes: int) -> str:
    _c3, c4 = resnet_v1s(g, x, backbone)
    return deeplab_head(g, c4, "head", classes)


BUILDERS: dict[str, Builder] = {
    "deeplab_resnet50": lambda g, x, c: deeplab(g, x, "resnet50", c),
    "deeplab_resnet101": lambda g, x, c: deeplab(g, x, "resnet101", c),
    "deeplab_resnet152": lambda g, x, c: deeplab(g, x, "resnet152", c),
}
