"""Running a model over an image: a generator of progress events that returns the result.

``iter_segment_image`` is the one implementation; ``segment_image`` (scripts, CLI, tests) consumes
it synchronously and the widget consumes it in a napari ``thread_worker``. Closing the generator
between two events cancels the run cleanly.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Generator, Iterable
from typing import Any, TypeVar

import numpy as np

from .errors import SegmentationCancelled
from .events import Progress
from .network import load_network
from .onnx_engine import load_onnx_network, onnxruntime_available
from .postprocess import PlaneOutputs, label_dtype, write_plane_outputs
from .preprocess import as_image_stack, normalize, to_chw
from .registry import DEFAULT_MODEL, model_info
from .resize import resize
from .result import SegmentationResult
from .tiling import default_stride, iter_tiled_logits, tile_windows
from .weights import iter_resolve_weights

ENGINES = ("mxnet", "onnxruntime")

T = TypeVar("T")


def working_size(height: int, width: int, scale: float | str, base_size: int) -> tuple[int, int]:
    """The size the network sees: ``scale`` times the image, or ``"auto"`` = long side at
    the model's ``base_size`` (GluonCV's evaluation size)."""
    if scale == "auto":
        factor = base_size / max(height, width)
    elif isinstance(scale, (int, float)) and not isinstance(scale, bool) and 0 < scale <= 8:
        factor = float(scale)
    else:
        raise ValueError(f"scale must be 'auto' or a number in (0, 8]; got {scale!r}.")
    return max(1, round(height * factor)), max(1, round(width * factor))


def _check_engine(engine: str) -> str:
    if engine == "auto":
        return "onnxruntime" if onnxruntime_available() else "mxnet"
    if engine not in ENGINES:
        raise ValueError(f"Unknown engine {engine!r}. Valid engines: auto, {', '.join(ENGINES)}.")
    if engine == "onnxruntime" and not onnxruntime_available():
        raise ValueError(
            "engine='onnxruntime' needs onnx==1.14.1 and onnxruntime: "
            "pip install 'napari-gluonseg[onnx]', or use engine='mxnet'."
        )
    return engine


def _check_tile(tile_size: int | None) -> int | None:
    if tile_size is None:
        return None
    if isinstance(tile_size, bool) or not isinstance(tile_size, int) or tile_size < 64:
        raise ValueError(f"tile_size must be None or an integer >= 64; got {tile_size!r}.")
    return tile_size


def iter_segment_image(
    image: Any,
    model_name: str = DEFAULT_MODEL,
    *,
    weights: str | os.PathLike | None = None,
    scale: float | str = 1.0,
    tile_size: int | None = None,
    engine: str = "mxnet",
    probability_classes: Iterable[str | int] = (),
    rgb: bool | None = None,
) -> Generator[Progress, None, SegmentationResult]:
    """Segment ``image``, yielding :class:`Progress` events; returns a SegmentationResult.

    Arguments as for :func:`segment_image`. All checks of the arguments happen before the
    first event, so bad input fails fast and nothing is downloaded for it.
    """
    info = model_info(model_name)
    stack = as_image_stack(image, rgb)
    engine = _check_engine(engine)
    tile = _check_tile(tile_size)
    wanted = sorted({info.class_index(c) for c in probability_classes})
    height, width = stack.plane_shape
    work_h, work_w = working_size(height, width, scale, info.base_size)

    resolved = yield from iter_resolve_weights(model_name, weights)
    yield Progress("load", 0, 1, f"loading {model_name}")
    net_h, net_w = (work_h, work_w) if tile is None else (tile, tile)
    loader = load_onnx_network if engine == "onnxruntime" else load_network
    network = loader(model_name, resolved, net_h, net_w)
    yield Progress("load", 1, 1, f"loaded {model_name}")

    shape = stack.spatial_shape
    labels = np.zeros(shape, label_dtype(info.num_classes))
    confidence = np.zeros(shape, np.float32)
    probs = {k: np.zeros(shape, np.float32) for k in wanted}
    stride = default_stride(tile) if tile else 0
    per_plane = len(tile_windows(work_h, work_w, tile, stride)) if tile else 1
    total = stack.n_planes * per_plane
    done = 0

    def step() -> Progress:
        nonlocal done
        done += 1
        plane, tile_no = divmod(done - 1, per_plane)
        where = f"plane {plane + 1}/{stack.n_planes}" if stack.n_planes > 1 else "image"
        if per_plane > 1:
            where += f", tile {tile_no + 1}/{per_plane}"
        return Progress("infer", done, total, f"segmenting {where}")

    for i in range(stack.n_planes):
        chw = to_chw(stack.plane_rgb01(i))
        if (work_h, work_w) != (height, width):
            chw = resize(chw, work_h, work_w)
        x = normalize(chw)
        if tile is None:
            logits = network.logits(x)[0]
            yield step()
        else:
            logits = yield from iter_tiled_logits(network.logits, x, tile, stride, step)
        index = stack.plane_index(i)
        write_plane_outputs(
            logits,
            PlaneOutputs(labels[index], confidence[index], {k: p[index] for k, p in probs.items()}),
        )
        yield Progress("postprocess", i + 1, stack.n_planes, "labels and probabilities")

    return SegmentationResult(
        labels=labels,
        probabilities={info.class_names[k]: p for k, p in probs.items()},
        confidence=confidence,
        class_names=info.class_names,
        colors=info.colors,
        provenance={
            "model": model_name,
            "dataset": info.dataset,
            "weights": str(resolved.path),
            "weights_source": resolved.source,
            "weights_sha1": resolved.sha1,
            "scale": scale,
            "working_size": [work_h, work_w],
            "tile_size": tile,
            "tile_stride": stride or None,
            "engine": engine,
            "versions": _versions(),
        },
    )


def run_to_end(
    events: Generator[Progress, None, T],
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> T:
    """Drive a progress generator to its result; raise SegmentationCancelled if asked to stop."""
    while True:
        try:
            event = next(events)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(event)
        if should_cancel is not None and should_cancel():
            events.close()
            raise SegmentationCancelled("Segmentation cancelled.")


def segment_image(
    image: Any,
    model_name: str = DEFAULT_MODEL,
    *,
    weights: str | os.PathLike | None = None,
    scale: float | str = 1.0,
    tile_size: int | None = None,
    engine: str = "mxnet",
    probability_classes: Iterable[str | int] = (),
    rgb: bool | None = None,
) -> SegmentationResult:
    """Segment an image with a GluonCV model.

    Parameters
    ----------
    image : array-like
        (..., H, W) greyscale or (..., H, W, 3|4) RGB(A); uint8, uint16 or float (see
        :mod:`napari_gluonseg.core.preprocess` for the scaling). Leading axes are planes.
    model_name : str
        A registry name (:func:`napari_gluonseg.model_names`).
    weights : path, optional
        ``None``: the model zoo's pretrained weights (downloaded into ``$MXNET_HOME/models`` if
        missing); otherwise a local ``.params`` file.
    scale : float or "auto"
        Working resolution: a factor on the image's own (1.0 = as is), or ``"auto"`` for the
        model's base size on the long side.
    tile_size : int, optional
        ``None`` runs the whole working image at once (the reference workflow); an integer
        slides windows of that size with 2/3 overlap stride.
    engine : str
        ``"mxnet"``, ``"onnxruntime"`` (exported once per weights and input size, cached in
        ``$MXNET_HOME/models/onnx``) or ``"auto"`` (onnxruntime when installed).
    probability_classes : iterable of str or int
        Classes (names, first synonyms or indices) whose probability maps to return.
    rgb : bool, optional
        Whether the last axis is colour; guessed when ``None``.

    Returns
    -------
    SegmentationResult
    """
    return run_to_end(
        iter_segment_image(
            image,
            model_name,
            weights=weights,
            scale=scale,
            tile_size=tile_size,
            engine=engine,
            probability_classes=probability_classes,
            rgb=rgb,
        )
    )


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("napari-gluonseg", "mxnet", "gluoncv", "numpy"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
