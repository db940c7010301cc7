"""The onnxruntime engine: the GluonCV graph (main head only) exported to ONNX once, then run
by onnxruntime, ~2.6x faster than hybridized MXNet on CPU (NOTES.md: 1.6 s vs 4.2 s at 576x768).

Exports are cached in ``$MXNET_HOME/models/onnx/`` keyed by the weights' sha1 and the input shape,
written under a temporary name and renamed, so a crash never leaves a half-written model behind;
a cached file onnxruntime cannot load (damaged on disk) is exported again, once.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from . import _mxnet
from .errors import OptionError, WeightsError
from .files import TEMP_MARK, remove_stale_temps, temp_dir, write_files
from .network import SegmentationNetwork, build_network, supports_native
from .weights import ResolvedWeights, cache_dir

logger = logging.getLogger(__name__)

_CACHE_SIZE = 3
_EXPORT_PREFIX = ".export-"


def onnxruntime_available() -> bool:
    """Both the exporter's onnx (1.14.x) and onnxruntime are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def onnx_path(
    model_name: str, weights: ResolvedWeights, height: int, width: int, native: bool = False
) -> Path:
    suffix = "-native" if native else ""
    name = f"{model_name}-{weights.sha1[:12]}-{height}x{width}{suffix}.onnx"
    return cache_dir() / "onnx" / name


class OnnxNetwork:
    """A GluonCV network exported to ONNX for one input size, run by onnxruntime."""

    def __init__(
        self, model_name: str, path: Path, height: int, width: int, native: bool = False
    ) -> None:
        import onnxruntime as ort

        self.model_name = model_name
        self.height = height
        self.width = width
        self.native = native
        self.path = path
        available = ort.get_available_providers()
        # CUDA when onnxruntime-gpu and a GPU are present (MXNet's own GPU wheels need CUDA<=11).
        providers = [p for p in ("CUDAExecutionProvider",) if p in available]
        self._session = ort.InferenceSession(
            str(path), _session_options(), providers=[*providers, "CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._lock = threading.Lock()

    @property
    def providers(self) -> list[str]:
        return list(self._session.get_providers())

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Main-head logits as :meth:`SegmentationNetwork.logits` gives them."""
        if batch.shape[2:] != (self.height, self.width):
            raise OptionError(f"network built for {self.height}x{self.width}, got {batch.shape}")
        with self._lock:
            return self._session.run(None, {self._input: np.ascontiguousarray(batch, np.float32)})[
                0
            ]


def _session_options():
    """onnxruntime uses every core by default; a process given a share of them (a batch
    worker: ``OMP_NUM_THREADS``, as MXNet's OpenMP reads it) keeps to its share."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        options.intra_op_num_threads = int(threads)
    return options


_cache: OrderedDict[tuple, OnnxNetwork] = OrderedDict()
_cache_lock = threading.Lock()


def load_onnx_network(
    model_name: str, weights: ResolvedWeights, height: int, width: int, native: bool = False
) -> OnnxNetwork:
    """The onnxruntime network for (model, weights, size), exporting it on first use."""
    native = native and supports_native(model_name)
    key = (model_name, weights.sha1, height, width, native)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    path = onnx_path(model_name, weights, height, width, native)
    network = _open_cached(model_name, path, height, width, native)
    if network is None:
        export_onnx(model_name, weights, height, width, path, native)
        try:
            network = OnnxNetwork(model_name, path, height, width, native)
        except _load_errors() as exc:
            raise WeightsError(
                f"onnxruntime cannot load {path}, exported just now from {weights.path}: {exc}\n"
                "Run with engine='mxnet' (command line: --engine mxnet)."
            ) from exc
    with _cache_lock:
        _cache[key] = network
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return network


def _open_cached(
    model_name: str, path: Path, height: int, width: int, native: bool
) -> OnnxNetwork | None:
    """The cached export, or None if there is none or onnxruntime cannot load it."""
    if not path.is_file():
        return None
    try:
        return OnnxNetwork(model_name, path, height, width, native)
    except _load_errors() as exc:
        logger.warning("Cached ONNX model %s cannot be loaded (%s); exporting it again.", path, exc)
        return None


def _load_errors() -> tuple[type[Exception], ...]:
    """What onnxruntime raises for a file that is not a complete, valid model."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    return (ort_state.InvalidProtobuf, ort_state.InvalidGraph, ort_state.Fail)


def export_onnx(
    model_name: str,
    weights: ResolvedWeights,
    height: int,
    width: int,
    path: Path,
    native: bool = False,
) -> Path:
    """Export the MXNet network (aux head off) to ONNX at ``path`` (replaced atomically)."""
    import onnx

    mx = _mxnet.mxnet()
    # Not from the network cache: once exported, the MXNet copy (weights and its static
    # activation buffers) is garbage and must not stay resident beside the onnxruntime session.
    net = build_network(model_name, weights.path, height, width, native)
    mx_network = SegmentationNetwork(model_name, net, height, width, native)
    mx_network.logits(np.zeros((1, 3, height, width), np.float32))  # hybridized graph exists
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, f"{_EXPORT_PREFIX}*")
    remove_stale_temps(path.parent, f".*{TEMP_MARK}*")
    with temp_dir(path.parent, _EXPORT_PREFIX) as tmp:
        prefix = str(Path(tmp) / "net")
        mx_network._net.export(prefix)
        raw = Path(tmp) / "raw.onnx"
        mx.onnx.export_model(
            f"{prefix}-symbol.json",
            f"{prefix}-0000.params",
            in_shapes=[(1, 3, height, width)],
            in_types=[np.float32],
            onnx_file_path=str(raw),
        )
        model = onnx.load(str(raw))
        # Weights listed as graph inputs stop onnxruntime from folding BatchNorm into the convs.
        constants = {init.name for init in model.graph.initializer}
        inputs = [i for i in model.graph.input if i.name not in constants]
        del model.graph.input[:]
        model.graph.input.extend(inputs)
        write_files({path: model.SerializeToString()})
    return path
