"""Fast-SCNN (``gluoncv/model_zoo/fastscnn.py``, ``FastSCNN.hybrid_forward``).

- ``learning_to_downsample``: ``_ConvBNReLU`` 3x3 stride 2 *without padding* (32), two
  ``_DSConv`` (depthwise 3x3 stride 2 + BN + ReLU, pointwise 1x1 + BN + ReLU; 48, 64): 1/8.
- ``global_feature_extractor``: three stages of three MobileNetV2 ``LinearBottleneck`` (expand
  x6 1x1 + BN + ReLU, depthwise 3x3 + BN + ReLU, project 1x1 + BN; shortcut when stride 1 and the
  channels keep; 64 stride 2, 96 stride 2, 128 stride 1): 1/32; then ``_FastPyramidPooling``
  (PSP's bins 1, 2, 3, 6 at 32 channels, concatenated after x, ``_ConvBNReLU`` 1x1 to 128).
- ``feature_fusion``: the low-resolution branch resized to the 1/8 size, ``_DWConv``, 1x1 conv
  (bias) + BN; the 1/8 branch 1x1 conv (bias) + BN; sum, ReLU.
- ``classifier``: two ``_DSConv`` (128), (dropout), 1x1 conv to the classes with bias. These
  logits are the first (main) output; their resize to the input size is ``Graph.model``'s.
  ``auxlayer`` (the second output) only serves training.

GluonCV sizes the pyramid pooling's and the fusion's upsampling at construction (H // 32 and
H // 8) and accepts only inputs where these are the features' own sizes (multiples of 32), so
the graph resizes to the features' run-time sizes: the same there, and defined everywhere.
"""

from __future__ import annotations

from . import Builder
from .graph import Graph
from .psp import pyramid_pooling

EXPANSION = 6  # t of the linear bottlenecks
# (channels, stride) of global_feature_extractor's bottleneck1..3, three blocks each.
BOTTLENECKS = ((64, 2), (96, 2), (128, 1))
BLOCKS = 3


def ds_conv(g: Graph, x: str, prefix: str, out: int, stride: int) -> str:
    """``_DSConv`` ``prefix``: depthwise 3x3 (stride), BN, ReLU, pointwise 1x1, BN, ReLU."""
    x = dw_conv(g, x, prefix, stride)
    return g.conv(x, f"{prefix}.conv.3", kernel=1, out=out, bn=f"{prefix}.conv.4", relu=True)


def dw_conv(g: Graph, x: str, prefix: str, stride: int = 1) -> str:
    """``_DWConv`` ``prefix``: depthwise 3x3 (stride), BN, ReLU."""
    c = g.channels[x]
    return g.conv(
        x,
        f"{prefix}.conv.0",
        kernel=3,
        stride=stride,
        padding=1,
        groups=c,
        out=c,
        bn=f"{prefix}.conv.1",
        relu=True,
    )


def linear_bottleneck(g: Graph, x: str, prefix: str, out: int, stride: int) -> str:
    """``LinearBottleneck`` ``prefix``: expand, depthwise, linear projection (+ shortcut)."""
    cin = g.channels[x]
    y = g.conv(
        x,
        f"{prefix}.block.0.block.0",
        kernel=1,
        out=cin * EXPANSION,
        bn=f"{prefix}.block.0.block.1",
        relu=True,
    )
    y = dw_conv(g, y, f"{prefix}.block.1", stride)
    y = g.conv(y, f"{prefix}.block.2", kernel=1, out=out, bn=f"{prefix}.block.3")
    return g.add(x, y) if stride == 1 and cin == out else y


def learning_to_downsample(g: Graph, x: str, prefix: str) -> str:
    x = g.conv(
        x,
        f"{prefix}.conv.block.0",
        kernel=3,
        stride=2,
        out=32,
        bn=f"{prefix}.conv.block.1",
        relu=True,
    )
    x = ds_conv(g, x, f"{prefix}.dsconv1", 48, 2)
    return ds_conv(g, x, f"{prefix}.dsconv2", 64, 2)


def global_feature_extractor(g: Graph, x: str, prefix: str) -> str:
    for stage, (out, stride) in enumerate(BOTTLENECKS, start=1):
        for b in range(BLOCKS):
            x = linear_bottleneck(
                g, x, f"{prefix}.bottleneck{stage}.{b}", out, stride if b == 0 else 1
            )
    x = pyramid_pooling(g, x, f"{prefix}.ppm")
    return g.conv(
        x, f"{prefix}.ppm.out.block.0", kernel=1, out=128, bn=f"{prefix}.ppm.out.block.1", relu=True
    )


def feature_fusion(g: Graph, higher: str, lower: str, prefix: str) -> str:
    lower = dw_conv(g, g.resize_like(lower, higher), f"{prefix}.dwconv")
    lower = g.conv(
        lower, f"{prefix}.conv_lower_res", kernel=1, out=128, bias=True, bn=f"{prefix}.bn"
    )
    higher = g.conv(
        higher, f"{prefix}.conv_higher_res", kernel=1, out=128, bias=True, bn=f"{prefix}.bn_high"
    )
    return g.relu(g.add(higher, lower))


def classifier(g: Graph, x: str, prefix: str, classes: int) -> str:
    x = ds_conv(g, x, f"{prefix}.dsconv1", 128, 1)
    x = ds_conv(g, x, f"{prefix}.dsconv2", 128, 1)
    return g.conv(x, f"{prefix}.conv", kernel=1, out=classes, bias=True)


def fastscnn(g: Graph, x: str, classes: int) -> str:
    higher = learning_to_downsample(g, x, "learning_to_downsample")
    lower = global_feature_extractor(g, higher, "global_feature_extractor")
    x = feature_fusion(g, higher, lower, "feature_fusion")
    return classifier(g, x, "classifier", classes)


BUILDERS: dict[str, Builder] = {"fastscnn": fastscnn}
