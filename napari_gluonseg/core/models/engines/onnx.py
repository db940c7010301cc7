"""The onnxruntime engine: the GluonCV network (main head only) as an ONNX graph, made once per
weights file, then run by onnxruntime (~2.6x faster than hybridized MXNet on CPU).

The graph is built by the package itself from the ``.params`` arrays
(:mod:`napari_gluonseg.core.models.onnx_build`: no MXNet, about a second, any height and width), or,
with ``GLUONSEG_ONNX_EXPORTER=mxnet`` and the ``[mxnet]`` extra, exported by MXNet's exporter in
a child process (~10 s; FCN graphs take any size, the others one file per input size, at most
:data:`MAX_FIXED_EXPORTS` per model and weights, least recently used removed).

Graphs are cached in ``$MXNET_HOME/models/onnx/``. A cached file that onnxruntime cannot load,
or whose metadata does not match (another format or exporter, other weights), is made again. A
user's own ``.onnx`` file (``weights=FILE.onnx``) runs as it is.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import threading
from collections.abc import Generator, Hashable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ...atomic import TEMP_MARK, remove_stale_temps, write_files
from ...errors import EngineError, OptionError, WeightsError
from ...events import Progress, Stage
from ..card import FAMILIES, family_of, has_model
from ..learned import read_learned
from ..registry import model_info
from ..weights import ResolvedWeights, cache_dir
from .base import Engine, iter_cached
from .metadata import (
    BUILDER,
    EXPORTERS,
    MXNET_EXPORTER,
    ExportSpec,
    check_model_file,
    metadata_for,
    read_metadata,
    stale_reason,
)
from .mxnet import native_size, supports_native
from .onnx_export import OUT_SIZE_INPUT, iter_export
from .request import NetworkRequest
from .stopping import network_call

logger = logging.getLogger(__name__)

EXPORTER_VARIABLE = "GLUONSEG_ONNX_EXPORTER"
MAX_FIXED_EXPORTS = 4
_GPU_PROVIDERS = ("CUDAExecutionProvider",)


def onnxruntime_available() -> bool:
    """Both onnx (to build graphs) and onnxruntime are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def chosen_exporter() -> str:
    """Who makes the ONNX graphs: ``$GLUONSEG_ONNX_EXPORTER`` (``builder``, the default, or
    ``mxnet``)."""
    value = os.environ.get(EXPORTER_VARIABLE, "").strip().lower() or BUILDER
    if value not in EXPORTERS:
        raise OptionError(
            f"{EXPORTER_VARIABLE}={value!r}: valid values are {', '.join(EXPORTERS)}."
        )
    return value


def onnxruntime_installed() -> bool:
    """onnxruntime alone: enough to run an exported ``.onnx`` file."""
    return importlib.util.find_spec("onnxruntime") is not None


def exports_dynamic(model_name: str, exporter: str = BUILDER) -> bool:
    """Whether the model's graph takes any input size (else: one graph per size)."""
    if exporter == BUILDER:
        from ..onnx_build import can_build

        return can_build(model_name)
    # Every graph the package builds itself takes any size; MXNet's exporter's, the card says.
    return has_model(model_name) and family_of(model_name).mxnet_export_any_size


def export_spec(
    model_name: str,
    sha1: str,
    height: int,
    width: int,
    native: bool,
    exporter: str | None = None,
) -> ExportSpec:
    exporter = exporter or chosen_exporter()
    if exports_dynamic(model_name, exporter):
        return ExportSpec(model_name, sha1, dynamic=True, exporter=exporter)
    if exporter == BUILDER:
        raise EngineError(
            f"napari-gluonseg cannot build {model_name}'s graph for onnxruntime; run it with "
            f"engine='mxnet', or set {EXPORTER_VARIABLE}=mxnet (both need the [mxnet] extra)."
        )
    native = native and supports_native(model_name)
    return ExportSpec(model_name, sha1, False, height, width, native, exporter)


def onnx_path(spec: ExportSpec) -> Path:
    """Where the cache keeps the graph of ``spec``."""
    size = "" if spec.dynamic else f"-{spec.input_size}"
    made = "-mxnet" if spec.exporter == MXNET_EXPORTER else ""
    return onnx_dir() / f"{spec.model}-{spec.weights_sha1[:12]}{size}{made}.onnx"


def onnx_dir() -> Path:
    return cache_dir() / "onnx"


def preferred_providers(available: list[str]) -> list[str]:
    """CUDA where onnxruntime-gpu and a GPU are present (MXNet's GPU wheels need CUDA<=11),
    then the CPU."""
    return [*(p for p in _GPU_PROVIDERS if p in available), "CPUExecutionProvider"]


def _omp_threads() -> int:
    threads = os.environ.get("OMP_NUM_THREADS", "")
    return int(threads) if threads.isdigit() else 0


class OnnxSession:
    """One onnxruntime session of an exported file, shared by every run that uses it.

    ``InferenceSession.run`` is thread-safe: no lock.
    """

    def __init__(self, path: Path, threads: int | None = None, data: bytes | None = None) -> None:
        """``data``: the file's bytes where they are in memory already (just built)."""
        import onnxruntime as ort

        options = ort.SessionOptions()
        # 0: onnxruntime's default, all cores, unless this process was given a share of them
        # (a batch worker: OMP_NUM_THREADS, as MXNet's OpenMP reads it).
        options.intra_op_num_threads = threads or _omp_threads()
        providers = preferred_providers(ort.get_available_providers())
        self.path = path
        self.threads = threads
        model = str(path) if data is None else data
        self.session = ort.InferenceSession(model, options, providers=providers)
        self.metadata = read_metadata(self.session.get_modelmeta().custom_metadata_map)
        names = [i.name for i in self.session.get_inputs()]
        self.input = names[0]
        self.dynamic = OUT_SIZE_INPUT in names


class OnnxNetwork:
    """A network run by onnxruntime (see :class:`napari_gluonseg.core.models.engines.Network`).

    A dynamic export gives logits for any input size, at the network's own resolution if
    ``native``; a per-size export only for the size it was made for.
    """

    engine = Engine.ONNXRUNTIME

    def __init__(self, session: OnnxSession, native: bool, height: int, width: int) -> None:
        self._session = session
        self.native = native
        self.height = height
        self.width = width
        self.model_file = session.path
        self.threads = session.threads

    @property
    def providers(self) -> list[str]:
        return list(self._session.session.get_providers())

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Main-head logits as :meth:`SegmentationNetwork.logits` gives them."""
        s = self._session
        feeds = {s.input: np.ascontiguousarray(batch, np.float32)}
        h, w = batch.shape[2:]
        if s.dynamic:
            size = native_size(h, w) if self.native else (h, w)
            feeds[OUT_SIZE_INPUT] = np.array(size, np.int64)
        elif (h, w) != (self.height, self.width):
            raise OptionError(f"network built for {self.height}x{self.width}, got {batch.shape}")
        with _terminable() as run_options:
            return s.session.run(None, feeds, run_options)[0]


BUILD_MESSAGE = "building the network for onnxruntime (once per weights)"
_BUILD_STEPS = 4  # read the weights, build the graph, write it, open it


@contextlib.contextmanager
def _terminable() -> Iterator[Any]:
    """onnxruntime RunOptions for one call, which :func:`.stopping.stop_calls_in` ends."""
    import onnxruntime as ort

    options = ort.RunOptions()
    with network_call(lambda: setattr(options, "terminate", True)):
        yield options


def iter_onnx_network(request: NetworkRequest) -> Generator[Progress, None, OnnxNetwork]:
    """The onnxruntime network for ``request``, exporting it on first use."""
    model_name, weights, threads = request.model_name, request.weights, request.threads
    size = (request.height, request.width)
    if is_onnx_file(weights.path):
        key: Hashable = (Engine.ONNXRUNTIME, "file", str(weights.path), weights.sha1, threads)
        session = yield from iter_cached(key, lambda: _iter_user_file(model_name, weights, threads))
        return OnnxNetwork(session, request.native and supports_native(model_name), *size)
    spec = export_spec(model_name, weights.sha1, *size, request.native)
    key = (Engine.ONNXRUNTIME, str(onnx_path(spec)), spec, threads)
    session = yield from iter_cached(key, lambda: _iter_prepared(spec, weights, threads))
    native = spec.native or (spec.dynamic and request.native and supports_native(model_name))
    return OnnxNetwork(session, native, *size)


def is_onnx_file(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(".onnx")


def _iter_user_file(
    model_name: str, weights: ResolvedWeights, threads: int | None
) -> Generator[Progress, None, OnnxSession]:
    yield Progress(Stage.LOAD, 0, 1, f"opening {weights.path.name} with onnxruntime")
    if weights.path.stat().st_size == 0:  # onnxruntime: "No graph was found in the protobuf"
        raise WeightsError(
            f"{weights.path} is empty (0 bytes): not an ONNX model. Make one with: "
            "napari-gluonseg export-onnx MODEL --weights FILE.params -o FILE.onnx"
        )
    try:
        session = OnnxSession(weights.path, threads)
    except _load_errors() as exc:
        raise WeightsError(
            f"onnxruntime cannot load {weights.path}: it is not a complete ONNX file ({exc})."
        ) from exc
    learned = "learned" in session.metadata  # its classes are its own (core.models.learned)
    info = read_learned(weights.path).info if learned else model_info(model_name)
    check_model_file(session.metadata, weights.path, info)
    return session


_export_locks: dict[Path, threading.Lock] = {}
_export_locks_lock = threading.Lock()


def _iter_prepared(
    spec: ExportSpec, weights: ResolvedWeights, threads: int | None
) -> Generator[Progress, None, OnnxSession]:
    """The cached export of ``spec`` opened, made first if missing, damaged or stale; one
    export at a time per file in this process (a second run waits for the first's)."""
    path = onnx_path(spec)
    if spec.exporter == BUILDER and not path.is_file():  # said before the lock, never in it
        yield Progress(Stage.LOAD, 0, _BUILD_STEPS, BUILD_MESSAGE, notice=True)
    with _export_locks_lock:
        lock = _export_locks.setdefault(path, threading.Lock())
    while not lock.acquire(timeout=0.25):
        yield Progress(
            Stage.LOAD, 0, 1, "waiting for the preparation of the weights in another run"
        )
    try:
        session = _open_cached(path, spec, threads)
        if session is None and spec.exporter == BUILDER:
            # In steps, each a chance to stop (a stopped worker closes its generator, which
            # releases the lock) and to move the progress bar.
            data = yield from iter_build_graph_file(spec, weights.path, path)
            session = _open_built(path, weights.path, threads, data)
        elif session is None:
            yield from iter_export(spec, weights.path, path)
            try:
                session = OnnxSession(path, threads)
            except _load_errors() as exc:
                raise WeightsError(
                    f"onnxruntime cannot load {path}, exported just now from {weights.path}: "
                    f"{exc}\nRun with engine='mxnet' (command line: --engine mxnet)."
                ) from exc
    finally:
        lock.release()
    if not spec.dynamic:
        _keep_recent_fixed(path, spec)
    return session


def iter_build_graph_file(
    spec: ExportSpec, weights_path: Path, dest: Path
) -> Generator[Progress, None, bytes]:
    """Build ``spec``'s graph from the ``.params`` file and write it to ``dest`` (whole or
    not at all; not at all where the cache cannot be written); returns the file's bytes.
    Steps of 0.3-0.4 s, a progress event after each (the session's opening is the last)."""
    from ..onnx_build import build_model
    from ..params_file import read_weights

    params = read_weights(weights_path)  # its errors name the file
    yield Progress(Stage.LOAD, 1, _BUILD_STEPS, BUILD_MESSAGE)
    info = model_info(spec.model)
    try:
        model = build_model(spec.model, params, info.num_classes, metadata_for(spec))
    except WeightsError as exc:
        raise WeightsError(
            f"Cannot load weights file {weights_path} into model {spec.model} "
            f"({info.num_classes} classes): {exc}\n"
            "Choose the model the file was saved from, or another weights file."
        ) from exc
    yield Progress(Stage.LOAD, 2, _BUILD_STEPS, BUILD_MESSAGE)
    data = model.to_bytes()  # SerializeToString would hold the GIL 2.6x longer (see .wire)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(dest.parent, f".*{TEMP_MARK}*")
        write_files({dest: data})
    except OSError as exc:  # a read-only or shared cache: run from memory, build again next time
        logger.warning(
            "Cannot keep the built graph in %s (%s): it runs from memory this time. Set "
            "MXNET_HOME to a folder you can write to, to keep it.",
            dest.parent,
            exc.strerror or exc,
        )
    yield Progress(Stage.LOAD, 3, _BUILD_STEPS, BUILD_MESSAGE)
    return data


def _open_built(path: Path, weights_path: Path, threads: int | None, data: bytes) -> OnnxSession:
    try:
        return OnnxSession(path, threads, data)
    except _load_errors() as exc:
        raise WeightsError(
            f"onnxruntime cannot load {path}, built just now from {weights_path}: {exc}"
        ) from exc


def _open_cached(path: Path, spec: ExportSpec, threads: int | None) -> OnnxSession | None:
    """The cached export, or None if there is none, or it is damaged or stale."""
    if not path.is_file():
        return None
    try:
        session = OnnxSession(path, threads)
    except _load_errors() as exc:
        logger.warning("Cached ONNX model %s cannot be loaded (%s); exporting it again.", path, exc)
        return None
    why = stale_reason(session.metadata, spec)
    if why is not None:
        logger.warning("Cached ONNX model %s is out of date (%s); exporting it again.", path, why)
        return None
    return session


def _keep_recent_fixed(path: Path, spec: ExportSpec) -> None:
    """Mark ``path`` as just used; remove all but the newest MAX_FIXED_EXPORTS per-size
    exports of the same model and weights."""
    os.utime(path)
    siblings = onnx_dir().glob(f"{spec.model}-{spec.weights_sha1[:12]}-*.onnx")
    by_use = sorted(siblings, key=lambda p: p.stat().st_mtime, reverse=True)
    for old in by_use[MAX_FIXED_EXPORTS:]:
        logger.info("Removing %s: only the last %d sizes are kept.", old, MAX_FIXED_EXPORTS)
        old.unlink(missing_ok=True)


def _load_errors() -> tuple[type[Exception], ...]:
    """What onnxruntime raises for a file that is not a complete, valid model."""
    from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

    return (
        ort_state.InvalidProtobuf,
        ort_state.InvalidGraph,
        ort_state.InvalidArgument,  # e.g. a file with no graph in it
        ort_state.Fail,
    )


def check_portable(model_name: str, exporter: str | None = None) -> None:
    """Refuse a model whose ONNX graph holds one image size only (before any download)."""
    exporter = exporter or chosen_exporter()
    if not exports_dynamic(model_name, exporter):
        if exporter == BUILDER:
            raise EngineError(f"napari-gluonseg cannot build {model_name}'s graph for onnxruntime.")
        families = ", ".join(f"{f}_*" for f, row in FAMILIES.items() if row.mxnet_export_any_size)
        raise EngineError(
            f"{model_name} fixes its pooling sizes in MXNet's exporter, so its graph holds one "
            f"image size only; MXNet's exporter makes a portable file for {families} models "
            "(the default builder makes one for every model it can build)."
        )


def iter_export_model_file(
    model_name: str, weights: ResolvedWeights, out: Path, exporter: str | None = None
) -> Generator[Progress, None, Path]:
    """Write the dynamic ONNX graph of (model, weights) to ``out``: a portable model file that
    runs with onnxruntime alone (``weights=out``). Made once per weights, then copied from
    the cache."""
    check_portable(model_name, exporter)
    spec = export_spec(model_name, weights.sha1, 0, 0, False, exporter)
    yield from _iter_prepared(spec, weights, threads=1)
    write_files({out: onnx_path(spec).read_bytes()})
    return out
