"""A small ONNX graph writer that takes its weights from a GluonCV ``.params`` dictionary.

Each method adds the nodes of one GluonCV layer and returns the name of its output tensor. The
writer knows each tensor's channel count, so a weights file of another architecture or another
number of classes is refused with the name of the parameter that does not fit, before
onnxruntime sees the graph. BatchNorm (inference: running statistics) is folded into the
convolution before it, as onnxruntime would otherwise do at every session start.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import WeightsError
from .wire import BuiltModel

if TYPE_CHECKING:
    from onnx import NodeProto

OPSET = 13
INPUT = "data"
OUT_SIZE_INPUT = "out_size"
OUTPUT = "logits"
FEATURES = "features"  # a features model's output: the final classifier's input, not resized
BN_EPS = 1e-5  # gluon's BatchNorm default, which every GluonCV segmentation model keeps


class Graph:
    """An ONNX graph under construction, fed by the named arrays of a ``.params`` file.

    Parameters
    ----------
    params : dict of str to ndarray
        The weights file's arrays by name (``conv1.0.weight``, ``bn1.gamma``...).
    model_name : str
        For error messages.
    """

    def __init__(self, params: dict[str, np.ndarray], model_name: str) -> None:
        from onnx import ModelProto, helper

        self._helper = helper
        self.params = params
        self.model_name = model_name
        self.used: set[str] = set()
        # Nodes go straight into the model, the weights beside it (see .wire): make_graph,
        # make_model and SerializeToString would each copy them holding the GIL.
        self._model = BuiltModel(ModelProto())
        self.nodes = self._model.head.graph.node
        self.channels: dict[str, int] = {INPUT: 3}
        self._count = 0

    # -- weights -------------------------------------------------------------------------
    def param(self, name: str, shape: tuple[int | None, ...] | None = None) -> np.ndarray:
        """The array ``name`` of the weights file, checked against ``shape`` (None: any)."""
        if name not in self.params:
            raise WeightsError(
                f"it lacks {name!r}, which {self.model_name} needs: it holds weights of "
                "another architecture (or was saved under other names)."
            )
        value = self.params[name]
        if shape is not None and (
            len(value.shape) != len(shape)
            or any(s is not None and s != v for s, v in zip(shape, value.shape, strict=True))
        ):
            want = "x".join("?" if s is None else str(s) for s in shape)
            raise WeightsError(
                f"it holds weights of other shapes than {self.model_name} expects ({name} is "
                f"{'x'.join(map(str, value.shape))}, {self.model_name} needs {want}): was it "
                "trained for another model or another number of classes?"
            )
        self.used.add(name)
        return value.astype(np.float32, copy=False)

    def unused(self, ignore: Iterable[str] = ()) -> list[str]:
        """Arrays of the file that the graph did not take, besides those starting with
        ``ignore`` (e.g. the auxiliary head, which only training uses)."""
        prefixes = tuple(ignore)
        return [n for n in self.params if n not in self.used and not n.startswith(prefixes)]

    def const(self, value: np.ndarray, name: str | None = None) -> str:
        name = name or self._name("const")
        self._model.weights.append((name, np.asarray(value)))
        return name

    def const_value(self, name: str) -> np.ndarray:
        """The value of the constant ``name``."""
        return next(value for n, value in self._model.weights if n == name)

    def replace_const(self, name: str, value: np.ndarray) -> None:
        """Give the constant ``name`` another value (any shape: its readers take it)."""
        at = next(k for k, (n, _) in enumerate(self._model.weights) if n == name)
        self._model.weights[at] = (name, np.asarray(value))

    # -- nodes ---------------------------------------------------------------------------
    def producer(self, tensor: str) -> NodeProto | None:
        """The node whose output ``tensor`` is (None: an input or a constant). Searched from
        the last node: what a builder returns was added last."""
        return next((n for n in reversed(self.nodes) if tensor in n.output), None)

    def remove(self, node: NodeProto) -> None:
        """Take ``node`` out of the graph with the constants that only it reads."""
        self.nodes.remove(node)
        read = {i for n in self.nodes for i in n.input}
        dropped = set(node.input) - read
        self._model.weights[:] = [(n, v) for n, v in self._model.weights if n not in dropped]

    def _name(self, op: str) -> str:
        self._count += 1
        return f"{op.lower()}_{self._count}"

    def node(self, op: str, inputs: list[str], channels: int | None = None, **attrs: Any) -> str:
        """Add one node with one output; ``channels``: the output's channel count."""
        out = self._name(op)
        self.nodes.append(self._helper.make_node(op, inputs, [out], **attrs))
        if channels is not None:
            self.channels[out] = channels
        return out

    def conv(
        self,
        x: str,
        prefix: str,
        *,
        kernel: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        out: int | None = None,
        bias: bool = False,
        bn: str | None = None,
        relu: bool = False,
    ) -> str:
        """gluon ``Conv2D`` ``prefix`` (``prefix.weight``, ``prefix.bias``), then the
        ``BatchNorm`` ``bn`` folded into it, then ReLU; ``out``: the output channels it must
        have (None: what the file says)."""
        cin = self.channels[x]
        w = self.param(f"{prefix}.weight", (out, cin // groups, kernel, kernel))
        cout = w.shape[0]
        b = self.param(f"{prefix}.bias", (cout,)) if bias else np.zeros(cout, np.float32)
        if bn is not None:
            scale, shift = self.bn_affine(bn, cout)
            # float32 products: the weights are float32, and a float64 copy of them is slow.
            w = w * scale.astype(np.float32)[:, None, None, None]
            b = b * scale + shift
        y = self.node(
            "Conv",
            [x, self.const(w.astype(np.float32)), self.const(b.astype(np.float32))],
            cout,
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[padding] * 4,
            dilations=[dilation, dilation],
            group=groups,
        )
        return self.relu(y) if relu else y

    def bn_affine(self, prefix: str, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """Inference BatchNorm ``prefix`` as ``x * scale + shift`` (float64 while folding)."""
        gamma = self.param(f"{prefix}.gamma", (channels,)).astype(np.float64)
        beta = self.param(f"{prefix}.beta", (channels,)).astype(np.float64)
        mean = self.param(f"{prefix}.running_mean", (channels,)).astype(np.float64)
        var = self.param(f"{prefix}.running_var", (channels,)).astype(np.float64)
        scale = gamma / np.sqrt(var + BN_EPS)
        return scale, beta - mean * scale

    def batchnorm(self, x: str, prefix: str, relu: bool = False) -> str:
        """A BatchNorm that follows no convolution, as a per-channel multiply-add."""
        c = self.channels[x]
        scale, shift = self.bn_affine(prefix, c)
        shape = (1, c, 1, 1)
        y = self.node("Mul", [x, self.const(scale.astype(np.float32).reshape(shape))], c)
        y = self.node("Add", [y, self.const(shift.astype(np.float32).reshape(shape))], c)
        return self.relu(y) if relu else y

    def relu(self, x: str) -> str:
        return self.node("Relu", [x], self.channels.get(x))

    def add(self, a: str, b: str) -> str:
        return self.node("Add", [a, b], self.channels.get(a))

    def mul(self, a: str, b: str) -> str:
        return self.node("Mul", [a, b], self.channels.get(a))

    def concat(self, xs: list[str]) -> str:
        return self.node("Concat", xs, sum(self.channels[x] for x in xs), axis=1)

    def max_pool(self, x: str, kernel: int, stride: int, padding: int = 0) -> str:
        return self.node(
            "MaxPool",
            [x],
            self.channels[x],
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[padding] * 4,
        )

    def avg_pool(
        self,
        x: str,
        kernel: int,
        stride: int,
        padding: int = 0,
        ceil: bool = False,
        count_include_pad: bool = True,
    ) -> str:
        return self.node(
            "AveragePool",
            [x],
            self.channels[x],
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[padding] * 4,
            ceil_mode=int(ceil),
            count_include_pad=int(count_include_pad),
        )

    def global_avg_pool(self, x: str) -> str:
        return self.node("GlobalAveragePool", [x], self.channels[x])

    # -- sizes and resizing --------------------------------------------------------------
    def spatial_size(self, x: str) -> str:
        """An int64 [2] tensor: x's height and width."""
        shape = self.node("Shape", [x])
        return self.node("Slice", [shape, self.const(np.array([2])), self.const(np.array([4]))])

    def resize(self, x: str, size: str) -> str:
        """Bilinear resize to ``size`` (int64 [2]) with aligned corners, as MXNet's
        ``contrib.BilinearResize2D`` (GluonCV's upsampling)."""
        shape = self.node("Shape", [x])
        nc = self.node("Slice", [shape, self.const(np.array([0])), self.const(np.array([2]))])
        sizes = self.node("Concat", [nc, size], axis=0)
        return self.node(
            "Resize",
            [x, "", "", sizes],
            self.channels.get(x),
            mode="linear",
            coordinate_transformation_mode="align_corners",
        )

    def resize_like(self, x: str, like: str) -> str:
        return self.resize(x, self.spatial_size(like))

    # -- the model -----------------------------------------------------------------------
    def model(
        self,
        output: str,
        metadata: dict[str, str],
        *,
        resize: bool = True,
        output_name: str = OUTPUT,
    ) -> BuiltModel:
        """The finished model: input ``data`` (N, 3, H, W), ``out_size`` (int64 [2]); output
        ``logits`` (N, classes, out_size). Without ``resize``: no ``out_size`` input, and the
        output ``output_name`` is ``output`` as it is (N, channels, h, w)."""
        from onnx import TensorProto

        h = self._helper
        final = self.resize(output, OUT_SIZE_INPUT) if resize else output
        self.nodes.append(h.make_node("Identity", [final], [output_name]))
        model = self._model.head
        graph = model.graph
        graph.name = f"gluonseg_{self.model_name}"
        graph.input.append(h.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["N", 3, "H", "W"]))
        if resize:
            graph.input.append(h.make_tensor_value_info(OUT_SIZE_INPUT, TensorProto.INT64, [2]))
        graph.output.append(
            h.make_tensor_value_info(
                output_name, TensorProto.FLOAT, ["N", self.channels[output], "h", "w"]
            )
        )
        model.opset_import.append(h.make_opsetid("", OPSET))
        model.producer_name = "napari-gluonseg"
        model.ir_version = 8  # onnxruntime >= 1.14 and onnx 1.14 read it
        for key, value in metadata.items():
            model.metadata_props.add(key=key, value=value)
        return self._model
