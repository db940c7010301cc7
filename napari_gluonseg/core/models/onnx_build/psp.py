"""PSPNet (``gluoncv/model_zoo/pspnet.py``): the dilated ResNet, then ``_PSPHead`` on c4.

``_PyramidPooling``: c4 (2048 channels) adaptive-average-pooled to 1x1, 2x2, 3x3 and 6x6 bins,
each through a 1x1 conv to 512, BatchNorm, ReLU, upsampled (align corners) back to c4's size,
concatenated after c4 (4096 channels). ``_PSPHead`` block: 3x3 conv to 512, BatchNorm, ReLU,
(dropout), 1x1 conv to the classes with bias. ICNet reuses the head without its last conv.
"""

from __future__ import annotations

import numpy as np

from . import Builder
from .graph import Graph
from .resnet import resnet_v1s

BINS = (1, 2, 3, 6)  # conv1..conv4 of _PyramidPooling


def _int64(value: int | list[int]) -> np.ndarray:
    return np.array(value, np.int64)


def _dim(g: Graph, x: str, axis: int) -> str:
    """x's size along ``axis`` as an int64 scalar."""
    return g.node("Gather", [g.node("Shape", [x]), g.const(_int64(axis))], axis=0)


def _pool_matrix(g: Graph, length: str, bins: int) -> str:
    """A (bins, length) float matrix whose row i averages MXNet's adaptive-pooling bin
    ``[floor(i * L / bins), ceil((i + 1) * L / bins))`` (bins may be uneven or overlap)."""
    rows = np.arange(bins, dtype=np.int64).reshape(bins, 1)
    o = g.const(_int64(bins))
    start = g.node("Div", [g.node("Mul", [g.const(rows), length]), o])
    # ceil(a / o) = (a + o - 1) // o; integer Div floors here as every operand is >= 0.
    end_num = g.node("Add", [g.node("Mul", [g.const(rows + 1), length]), g.const(_int64(bins - 1))])
    end = g.node("Div", [end_num, o])
    cols = g.node("Range", [g.const(_int64(0)), length, g.const(_int64(1))])
    inside = g.node("And", [g.node("GreaterOrEqual", [cols, start]), g.node("Less", [cols, end])])
    mask = g.node("Cast", [inside], to=1)  # float
    count = g.node("Cast", [g.node("Sub", [end, start])], to=1)
    return g.node("Div", [mask, count])


def adaptive_avg_pool(g: Graph, x: str, bins: int) -> str:
    """MXNet ``contrib.AdaptiveAvgPooling2D(x, bins)`` as A_h . x . A_w^T, the averaging
    matrices made from x's run-time size (ONNX has no adaptive pooling)."""
    if bins == 1:
        return g.global_avg_pool(x)
    a_h = _pool_matrix(g, _dim(g, x, 2), bins)
    a_w = _pool_matrix(g, _dim(g, x, 3), bins)
    rows = g.node("MatMul", [a_h, x])  # (N, C, bins, W)
    return g.node("MatMul", [rows, g.node("Transpose", [a_w], perm=[1, 0])], g.channels[x])


def pyramid_pooling(g: Graph, x: str, prefix: str) -> str:
    """``_PyramidPooling`` ``prefix``: x and its four pooled, upsampled branches."""
    # GluonCV upsamples to the size it was built for (side // 8 or // 32): x's own size at
    # every input it accepts.
    size = g.spatial_size(x)
    branches = [x]
    for k, bins in enumerate(BINS, start=1):
        y = g.conv(
            adaptive_avg_pool(g, x, bins),
            f"{prefix}.conv{k}.0",
            kernel=1,
            out=g.channels[x] // 4,
            bn=f"{prefix}.conv{k}.1",
            relu=True,
        )
        branches.append(g.resize(y, size))
    return g.concat(branches)


def psp_head(g: Graph, x: str, prefix: str, classes: int | None) -> str:
    """``_PSPHead`` ``prefix`` on c4; ``classes`` None: without the final 1x1 conv (ICNet's
    ``block[:-1]``), 512 channels out."""
    x = pyramid_pooling(g, x, f"{prefix}.psp")
    x = g.conv(
        x, f"{prefix}.block.0", kernel=3, padding=1, out=512, bn=f"{prefix}.block.1", relu=True
    )
    if classes is None:
        return x
    return g.conv(x, f"{prefix}.block.4", kernel=1, bias=True, out=classes)


def psp(g: Graph, x: str, backbone: str, classes: int) -> str:
    _c3, c4 = resnet_v1s(g, x, backbone)
    return psp_head(g, c4, "head", classes)


BUILDERS: dict[str, Builder] = {
    "psp_resnet50": lambda g, x, c: psp(g, x, "resnet50", c),
    "psp_resnet101": lambda g, x, c: psp(g, x, "resnet101", c),
}
