"""The final classifier of a built graph: the 1x1 convolution every family ends in, which turns
the network's own features into class logits (issue 32, learning from corrections).

A learned head is a softmax regression on those features, i.e. another 1x1 convolution: it
replaces the final classifier's weight and bias (:func:`replace_classifier`), its logits then
averaged over a neighbourhood of grid cells where the head was fitted on features so averaged;
a features model drops the classifier to give its input (:func:`final_classifier`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ...errors import EngineError, WeightsError
from .graph import Graph

if TYPE_CHECKING:
    from onnx import NodeProto

# A learned head: weight (classes, features) and bias (classes,), float32, and optionally the
# neighbourhood (odd, in grid cells each way) its logits are averaged over (1 where not given).
Head = tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, int]


def _ints(node: NodeProto, name: str, default: int) -> set[int]:
    """The values of ``node``'s integer (or integer-list) attribute ``name``; ``{default}``
    where the node does not set it."""
    from onnx import helper

    found = [helper.get_attribute_value(a) for a in node.attribute if a.name == name]
    if not found:
        return {default}
    value = found[0]
    return {int(v) for v in value} if isinstance(value, list) else {int(value)}


def final_classifier(g: Graph, logits: str) -> tuple[str, NodeProto]:
    """The features (the input tensor) and the node of the final classifier that produced the
    builder's ``logits``: a 1x1 convolution with stride 1, no padding and no groups, so each
    logit is ``W . features + b`` at its own cell. Anything else is refused naming the model."""
    node = g.producer(logits)
    plain = node is not None and (
        node.op_type == "Conv"
        and len(node.input) == 3
        and _ints(node, "kernel_shape", 0) == {1}
        and _ints(node, "strides", 1) == {1}
        and _ints(node, "pads", 0) == {0}
        and _ints(node, "dilations", 1) == {1}
        and _ints(node, "group", 1) == {1}
    )
    if node is None or not plain:
        what = "an input" if node is None else f"a {node.op_type} node"
        raise EngineError(
            f"{g.model_name}'s graph ends in {what}, not in a plain 1x1 convolution: it cannot "
            "give its features or take a learned head."
        )
    return node.input[0], node


def replace_classifier(g: Graph, logits: str, head: Head) -> str:
    """The final classifier of ``logits`` computes ``head`` (weight (K, C), bias (K,)) instead:
    ``logits`` then has K channels. C must be the features' channel count. Returns the logits
    tensor: ``logits``, or its mean over the head's neighbourhood (the cells of it that lie in
    the grid, as ``core/learn/samples.neighbourhood_mean`` averages the features it learned
    from: the mean of a linear map is the map of the mean)."""
    features, node = final_classifier(g, logits)
    weight = np.asarray(head[0], np.float32)
    bias = np.asarray(head[1], np.float32)
    size = int(head[2]) if len(head) > 2 else 1
    if size < 1 or size % 2 == 0:
        raise WeightsError(f"a learned head's neighbourhood must be an odd cell count, not {size}.")
    channels = g.channels[features]
    if weight.ndim != 2 or weight.shape[1] != channels or bias.shape != weight.shape[:1]:
        raise WeightsError(
            f"a learned head of weight {'x'.join(map(str, weight.shape))} and bias "
            f"{'x'.join(map(str, bias.shape))} does not fit {g.model_name}, whose final "
            f"classifier reads {channels} features (weight Kx{channels}, bias K)."
        )
    g.replace_const(node.input[1], weight.reshape(*weight.shape, 1, 1))
    g.replace_const(node.input[2], bias)
    g.channels[logits] = weight.shape[0]
    if size == 1:
        return logits
    return g.avg_pool(logits, size, 1, size // 2, count_include_pad=False)
