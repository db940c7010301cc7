"""The network's own features of one image: the input of its final 1x1 classifier, on the
network's grid, for the image exactly as a run at the same scale feeds it (issue 32).

The features graph (:func:`~napari_gluonseg.core.models.onnx_build.build_features_model`) is
built once per weights file from its ``.params`` arrays and kept beside the run's exports, as
``$MXNET_HOME/models/onnx/{model}-{sha1[:12]}.features.onnx``: a name no logits export has and
no pattern of theirs matches (the per-size exports' clean-up globs ``{model}-{sha1[:12]}-*``).
A cached file that onnxruntime cannot open, or that holds other weights or an older format, is
built again. Once opened it stays in the engines' memory of loaded networks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import TEMP_MARK, remove_stale_temps, write_files
from ..errors import ImageError, WeightsError
from ..events import Progress, Stage
from ..models.engines.base import iter_cached
from ..models.engines.metadata import ExportSpec, metadata_for, read_metadata, stale_reason
from ..models.engines.onnx import OnnxSession, _load_errors, is_onnx_file, onnx_dir
from ..models.engines.stopping import network_call
from ..models.onnx_build.graph import FEATURES
from ..models.padding import pad_batch, padded_size
from ..models.registry import model_info
from ..models.weights import ResolvedWeights
from ..run.plan import working_size
from ..run.preprocess import as_image_stack, normalize_inplace
from ..run.segment import run_to_end

logger = logging.getLogger(__name__)

FEATURES_SUFFIX = ".features.onnx"
# The metadata key (beside a logits export's) that says what the graph gives.
OUTPUT_KEY = "gluonseg.output"
BUILD_MESSAGE = "building the network's feature extractor for onnxruntime (once per weights)"
_BUILD_STEPS = 4  # read the weights, build the graph, write it, open it


@dataclass(frozen=True)
class ImageFeatures:
    """The features of one image.

    ``features`` (C, h, w) float32: the final classifier's input on the network's grid (stride
    8 for most families, 4 for ICNet) of ``padded``: the working size ``work`` (the size the
    network saw, from the image's ``shape``, each (height, width)) padded at the bottom and
    right to the family's size multiple, as a run pads it (FCN and DANet: ``padded == work``).
    The logits a run takes from the grid are stretched over ``padded`` with aligned corners.
    """

    features: np.ndarray
    work: tuple[int, int]
    shape: tuple[int, int]
    padded: tuple[int, int]

    def grid_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """Each grid row's and column's pixel in the image (rounded), as the run's two aligned-
        corner resizes (grid -> padded working size, working size -> image) place it; -1 for
        the rows and columns that lie in the padding."""
        _, h, w = self.features.shape
        return (
            _axis_pixels(h, self.padded[0], self.work[0], self.shape[0]),
            _axis_pixels(w, self.padded[1], self.work[1], self.shape[1]),
        )


def _axis_pixels(cells: int, padded: int, work: int, image: int) -> np.ndarray:
    at = np.arange(cells) * ((padded - 1) / max(cells - 1, 1))  # on the padded working image
    pixel = np.rint(at * ((image - 1) / max(work - 1, 1))).astype(np.intp)
    return np.where(at <= work - 1 + 1e-6, pixel, -1)


def features_path(model_name: str, sha1: str) -> Path:
    """Where the cache keeps the features graph of ``model_name`` with the weights ``sha1``."""
    return onnx_dir() / f"{model_name}-{sha1[:12]}{FEATURES_SUFFIX}"


def features_metadata(model_name: str, sha1: str) -> dict[str, str]:
    """The ``gluonseg.*`` metadata of a features graph: a logits export's (model, the classes
    of its classifier, weights, format...) and ``output`` = ``features``."""
    return {**metadata_for(ExportSpec(model_name, sha1, dynamic=True)), OUTPUT_KEY: FEATURES}


def iter_image_features(
    image: Any,
    model_name: str,
    weights: ResolvedWeights,
    *,
    threads: int | None = None,
    scale: float | str = "auto",
    **image_options: Any,
) -> Generator[Progress, None, ImageFeatures]:
    """The features of a 2-D ``image`` (greyscale or RGB(A), any dtype a run takes) for
    ``model_name`` with ``weights`` (a ``.params`` file), at the working resolution a run at
    ``scale`` gives it, yielding progress; the features graph is built on first use. A stack of
    planes is refused (:class:`ImageError`).

    ``image_options``: :func:`~napari_gluonseg.core.run.preprocess.as_image_stack`'s keywords
    (``rgb`` and the intensity window), passed on as they are: the run's options are named
    only where the run declares and acts on them (tests/test_architecture.py)."""
    info = model_info(model_name)
    stack = as_image_stack(image, **image_options)
    if stack.leading_shape:
        raise ImageError(
            f"Features are taken from one 2-D image; got a stack of {stack.n_planes} planes "
            f"(shape {tuple(stack.data.shape)}): pass one plane."
        )
    shape = stack.plane_shape
    work = working_size(*shape, scale, info.base_size)
    padded = padded_size(info, *work)
    session = yield from iter_features_session(model_name, weights, threads)
    message = f"{model_name}'s features of the {shape[0]}x{shape[1]} image"
    yield Progress(Stage.INFER, 0, 1, message)
    x = normalize_inplace(stack.plane_chw01(0, *work))
    if padded != work:
        x = pad_batch(x, *padded)
    with _stoppable_run() as run_options:
        out = session.session.run([FEATURES], {session.input: x}, run_options)[0]
    yield Progress(Stage.INFER, 1, 1, message)
    return ImageFeatures(np.ascontiguousarray(out[0], np.float32), work, shape, padded)


def image_features(
    image: Any,
    model_name: str,
    weights: ResolvedWeights,
    *,
    threads: int | None = None,
    scale: float | str = "auto",
    **image_options: Any,
) -> ImageFeatures:
    """:func:`iter_image_features` run to the end."""
    return run_to_end(
        iter_image_features(
            image, model_name, weights, threads=threads, scale=scale, **image_options
        )
    )


@contextmanager
def _stoppable_run() -> Iterator[Any]:
    """onnxruntime RunOptions that a run's Cancel (``core.run.stop``) ends, as the engines'."""
    import onnxruntime as ort

    options = ort.RunOptions()
    with network_call(lambda: setattr(options, "terminate", True)):
        yield options


def iter_features_session(
    model_name: str, weights: ResolvedWeights, threads: int | None = None
) -> Generator[Progress, None, OnnxSession]:
    """The features graph of (model, weights) opened: from memory, from the cache, or built."""
    if is_onnx_file(weights.path):
        raise WeightsError(
            f"{weights.path} is an ONNX model file: the features are built from the .params "
            "weights it was made from; give those."
        )
    path = features_path(model_name, weights.sha1)
    key = ("learn.features", str(path), weights.sha1, threads)
    session = yield from iter_cached(key, lambda: _iter_opened(model_name, weights, threads))
    return session


_build_locks: dict[Path, threading.Lock] = {}
_build_locks_lock = threading.Lock()


def _iter_opened(
    model_name: str, weights: ResolvedWeights, threads: int | None
) -> Generator[Progress, None, OnnxSession]:
    """The cached features graph opened, built first if missing, damaged or stale; one build
    per file at a time in this process (a second waits for the first's)."""
    path = features_path(model_name, weights.sha1)
    if not path.is_file():
        yield Progress(Stage.LOAD, 0, _BUILD_STEPS, BUILD_MESSAGE, notice=True)
    with _build_locks_lock:
        lock = _build_locks.setdefault(path, threading.Lock())
    while not lock.acquire(timeout=0.25):
        yield Progress(Stage.LOAD, 0, 1, "waiting for the feature extractor another run builds")
    try:
        session = _open_cached(path, model_name, weights.sha1, threads)
        if session is None:
            data = yield from _iter_build(model_name, weights, path)
            session = OnnxSession(path, threads, data)
    finally:
        lock.release()
    yield Progress(Stage.LOAD, _BUILD_STEPS, _BUILD_STEPS, BUILD_MESSAGE)
    return session


def _open_cached(path: Path, model_name: str, sha1: str, threads: int | None) -> OnnxSession | None:
    """The cached features graph, or None where there is none or it is damaged or stale."""
    if not path.is_file():
        return None
    try:
        session = OnnxSession(path, threads)
    except _load_errors():
        return None
    expected = read_metadata(features_metadata(model_name, sha1))
    stale = stale_reason(session.metadata, ExportSpec(model_name, sha1, dynamic=True))
    if stale is not None or session.metadata.get("output") != expected["output"]:
        return None
    return session


def _iter_build(
    model_name: str, weights: ResolvedWeights, dest: Path
) -> Generator[Progress, None, bytes]:
    """Build the features graph from the ``.params`` file and write it to ``dest`` (whole or
    not at all; not at all where the cache cannot be written); returns the file's bytes."""
    from ..models.onnx_build import build_features_model
    from ..models.params_file import read_weights

    params = read_weights(weights.path)  # its errors name the file
    yield Progress(Stage.LOAD, 1, _BUILD_STEPS, BUILD_MESSAGE)
    info = model_info(model_name)
    metadata = features_metadata(model_name, weights.sha1)
    try:
        model = build_features_model(model_name, params, info.num_classes, metadata)
    except WeightsError as exc:
        raise WeightsError(
            f"Cannot load weights file {weights.path} into model {model_name}: {exc}"
        ) from exc
    yield Progress(Stage.LOAD, 2, _BUILD_STEPS, BUILD_MESSAGE)
    data = model.to_bytes()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(dest.parent, f".*{TEMP_MARK}*")
        write_files({dest: data})
    except OSError as exc:  # a read-only or shared cache: run from memory, build again later
        logger.warning("Cannot keep the features graph in %s (%s).", dest.parent, exc)
    yield Progress(Stage.LOAD, 3, _BUILD_STEPS, BUILD_MESSAGE)
    return data
