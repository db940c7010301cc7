"""DANet (``gluoncv/model_zoo/danet.py``, attention from ``gluoncv/model_zoo/attention.py``).

The dilated ResNet (``resnet.py``), then ``DANetHead`` on c4 (2048 channels). Its first output,
the main one, is ``conv8(conv51(PAM(conv5a(c4))) + conv52(CAM(conv5c(c4))))``:

- ``conv5a``/``conv5c``: 3x3 conv to 512, BN, ReLU; ``conv51``/``conv52`` the same 512 -> 512.
- ``PAM_Module`` (position attention, ``sa``): q, k = 1x1 convs to 64 (bias), v = 1x1 conv to
  512 (bias), flattened to (N, C, HW); attention = softmax(q^T k) over the last axis;
  out = gamma * (v . attention^T) + x.
- ``CAM_Module`` (channel attention, ``sc``): x flattened to (N, C, HW); energy = x x^T;
  attention = softmax(max(energy, last axis) - energy); out = gamma * (attention . x) + x.
- ``conv8``: 1x1 conv to the classes with bias. Its resize to the input size is
  ``Graph.model``'s.

``conv6``/``conv7`` (the PAM-only and CAM-only outputs) only serve training.
"""

from __future__ import annotations

import numpy as np

from . import Builder
from .graph import Graph
from .resnet import resnet_v1s

IGNORED = ("head.conv6.", "head.conv7.")
INTER = 512  # DANetHead's inter_channels: 2048 // 4


def _flatten(g: Graph, x: str) -> str:
    """(N, C, H, W) -> (N, C, H * W)."""
    return g.node("Reshape", [x, g.const(np.array([0, 0, -1], np.int64))])


def _transpose(g: Graph, x: str) -> str:
    return g.node("Transpose", [x], perm=[0, 2, 1])


def _residual(g: Graph, out: str, x: str, prefix: str) -> str:
    """``gamma * out + x``, ``out`` (N, C, HW) reshaped back to x's shape."""
    out = g.node("Reshape", [out, g.node("Shape", [x])], g.channels[x])
    gamma = g.const(g.param(f"{prefix}.gamma", (1,)))
    return g.add(g.mul(out, gamma), x)


def pam(g: Graph, x: str, prefix: str) -> str:
    """``PAM_Module`` ``prefix``: attention between positions."""
    c = g.channels[x]
    query = _flatten(g, g.conv(x, f"{prefix}.query_conv", kernel=1, out=c // 8, bias=True))
    key = _flatten(g, g.conv(x, f"{prefix}.key_conv", kernel=1, out=c // 8, bias=True))
    value = _flatten(g, g.conv(x, f"{prefix}.value_conv", kernel=1, out=c, bias=True))
    energy = g.node("MatMul", [_transpose(g, query), key])  # (N, HW, HW)
    attention = g.node("Softmax", [energy], axis=-1)
    out = g.node("MatMul", [value, _transpose(g, attention)])
    return _residual(g, out, x, prefix)


def cam(g: Graph, x: str, prefix: str) -> str:
    """``CAM_Module`` ``prefix``: attention between channels."""
    flat = _flatten(g, x)
    energy = g.node("MatMul", [flat, _transpose(g, flat)])  # (N, C, C)
    peak = g.node("ReduceMax", [energy], axes=[-1], keepdims=1)
    attention = g.node("Softmax", [g.node("Sub", [peak, energy])], axis=-1)
    out = g.node("MatMul", [attention, flat])
    return _residual(g, out, x, prefix)


def _conv_bn_relu(g: Graph, x: str, prefix: str) -> str:
    """``conv5a``-style block ``prefix``: 3x3 conv to 512, BN, ReLU."""
    return g.conv(x, f"{prefix}.0", kernel=3, padding=1, out=INTER, bn=f"{prefix}.1", relu=True)


def danet_head(g: Graph, x: str, prefix: str, classes: int) -> str:
    """``DANetHead`` ``prefix``: its first output (``sasc_output``)."""
    sa = pam(g, _conv_bn_relu(g, x, f"{prefix}.conv5a"), f"{prefix}.sa")
    sa = _conv_bn_relu(g, sa, f"{prefix}.conv51")
    sc = cam(g, _conv_bn_relu(g, x, f"{prefix}.conv5c"), f"{prefix}.sc")
    sc = _conv_bn_relu(g, sc, f"{prefix}.conv52")
    return g.conv(g.add(sa, sc), f"{prefix}.conv8.0", kernel=1, out=classes, bias=True)


def danet(g: Graph, x: str, backbone: str, classes: int) -> str:
    _c3, c4 = resnet_v1s(g, x, backbone)
    return danet_head(g, c4, "head", classes)


BUILDERS: dict[str, Builder] = {
    "danet_resnet50": lambda g, x, c: danet(g, x, "resnet50", c),
    "danet_resnet101": lambda g, x, c: danet(g, x, "resnet101", c),
}
