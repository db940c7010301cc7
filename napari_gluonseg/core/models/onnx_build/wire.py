"""A built model and its file bytes, joined from pieces.

protobuf's ``SerializeToString`` encodes the whole model (~130 MB of weights) in one call that
holds the GIL, and napari's GUI waits: 160 ms on an idle 2-core machine, 2.6x the longest hold
of this module's way (``benchmarks/bench_onnx_build.py --gil``). Here the small part (nodes,
inputs, metadata) is encoded by protobuf and each weight's header too; the weights' bytes go in
as they are, each behind its protobuf field tag and length (the wire format: fields in any
order, a repeated message field may be written piece by piece), and ``bytes.join`` copies them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from onnx import ModelProto

# Field numbers of onnx.proto (stable: a file format): ModelProto.graph = 7,
# GraphProto.initializer = 5, TensorProto.raw_data = 9; each a length-delimited field (type 2).
_MODEL_GRAPH = bytes([7 << 3 | 2])
_GRAPH_INITIALIZER = bytes([5 << 3 | 2])
_TENSOR_RAW_DATA = bytes([9 << 3 | 2])


def varint(n: int) -> bytes:
    """protobuf's base-128 varint of ``n`` >= 0."""
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


@dataclass
class BuiltModel:
    """An ONNX model as built: ``head`` holds everything but the weights (graph nodes, inputs,
    outputs, metadata); ``weights`` the graph's initializers, by name, in order."""

    head: ModelProto
    weights: list[tuple[str, np.ndarray]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        """The model file: what ``SerializeToString`` of the whole model would parse as."""
        head = type(self.head)()
        head.CopyFrom(self.head)
        head.ClearField("graph")
        graph = self.head.graph.SerializeToString()
        pieces = list(self._initializers())
        size = len(graph) + sum(len(p) for p in pieces)
        return b"".join([head.SerializeToString(), _MODEL_GRAPH, varint(size), graph, *pieces])

    def _initializers(self) -> Iterator[bytes | memoryview]:
        from onnx import TensorProto, helper

        for name, value in self.weights:
            array = np.asarray(value, dtype=value.dtype.newbyteorder("<"), order="C")
            tensor = TensorProto(name=name, dims=array.shape)
            tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
            header = tensor.SerializeToString()
            data = array.reshape(-1).view(np.uint8).data  # a memoryview: no copy
            raw = _TENSOR_RAW_DATA + varint(data.nbytes)
            yield _GRAPH_INITIALIZER + varint(len(header) + len(raw) + data.nbytes)
            yield header
            yield raw
            yield data
