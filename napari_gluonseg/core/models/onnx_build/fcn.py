"""GluonCV's FCN (``gluoncv/model_zoo/fcn.py``): the dilated ResNet, then ``_FCNHead`` on c4:
3x3 conv to 512 (1/4 of the input channels), BatchNorm, ReLU, (dropout), 1x1 conv to the
classes, with bias."""

from __future__ import annotations

from . import Builder
from .graph import Graph
from .resnet import resnet_v1s


def fcn_head(g: Graph, x: str, prefix: str, classes: int) -> str:
    x = g.conv(x, f"{prefix}.block.0", kernel=3, padding=1, bn=f"{prefix}.block.1", relu=True)
    return g.conv(x, f"{prefix}.block.4", kernel=1, bias=True, out=classes)


def fcn(g: Graph, x: str, backbone: str, classes: int) -> str:
    _c3, c4 = resnet_v1s(g, x, backbone)
    return fcn_head(g, c4, "head", classes)


BUILDERS: dict[str, Builder] = {
    "fcn_resnet50": lambda g, x, c: fcn(g, x, "resnet50", c),
    "fcn_resnet101": lambda g, x, c: fcn(g, x, "resnet101", c),
}
