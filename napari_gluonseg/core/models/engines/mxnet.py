"""Building GluonCV networks, loading their weights, and running them.

A network is built for one input shape: PSPNet and DeepLab size their pooling branches at
construction, and every model upsamples its logits to a size fixed when the graph is hybridized.
Built networks are cached per (model, weights, shape) by the engines' one loader
(:func:`~.iter_load_network`); each carries a lock so that one network
object never runs in two threads at once (gluoncv's ``predict`` mutates the network, and so would
any shape change).
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Generator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ...errors import OptionError, WeightsError
from ...events import Progress
from .. import _mxnet
from .._mxnet import HybridBlock
from ..card import family_of, has_model
from ..params_file import read_weights
from ..registry import model_info
from .base import Engine, iter_cached
from .request import NetworkRequest
from .stopping import network_call


class SegmentationNetwork:
    """A GluonCV segmentation network built for one input size, main head only.

    Parameters
    ----------
    model_name : str
        Registry name, e.g. ``"fcn_resnet50_ade"``.
    net : mxnet.gluon.HybridBlock
        The loaded network (aux head switched off).
    height, width : int
        The input size the network was built for.
    model_file : Path
        The weights file it was loaded from.
    """

    engine = Engine.MXNET

    def __init__(
        self,
        model_name: str,
        net: HybridBlock,
        height: int,
        width: int,
        native: bool = False,
        *,
        model_file: Path,
    ) -> None:
        self.model_name = model_name
        self.model_file = model_file
        self.height = height
        self.width = width
        self.native = native
        self.base_size: int = int(getattr(net, "base_size", 520))
        self.crop_size: int = int(getattr(net, "crop_size", 480))
        self._net = net
        self._lock = threading.Lock()

    @property
    def providers(self) -> list[str]:
        return ["cpu"]  # weights are always loaded on mx.cpu()

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Main-head logits, (N, classes, height, width) float32, for a normalized batch; at
        :func:`native_size` instead where the network was built ``native``."""
        mx = _mxnet.mxnet()
        if batch.shape[2:] != (self.height, self.width):
            raise OptionError(f"network built for {self.height}x{self.width}, got {batch.shape}")
        # A stop asked for refuses the call; one running is not ended (MXNet cannot).
        with network_call(), self._lock, warnings.catch_warnings():
            # The switched-off aux head's parameters are "not used by any computation": intended.
            warnings.filterwarnings("ignore", message="Parameter .* is not used by any computation")
            out = self._net(mx.nd.array(batch, dtype="float32"))
            main = out[0] if isinstance(out, (tuple, list)) else out
            return main.asnumpy()


def iter_mxnet_network(
    request: NetworkRequest,
) -> Generator[Progress, None, SegmentationNetwork]:
    """The network for ``request`` (its ``threads`` aside: the factory sets MXNet's for the
    process), from the engines' cache or freshly built.

    ``native``: logits at the network's own output resolution (see :func:`native_size`), not
    upsampled to the input size, where the architecture allows it.
    """
    r = replace(request, native=request.native and supports_native(request.model_name))
    weights = r.weights

    def build() -> Generator[Progress, None, SegmentationNetwork]:
        yield from ()  # nothing to report: building takes a second or two
        net = build_network(r.model_name, weights.path, r.height, r.width, r.native)
        return SegmentationNetwork(
            r.model_name, net, r.height, r.width, r.native, model_file=weights.path
        )

    key = (Engine.MXNET, replace(r, threads=None))  # one network whatever the threads
    return (yield from iter_cached(key, build, pixels=r.height * r.width))


def build_untrained(model_name: str, height: int = 480, width: int = 480) -> HybridBlock:
    """An untrained network of the real architecture (random weights), ready to save.

    For tests and benchmarks only: its output is noise, never a segmentation.
    """
    gcv = _mxnet.gluoncv()
    mx = _mxnet.mxnet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = gcv.model_zoo.get_model(
            model_name, pretrained=False, pretrained_base=False, height=height, width=width
        )
        net.initialize(mx.init.Xavier(), force_reinit=True)
    net(mx.nd.zeros((1, 3, height, width)))  # materialize deferred parameter shapes
    return net


OUTPUT_STRIDE = 8


def supports_native(model_name: str) -> bool:
    """Whether the model's logits at output stride 8 can be had before its final resize (the
    model card's ``native``)."""
    return has_model(model_name) and family_of(model_name).native


def native_size(height: int, width: int) -> tuple[int, int]:
    """The logits' size before the final resize, for an input of (height, width)."""
    return -(-height // OUTPUT_STRIDE), -(-width // OUTPUT_STRIDE)


def build_network(
    model_name: str, path: Path, height: int, width: int, native: bool = False
) -> HybridBlock:
    """The hybridized network for one input size with weights from ``path`` (aux head off).

    ``native``: the final resize goes to the logits' own size (an identity), so the graph never
    computes classes x height x width: the caller upsamples only what it needs, exactly as
    mxnet's align-corners ``BilinearResize2D`` would.
    """
    gcv = _mxnet.gluoncv()
    mx = _mxnet.mxnet()
    info = model_info(model_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # pretrained_base=False: the full weights come next, so never fetch ImageNet backbones.
        net = gcv.model_zoo.get_model(
            model_name, pretrained=False, pretrained_base=False, height=height, width=width
        )
    # Refuses a damaged file, and NaN/inf or integer weights by name, as the builder does.
    read_weights(path)
    try:
        net.load_parameters(str(path), ctx=mx.cpu())
    except (mx.base.MXNetError, AssertionError, ValueError, RuntimeError, OSError) as exc:
        raise WeightsError(_load_error_message(path, info.name, info.num_classes, exc)) from exc
    if hasattr(net, "aux"):
        net.aux = False  # the aux head only helps training; it doubles the output memory
    if native:
        fh, fw = native_size(height, width)
        net._up_kwargs = {"height": fh, "width": fw}
    net.hybridize(static_alloc=True, static_shape=True)
    return net


def _load_error_message(path: Path, model_name: str, num_classes: int, exc: Exception) -> str:
    # mxnet's messages start with a C++ traceback; the last line says what failed.
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = lines[-1] if lines else type(exc).__name__
    saved_dtype = re.search(r"dtype incompatible .* vs saved <class 'numpy\.(\w+)'>", detail)
    if saved_dtype:  # before "incompatible": a data type is not a shape
        why = (
            f"it holds {saved_dtype[1]} weights where {model_name} computes in float32, and "
            "MXNet loads float32 only; engine='onnxruntime' converts them (command line: "
            "--engine onnxruntime)"
        )
    elif "incompatible" in detail or "shape" in detail.lower():
        why = (
            f"it holds weights of other shapes than {model_name} ({num_classes} classes) expects; "
            "was it trained for another model or another number of classes?"
        )
    elif "missing" in detail.lower() or "not present" in detail.lower():
        why = f"it lacks parameters that {model_name} needs; it is for another architecture"
    else:
        why = "it is not a readable mxnet .params file (corrupt or truncated?)"
    end = "" if why.endswith("?") else "."
    return (
        f"Cannot load weights file {path} into model {model_name}: {why}{end}\n"
        f"mxnet said: {detail}\n"
        "Choose the model the file was saved from, or another weights file."
    )
