"""DeepLabV3+ on WideResNet38 (``gluoncv/model_zoo/deeplabv3b_plus.py``, ``wideresnet.py``).

Backbone (``WiderResNetA2``, structure 3, 3, 6, 3, 1, 1, dilated): ``mod1`` 3x3 conv to 64;
max pool 3/2 then ``mod2`` (1/2, kept as the decoder's low-level features); max pool 3/2 then
``mod3`` (1/4); ``mod4`` (first block strided: 1/8); ``mod5`` (dilation 2); ``mod6`` and ``mod7``
(bottlenecks, dilation 4). Each ``IdentityResidualBlock`` is pre-activation: BatchNorm + ReLU
(``bn1``, after no convolution), then the convolutions with BatchNorm + ReLU between them; the
shortcut is the input, or a 1x1 ``proj_conv`` of the activated input where the shape changes.
The backbone's ``bn_out`` is not part of the segmentation network.

Head (``_DeepLabHead``): ASPP on ``mod7`` (1x1 branch, 3x3 branches at rates 12, 24, 36, image
pooling resized back to the feature size), concatenated pooling-first, 1x1 ``bot_aspp`` projection
(no BatchNorm); resized to the low-level size, concatenated after the 1x1 ``bot_fine`` of ``mod2``
(48 channels), then two 3x3 conv + BatchNorm + ReLU and a 1x1 conv to the classes, no bias. The
logits are at 1/2 of the input; the final resize to the input size is the network's, not the
head's (``predict`` sizes every resize from the runtime shapes, as this graph does).
"""

from __future__ import annotations

from . import Builder
from .graph import Graph

# (channels of the block's convolutions, number of blocks, dilation, stride of block 1) per module.
_MODULES: tuple[tuple[tuple[int, ...], int, int, int], ...] = (
    ((128, 128), 3, 1, 1),  # mod2
    ((256, 256), 3, 1, 1),  # mod3
    ((512, 512), 6, 1, 2),  # mod4
    ((512, 1024), 3, 2, 1),  # mod5
    ((512, 1024, 2048), 1, 4, 1),  # mod6
    ((1024, 2048, 4096), 1, 4, 1),  # mod7
)
ASPP_RATES = (12, 24, 36)


def identity_block(
    g: Graph, x: str, prefix: str, channels: tuple[int, ...], dilation: int, stride: int
) -> str:
    """``IdentityResidualBlock``: ``convs`` holds conv, bnrelu, conv (basic) or conv, bnrelu,
    conv, bnrelu, dropout, conv (bottleneck); a bnrelu is a Sequential, hence ``.0``."""
    act = g.batchnorm(x, f"{prefix}.bn1.0", relu=True)
    shortcut = x
    if stride != 1 or g.channels[x] != channels[-1]:
        shortcut = g.conv(act, f"{prefix}.proj_conv", kernel=1, stride=stride, out=channels[-1])
    c = f"{prefix}.convs"
    if len(channels) == 2:
        y = g.conv(
            act,
            f"{c}.0",
            kernel=3,
            stride=stride,
            padding=dilation,
            dilation=dilation,
            out=channels[0],
            bn=f"{c}.1.0",
            relu=True,
        )
        y = g.conv(y, f"{c}.2", kernel=3, padding=dilation, dilation=dilation, out=channels[1])
    else:
        y = g.conv(act, f"{c}.0", kernel=1, stride=stride, bn=f"{c}.1.0", relu=True)
        y = g.conv(
            y,
            f"{c}.2",
            kernel=3,
            padding=dilation,
            dilation=dilation,
            out=channels[1],
            bn=f"{c}.3.0",
            relu=True,
        )
        y = g.conv(y, f"{c}.5", kernel=1, out=channels[2])  # convs.4 is the dropout
    return g.add(y, shortcut)


def wider_resnet38(g: Graph, x: str) -> tuple[str, str]:
    """The dilated WideResNet38 (output stride 8): (mod2, mod7)."""
    x = g.conv(x, "mod1.0", kernel=3, padding=1, out=64)
    outs: list[str] = []
    for index, (channels, blocks, dilation, stride) in enumerate(_MODULES):
        mod = index + 2
        if mod in (2, 3):
            x = g.max_pool(x, 3, 2, 1)
        for block in range(blocks):
            x = identity_block(
                g, x, f"mod{mod}.{block}", channels, dilation, stride if block == 0 else 1
            )
        outs.append(x)
    return outs[0], outs[-1]


def aspp(g: Graph, x: str, prefix: str) -> str:
    """``_ASPP``: the image pooling branch first in the concatenation, then b0..b3."""
    pool = g.global_avg_pool(x)
    pool = g.conv(pool, f"{prefix}.b4.gap.1", kernel=1, out=256, bn=f"{prefix}.b4.gap.2", relu=True)
    feats = [g.resize_like(pool, x)]
    feats.append(g.conv(x, f"{prefix}.b0.0", kernel=1, out=256, bn=f"{prefix}.b0.1", relu=True))
    for branch, rate in enumerate(ASPP_RATES, start=1):
        b = f"{prefix}.b{branch}"
        y = g.conv(x, f"{b}.0", kernel=3, padding=rate, dilation=rate, bn=f"{b}.1", relu=True)
        feats.append(y)
    return g.conv(g.concat(feats), f"{prefix}.project.0", kernel=1, out=256)


def deeplab_head(g: Graph, x: str, low: str, prefix: str, classes: int) -> str:
    """``_DeepLabHead.demo``: ASPP, resized to the low-level features, decoder, classifier."""
    c1 = g.conv(low, f"{prefix}.c1_block.0", kernel=1, out=48)
    y = g.resize_like(aspp(g, x, f"{prefix}.aspp"), low)
    y = g.concat([c1, y])
    b = f"{prefix}.block"
    y = g.conv(y, f"{b}.0", kernel=3, padding=1, out=256, bn=f"{b}.1", relu=True)
    y = g.conv(y, f"{b}.3", kernel=3, padding=1, out=256, bn=f"{b}.4", relu=True)
    return g.conv(y, f"{b}.6", kernel=1, out=classes)


def deeplab_v3b_plus(g: Graph, x: str, classes: int) -> str:
    low, c = wider_resnet38(g, x)
    return deeplab_head(g, c, low, "head", classes)


BUILDERS: dict[str, Builder] = {"deeplab_v3b_plus_wideresnet": deeplab_v3b_plus}
