"""Running a model over an image: a generator of progress events that returns the result.

``iter_segment_image`` is the one implementation; ``segment_image`` (scripts, CLI, tests) consumes
it synchronously and the widget consumes it in a napari ``thread_worker``. Closing the generator
between two events cancels the run cleanly.
"""

from __future__ import annotations

import importlib.metadata
import math
import os
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from . import options
from .engines import ENGINES, Engine, iter_load_network
from .engines.onnx import is_onnx_file, onnxruntime_available, onnxruntime_installed
from .errors import InsufficientMemoryError, OptionError, SegmentationCancelled, WeightsError
from .estimate import RunEstimate, estimate_windows
from .events import Progress, Stage
from .grid import iter_grid_logits
from .layout import WINDOW_PIXELS, Coverage, PassLayout, largest_window, pass_layout
from .memory import (
    RunShape,
    available_bytes,
    estimate_peak_bytes,
    format_bytes,
)
from .network import native_size
from .padding import iter_load_sized, padded_size
from .postprocess import (
    PlaneOutputs,
    label_dtype,
    softmax_rows,
    strip_rows,
    write_rows,
    write_upsampled,
)
from .preprocess import MIN_SIDE, ImageStack, as_image_stack, normalize_inplace
from .registry import DEFAULT_MODEL, ModelInfo, model_info
from .resize import resize_rows
from .result import SegmentationResult
from .scheme import LabelScheme, group_probabilities, load_scheme
from .scores import ScoreGrid, grid_positions, sample_grid_rows
from .tiling import EmitRows, iter_tiled_logits
from .weights import iter_resolve_weights

T = TypeVar("T")
Y = TypeVar("Y")


def working_size(height: int, width: int, scale: float | str, base_size: int) -> tuple[int, int]:
    """The size the network sees: ``scale`` times the image, or ``"auto"`` = long side at
    the model's ``base_size`` (GluonCV's evaluation size), short side at least MIN_SIDE."""
    if scale == "auto":
        # A thin strip keeps its short side at the network's minimum rather than vanish.
        factor = max(base_size / max(height, width), MIN_SIDE / min(height, width))
    else:
        factor = float(scale)
    return max(1, round(height * factor)), max(1, round(width * factor))


def _check_scale(scale: Any) -> float | str:
    if isinstance(scale, str) and scale == "auto":
        return scale
    if options.is_real(scale) and 0 < float(scale) <= 8:
        return float(scale)
    raise OptionError(f"scale must be 'auto' or a number in (0, 8]; got {scale!r}.")


def _least_factor(side: int) -> float:
    """The smallest factor (3 decimals, rounded up) that takes ``side`` to MIN_SIDE pixels."""
    return math.ceil(MIN_SIDE / side * 1000) / 1000


def _check_pass_sizes(
    plane: tuple[int, int], scale: float | str, passes: list[tuple[int, int]], factors
) -> None:
    """Refuse a working size (or test-time pass) below the network's minimum, naming one that
    works: at a few pixels the network gives one label for the whole image."""
    (h, w), work = plane, passes[0]
    need = f"the network needs at least {MIN_SIDE} on each side"
    if min(work) < MIN_SIDE:
        raise OptionError(
            f"scale={scale:g} makes the {h}x{w} image {work[0]}x{work[1]} pixels; {need}: "
            f"use scale >= {_least_factor(min(h, w)):g}."
        )
    for f, (ph, pw) in zip(factors, passes[1:], strict=True):
        if min(ph, pw) < MIN_SIDE:
            raise OptionError(
                f"tta_scales factor {f:g} makes the {work[0]}x{work[1]} working image "
                f"{ph}x{pw} pixels; {need}: use factors >= {_least_factor(min(work)):g} "
                "or a larger scale."
            )


def _check_engine(engine: Any, info: ModelInfo, weights: str | os.PathLike | None = None) -> Engine:
    """The engine to run ``info``'s model with: a .onnx weights file runs with onnxruntime;
    "auto" is the first of the model's engines that is installed (:attr:`ModelInfo.engines`)."""
    if not (isinstance(engine, str) and engine in ("auto", *ENGINES)):
        raise OptionError(f"Unknown engine {engine!r}. Valid engines: auto, {', '.join(ENGINES)}.")
    if weights is not None and is_onnx_file(weights):
        return _check_onnx_file_engine(engine, weights)
    if engine == "auto":
        return next(e for e in info.engines if e != Engine.ONNXRUNTIME or onnxruntime_available())
    if engine not in info.engines:
        works = " or ".join(f"engine='{e}'" for e in info.engines)
        raise OptionError(
            f"{info.name} cannot run with engine={engine!r}: its graph cannot be exported to "
            f"ONNX. Use {works} (or 'auto')."
        )
    if engine == Engine.ONNXRUNTIME and not onnxruntime_available():
        raise OptionError(
            "engine='onnxruntime' needs onnx==1.14.1 and onnxruntime: "
            "pip install 'napari-gluonseg[onnx]', or use engine='mxnet'."
        )
    return Engine(engine)


def _check_onnx_file_engine(engine: str, weights: str | os.PathLike) -> Engine:
    """An exported .onnx file runs with onnxruntime alone."""
    if engine == Engine.MXNET:
        raise OptionError(
            f"weights={os.fspath(weights)!r} is an ONNX file: it runs with engine='onnxruntime' "
            "(or 'auto'), not 'mxnet'."
        )
    if not onnxruntime_installed():
        raise OptionError(
            f"Running {os.fspath(weights)} needs onnxruntime: pip install onnxruntime."
        )
    return Engine.ONNXRUNTIME


def _check_threads(threads: Any) -> int | None:
    return None if threads is None else options.integer_at_least(threads, "threads", 1, "None or ")


def _check_tile(tile_size: Any) -> int | str | None:
    if tile_size is None or (isinstance(tile_size, str) and tile_size == "auto"):
        return tile_size
    return options.integer_at_least(tile_size, "tile_size", 64, "'auto', None or ")


def _pass_sizes(work: tuple[int, int], factors: tuple[float, ...]) -> list[tuple[int, int]]:
    """The main pass at the working size, then one pass per extra test-time scale."""
    return [work] + [(round(work[0] * f), round(work[1] * f)) for f in factors]


def _layouts(passes, tile, info: ModelInfo, max_window: int) -> tuple[PassLayout, ...]:
    return tuple(pass_layout(h, w, tile, info, max_window) for h, w in passes)


def _run_shape(stack, info: ModelInfo, scale, tile, factors, n_maps, max_window) -> RunShape:
    height, width = stack.plane_shape
    work = working_size(height, width, scale, info.base_size)
    layouts = _layouts(_pass_sizes(work, factors), tile, info, max_window)
    return RunShape(
        height=height,
        width=width,
        n_planes=stack.n_planes,
        num_classes=info.num_classes,
        work=work,
        passes=tuple((lay.height, lay.width) for lay in layouts),
        window=largest_window(layouts),
        native=all(lay.native for lay in layouts),
        streaming=work == (height, width) and not factors and layouts[0].coverage is Coverage.TILES,
        n_maps=n_maps,
        label_bytes=label_dtype(info.num_classes).itemsize,
    )


def peak_bytes(stack, info, scale, tile, factors, n_maps, max_window=WINDOW_PIXELS[0]) -> int:
    """The memory guard's estimate of a run's peak (bytes)."""
    return estimate_peak_bytes(_run_shape(stack, info, scale, tile, factors, n_maps, max_window))


def _fitting_window(stack, info, scale, tile, factors, n_maps, available) -> tuple[int, int]:
    """(largest window of ``WINDOW_PIXELS`` whose run fits ``available``, or the smallest;
    that run's estimated peak)."""
    for max_window in WINDOW_PIXELS:
        need = peak_bytes(stack, info, scale, tile, factors, n_maps, max_window)
        if available is None or need <= available:
            break
    return max_window, need


def check_memory(stack, info: ModelInfo, scale, tile, factors, n_maps, available=None) -> int:
    """Refuse a run whose estimated peak exceeds the available memory; return the largest
    window (pixels, of ``WINDOW_PIXELS``) whose run fits."""
    available = available_bytes() if available is None else available
    max_window, need = _fitting_window(stack, info, scale, tile, factors, n_maps, available)
    if available is None or need <= available:
        return max_window
    hint = " Fewer planes or probability maps, or a smaller image, would be needed."
    for alt_scale, alt_tile, alt_factors in (
        (scale, "auto", factors),
        (scale, info.crop_size, factors),
        (scale, info.crop_size, ()),
        ("auto", "auto", ()),
    ):
        alt = (alt_scale, alt_tile, alt_factors)
        _, alt_need = _fitting_window(stack, info, *alt, n_maps, available)
        if alt_need <= available and alt != (scale, tile, factors):
            extra = f", tta_scales={list(alt_factors)}" if alt_factors else ""
            hint = (
                f" Try scale={alt_scale!r}, tile_size={alt_tile!r}{extra} "
                f"(~{format_bytes(alt_need)})."
            )
            break
    raise InsufficientMemoryError(
        f"This run would need about {format_bytes(need)} of memory but only "
        f"{format_bytes(available)} is available (scale={scale!r}, tile_size={tile!r}, "
        f"image {stack.plane_shape[0]}x{stack.plane_shape[1]} x {stack.n_planes} plane(s)).{hint}"
    )


def _finite_logits(
    forward: Callable[[np.ndarray], np.ndarray], weights: Path, model_name: str
) -> Callable[[np.ndarray], np.ndarray]:
    """``forward`` refusing NaN or infinite logits: corrupt weights would otherwise label every
    pixel with the first class (argmax of NaN) or fail deep in the upsampling."""

    def checked(x: np.ndarray) -> np.ndarray:
        logits = forward(x)
        # One pass, no temporary: any NaN or inf makes the float64 sum non-finite.
        if not np.isfinite(logits.sum(dtype=np.float64)):
            raise WeightsError(
                f"The network produced NaN or infinite scores with weights {weights}: the file "
                f"is corrupt or not trained for {model_name}. Nothing was labelled."
            )
        return logits

    return checked


def _flip_averaged(forward: Callable[[np.ndarray], np.ndarray]) -> Callable:
    """A window forward that averages the probabilities of the window and its mirror image.

    Returns log-probabilities, so the tiling averages them like logits and the softmax that
    follows gives back the averaged probabilities.
    """

    def both(x: np.ndarray) -> np.ndarray:
        p = softmax_rows(forward(x)[0])
        q = softmax_rows(forward(np.ascontiguousarray(x[..., ::-1]))[0])[..., ::-1]
        p += q
        p *= 0.5
        return np.log(np.maximum(p, np.float32(1e-30)))[None]

    return both


@dataclass(frozen=True)
class RunPlan:
    """A run's checked options and sizes, decided before anything loads (see :func:`check_run`).

    ``subset``: model class indices to predict among (None: all); ``wanted``: the result's class
    indices whose probability maps are returned; ``layouts``: how each pass runs, the working size
    first, then one per extra test-time scale.
    """

    model_name: str
    info: ModelInfo
    stack: ImageStack
    weights: str | os.PathLike | None
    engine: Engine
    scale: float | str
    tile: int | str | None
    flip: bool
    factors: tuple[float, ...]
    scheme: LabelScheme | None
    subset: tuple[int, ...] | None
    wanted: tuple[int, ...]
    min_confidence: float
    work: tuple[int, int]
    layouts: tuple[PassLayout, ...]
    threads: int | None = None

    @property
    def passes(self) -> tuple[tuple[int, int], ...]:
        return tuple((lay.height, lay.width) for lay in self.layouts)


def check_run(
    image: Any,
    model_name: str = DEFAULT_MODEL,
    *,
    weights: str | os.PathLike | None = None,
    scale: float | str = "auto",
    tile_size: int | str | None = "auto",
    engine: str = "auto",
    flip: bool = False,
    tta_scales: Iterable[float] = (),
    probability_classes: Iterable[str | int] = (),
    classes: Iterable[str | int] | None = None,
    min_confidence: float = 0.0,
    scheme: str | os.PathLike | LabelScheme | None = None,
    rgb: bool | None = None,
    intensity_range: tuple[float, float] | None = None,
    check_memory_first: bool = True,
    threads: int | None = None,
) -> RunPlan:
    """Check every argument of :func:`segment_image` and plan the run, loading nothing.

    Raises the package's errors (:class:`OptionError`, :class:`ImageError`,
    :class:`SchemeError`, :class:`InsufficientMemoryError`...) naming the argument and value.
    """
    info = model_info(model_name)
    stack = as_image_stack(image, rgb, intensity_range)
    weights = options.optional_path(weights, "weights", "a .params or .onnx file")
    scale = _check_scale(scale)
    tile = _check_tile(tile_size)
    engine = _check_engine(engine, info, weights)
    threads = _check_threads(threads)
    flip = options.flag(flip, "flip")
    factors = tuple(f for f in options.factors(tta_scales, "tta_scales", 0.25, 4) if f != 1.0)
    if scheme is not None and not isinstance(scheme, LabelScheme):
        what = "a .yaml or .csv scheme file, a LabelScheme,"
        scheme_file = options.optional_path(scheme, "scheme", what)
        assert scheme_file is not None  # scheme is not None here
        scheme = load_scheme(scheme_file, info)
    if scheme is not None and classes is not None:
        raise OptionError("Use either a class subset or a label scheme, not both.")
    index_of = scheme.index_of if scheme is not None else info.class_index
    wanted = tuple(
        sorted({index_of(c) for c in options.names(probability_classes, "probability_classes")})
    )
    subset = _check_subset(
        options.names(classes, "classes") if classes is not None else None, wanted, info
    )
    min_confidence = options.real_in(min_confidence, "min_confidence", 0, 1)
    work = working_size(*stack.plane_shape, scale, info.base_size)
    passes = _pass_sizes(work, factors)
    _check_pass_sizes(stack.plane_shape, scale, passes, factors)
    max_window = WINDOW_PIXELS[0]
    if options.flag(check_memory_first, "check_memory_first"):
        max_window = check_memory(stack, info, scale, tile, factors, len(wanted))
    return RunPlan(
        model_name,
        info,
        stack,
        weights,
        engine,
        scale,
        tile,
        flip,
        factors,
        scheme,
        subset,
        wanted,
        min_confidence,
        work,
        _layouts(passes, tile, info, max_window),
        threads,
    )


def iter_segment_image(
    image: Any,
    model_name: str = DEFAULT_MODEL,
    *,
    weights: str | os.PathLike | None = None,
    scale: float | str = "auto",
    tile_size: int | str | None = "auto",
    engine: str = "auto",
    flip: bool = False,
    tta_scales: Iterable[float] = (),
    probability_classes: Iterable[str | int] = (),
    classes: Iterable[str | int] | None = None,
    min_confidence: float = 0.0,
    scheme: str | os.PathLike | LabelScheme | None = None,
    rgb: bool | None = None,
    intensity_range: tuple[float, float] | None = None,
    check_memory_first: bool = True,
    threads: int | None = None,
) -> Generator[Progress, None, SegmentationResult]:
    """Segment ``image``, yielding :class:`Progress` events; returns a SegmentationResult.

    Arguments as for :func:`segment_image`. All checks of the arguments (memory included)
    happen before the first event (:func:`check_run`), so bad input fails fast and nothing is
    downloaded for it.
    """
    plan = check_run(
        image,
        model_name,
        weights=weights,
        scale=scale,
        tile_size=tile_size,
        engine=engine,
        flip=flip,
        tta_scales=tta_scales,
        probability_classes=probability_classes,
        classes=classes,
        min_confidence=min_confidence,
        scheme=scheme,
        rgb=rgb,
        intensity_range=intensity_range,
        check_memory_first=check_memory_first,
        threads=threads,
    )
    return (yield from _iter_run(plan))


def _iter_run(plan: RunPlan) -> Generator[Progress, None, SegmentationResult]:
    info, stack, model_name, scheme = plan.info, plan.stack, plan.model_name, plan.scheme
    factors, wanted, layouts = plan.factors, plan.wanted, plan.layouts
    work = plan.work
    subset = None if plan.subset is None else list(plan.subset)  # indexes rows, not axes
    # Rows of the scores after the run: model classes, a subset of them, or a scheme's labels
    # (plus its unmapped group); class_ids maps each to the result's class index (-1: label 0).
    if scheme is not None:
        groups = scheme.groups(info.num_classes)
        class_ids = scheme.row_ids()
        names, colors = scheme.class_names, scheme.colors
    else:
        groups = None
        class_ids = np.arange(info.num_classes) if subset is None else np.array(subset)
        names, colors = info.class_names, info.colors
    height, width = stack.plane_shape
    streaming = work == (height, width) and not factors
    estimate = plan_estimate(plan)
    if estimate.long:
        yield Progress(Stage.PLAN, 1, 1, estimate.message)

    resolved = yield from iter_resolve_weights(model_name, plan.weights)
    keys = [layout.network_key for layout in layouts]
    networks = {}
    for n, key in enumerate(sorted(set(keys))):
        yield Progress(Stage.LOAD, n, len(set(keys)), f"loading {model_name} for {key[0]}x{key[1]}")
        networks[key] = yield from iter_load_sized(
            partial(iter_load_network, plan.engine, threads=plan.threads), info, resolved, *key
        )
    yield Progress(Stage.LOAD, len(networks), len(networks), f"loaded {model_name}")
    # Tiled at full resolution without extra scales: rows go straight to the outputs.
    streaming = streaming and layouts[0].coverage is Coverage.TILES

    shape = stack.spatial_shape
    labels = np.zeros(shape, label_dtype(len(names)))
    confidence = np.zeros(shape, np.float32)
    probs = {k: np.zeros(shape, np.float32) for k in wanted}
    per_plane = sum(len(layout.windows) for layout in layouts)
    total = stack.n_planes * per_plane
    done = 0

    def running(k: int) -> str:
        """The step that runs once ``k`` are done: the status names what is in progress."""
        if k == total:
            return "finishing"
        plane, window = divmod(k, per_plane)
        where = f"plane {plane + 1}/{stack.n_planes}" if stack.n_planes > 1 else "image"
        if per_plane > 1:
            where += f", window {window + 1}/{per_plane}"
        return f"segmenting {where}"

    def step() -> Progress:
        nonlocal done
        done += 1
        return Progress(Stage.INFER, done, total, running(done))

    yield Progress(Stage.INFER, 0, total, running(0))

    kept = None  # every plane's probabilities on its grid, for answers after the run
    for i in range(stack.n_planes):
        index = stack.plane_index(i)
        out = PlaneOutputs(
            labels[index],
            confidence[index],
            {k: p[index] for k, p in probs.items()},
            class_ids=None if subset is None and groups is None else class_ids,
            min_confidence=plan.min_confidence,
        )
        grid = rank = None  # probabilities (and logits to rank by) on the main pass's grid
        for n, layout in enumerate(layouts):
            x = normalize_inplace(stack.plane_chw01(i, layout.height, layout.width))
            net = networks[layout.network_key]
            forward = _finite_logits(net.logits, resolved.path, model_name)
            forward = _flip_averaged(forward) if plan.flip else forward
            if streaming:
                assert layout.tile is not None and layout.stride is not None  # a TILES pass
                if kept is None:
                    grid_shape = (stack.n_planes, len(class_ids), *native_size(*work))
                    kept = np.zeros(grid_shape, np.float16)
                emit = _emit_outputs(out, kept[i], (height, width), subset, groups)
                yield from iter_tiled_logits(forward, x, layout.tile, layout.stride, step, emit)
                continue
            if layout.coverage is Coverage.TILES:
                assert layout.tile is not None and layout.stride is not None
                pass_probs = np.zeros((info.num_classes, layout.height, layout.width), np.float32)
                emit = _emit_scores(pass_probs)
                yield from iter_tiled_logits(forward, x, layout.tile, layout.stride, step, emit)
            else:
                if layout.coverage is Coverage.GRID:
                    assert layout.grid is not None
                    logits = yield from iter_grid_logits(forward, x, layout.grid, step)
                else:
                    logits = forward(x)[0]
                    yield step()
                pass_probs = softmax_rows(logits)
                if len(layouts) == 1:
                    rank = logits  # the reference ranks classes by their upsampled logits
            del x
            if n == 0:
                grid = pass_probs
            else:
                assert grid is not None  # set by the first pass
                _add_resized(grid, pass_probs)
            del pass_probs
        if grid is not None:
            if len(layouts) > 1:
                grid /= len(layouts)
            if subset is not None:
                grid = _renormalized(grid[subset])
                rank = None if rank is None else rank[subset]
            elif groups is not None:
                grid, rank = group_probabilities(grid, groups), None
            write_upsampled(grid, out, rank=rank)
            # Kept at most at stride 8 of the working size: a tiled pass's grid is the working
            # image, too big to keep per plane.
            coarse = _coarse_grid(grid, native_size(*work))
            if kept is None:
                kept = np.zeros((stack.n_planes, *coarse.shape), np.float16)
            kept[i] = coarse
            del grid, rank
        yield Progress(Stage.POSTPROCESS, i + 1, stack.n_planes, "labels and probabilities")

    assert kept is not None  # every plane sets its row; a stack has at least one plane
    return SegmentationResult(
        labels=labels,
        probabilities={names[k]: p for k, p in probs.items()},
        confidence=confidence,
        class_names=names,
        colors=colors,
        scores=ScoreGrid(kept, stack.leading_shape, (height, width), tuple(map(int, class_ids))),
        provenance={
            "model": model_name,
            "dataset": info.dataset,
            "weights": str(resolved.path),
            "weights_source": resolved.source,
            "weights_sha1": resolved.sha1,
            "scale": plan.scale,
            "working_size": list(work),
            **layouts[0].provenance(),
            "flip": plan.flip,
            "tta_scales": [1.0, *factors] if factors else None,
            "engine": plan.engine.value,  # a plain string: the record is written as JSON
            "threads": plan.threads,
            "providers": next(iter(networks.values())).providers,
            "model_file": str(next(iter(networks.values())).model_file),
            "classes": None if subset is None else [info.class_names[k] for k in subset],
            "label_scheme": None
            if scheme is None
            else {"name": scheme.name, "file": scheme.source},
            "min_confidence": plan.min_confidence,
            "intensity_range": None
            if stack.intensity_range is None
            else list(stack.intensity_range),
            "versions": _versions(),
        },
    )


def plan_estimate(plan: RunPlan) -> RunEstimate:
    """The planned run's forward passes (padded windows) and their expected time."""
    sizes = []
    for layout in plan.layouts:
        sizes += [padded_size(plan.info, wh, ww) for _, _, wh, ww in layout.windows]
    sizes *= plan.stack.n_planes * (2 if plan.flip else 1)
    return estimate_windows(plan.model_name, plan.engine, plan.stack.plane_shape, plan.work, sizes)


def estimate_run(
    image: Any,
    model_name: str = DEFAULT_MODEL,
    *,
    scale: float | str = "auto",
    tile_size: int | str | None = "auto",
    engine: str = "auto",
    flip: bool = False,
    tta_scales: Iterable[float] = (),
    rgb: bool | None = None,
) -> RunEstimate:
    """Working size, forward passes, multiply-accumulates and expected seconds of
    :func:`segment_image` with these arguments, loading nothing (arguments as there)."""
    plan = check_run(
        image,
        model_name,
        scale=scale,
        tile_size=tile_size,
        engine=engine,
        flip=flip,
        tta_scales=tta_scales,
        rgb=rgb,
        check_memory_first=False,
    )
    return plan_estimate(plan)


def _add_resized(grid: np.ndarray, probs: np.ndarray) -> None:
    """``grid += resize(probs)`` one strip of rows at a time (no full-size temporaries)."""
    c, h, w = grid.shape
    step = strip_rows(c, w)
    for r0 in range(0, h, step):
        r1 = min(h, r0 + step)
        grid[:, r0:r1] += resize_rows(probs, h, w, r0, r1)


def _coarse_grid(grid: np.ndarray, most: tuple[int, int]) -> np.ndarray:
    """``grid`` (C, h, w) sampled down to at most ``most`` points per axis, corners kept."""
    _, h, w = grid.shape
    if h <= most[0] and w <= most[1]:
        return grid
    gh, gw = min(h, most[0]), min(w, most[1])
    return grid[:, grid_positions(h, gh)][:, :, grid_positions(w, gw)]


def _check_subset(
    classes: tuple[str | int, ...] | None, wanted: tuple[int, ...], info: ModelInfo
) -> tuple[int, ...] | None:
    if classes is None:
        return None
    subset = tuple(sorted({info.class_index(c) for c in classes}))
    if not subset:
        raise OptionError("classes is empty: name at least one class, or pass None for all.")
    outside = [info.class_names[k] for k in wanted if k not in subset]
    if outside:
        raise OptionError(
            f"Probability maps asked for classes outside the chosen classes: {outside}."
        )
    return subset


def _renormalized(probs: np.ndarray) -> np.ndarray:
    """Probabilities of a subset of classes, renormalized to sum to 1 over it."""
    total = probs.sum(axis=0, keepdims=True)
    return probs / np.maximum(total, np.float32(1e-30))


def _emit_outputs(
    out: PlaneOutputs,
    kept: np.ndarray,
    image_shape: tuple[int, int],
    subset: list[int] | None,
    groups: list[np.ndarray] | None,
) -> EmitRows:
    """Finished full-resolution rows of logits -> labels, confidence, probability maps, and the
    rows of the stride-8 grid ``kept`` (C, gh, gw) that fall on them. With a subset of classes,
    the softmax over their logits is their renormalized probability."""
    _, grid_h, grid_w = kept.shape

    def emit(row0: int, logits: np.ndarray) -> None:
        # In place: at 12 MP a band of logits is ~0.8 GB; a subset is a (smaller) copy anyway.
        probs = softmax_rows(logits, out=logits) if subset is None else softmax_rows(logits[subset])
        if groups is not None:
            probs = group_probabilities(probs, groups)
        write_rows(probs, out, row0)
        rows, values = sample_grid_rows(probs, row0, image_shape, (grid_h, grid_w))
        kept[:, rows] = values

    return emit


def _emit_scores(scores: np.ndarray) -> EmitRows:
    """Finished working-resolution rows of logits -> probabilities added into ``scores``."""

    def emit(row0: int, logits: np.ndarray) -> None:
        rows = scores[:, row0 : row0 + logits.shape[1]]
        rows += softmax_rows(logits, out=logits)

    return emit


def run_to_end(
    events: Generator[Y, None, T],
    on_progress: Callable[[Y], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> T:
    """Drive a generator of events (progress, image reports) to its result; raise
    SegmentationCancelled if asked to stop."""
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
    scale: float | str = "auto",
    tile_size: int | str | None = "auto",
    engine: str = "auto",
    flip: bool = False,
    tta_scales: Iterable[float] = (),
    probability_classes: Iterable[str | int] = (),
    classes: Iterable[str | int] | None = None,
    min_confidence: float = 0.0,
    scheme: str | os.PathLike | LabelScheme | None = None,
    rgb: bool | None = None,
    intensity_range: tuple[float, float] | None = None,
    check_memory_first: bool = True,
    threads: int | None = None,
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
        missing); otherwise a local ``.params`` file, or a ``.onnx`` file made by
        ``napari-gluonseg export-onnx`` (runs with onnxruntime alone, without mxnet).
    scale : float or "auto"
        Working resolution: ``"auto"`` (default) resizes the long side to the model's
        ``base_size`` (520 for ADE20K), as GluonCV evaluates; a number is a factor on the image's
        own size (1.0 = as is). Outputs always have the image's full resolution.
    tile_size : int, "auto" or None
        Sliding windows of this size with 2/3 stride, logits averaged where they overlap;
        ``"auto"`` (default) is the model's ``crop_size`` (480); ``None`` runs the whole working
        image at once (the reference workflow: memory grows with the image).
    engine : str
        ``"auto"`` (default: onnxruntime when installed, else MXNet), ``"mxnet"`` or
        ``"onnxruntime"`` (exported once per weights file, for every image size, in a child
        process; PSP, DeepLab and other models with fixed pooling sizes once per size, the last
        four kept; cached in ``$MXNET_HOME/models/onnx``).
    flip : bool
        Test-time augmentation: also run the mirrored image and average the probabilities.
    tta_scales : iterable of float
        Test-time augmentation: extra passes at these factors of the working size (e.g.
        ``(0.75, 1.25)``), probabilities averaged with the main pass at the working size.
    probability_classes : iterable of str or int
        Classes (names, first synonyms or indices) whose probability maps to return.
    classes : iterable of str or int, optional
        Predict only among these classes: their probabilities are renormalized over them, no
        other class appears in the labels.
    min_confidence : float
        Pixels whose top probability is below this are left unlabeled (0), for the annotator.
    scheme : path or LabelScheme, optional
        The user's own labels (:mod:`napari_gluonseg.core.scheme`): each label's probability is
        the sum of its classes'; labels, names, colours and probability maps follow the scheme,
        and pixels won by classes outside it stay unlabeled.
    rgb : bool, optional
        Whether the last axis is colour; guessed when ``None`` (a (3|4, H, W) array is refused
        then: pass it channels last, or ``rgb=False`` for a stack of planes).
    intensity_range : (float, float), optional
        Values mapped to black and white for the network (clipped), for any dtype: e.g. a
        viewer's contrast limits, or ``(0, 4095)`` for 12-bit data stored as uint16. ``None``
        scales by dtype (uint8 /255, uint16 /65535, floats in [0, 1] as is, else min-max).
    check_memory_first : bool
        Estimate the peak memory first and raise :class:`InsufficientMemoryError` (with a setting
        that fits) rather than start a run the machine cannot finish.
    threads : int, optional
        onnxruntime's intra-op threads (MXNet's OpenMP threads for the process); ``None``: all
        cores. Set it when several runs share a machine.

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
            flip=flip,
            tta_scales=tta_scales,
            probability_classes=probability_classes,
            classes=classes,
            min_confidence=min_confidence,
            scheme=scheme,
            rgb=rgb,
            intensity_range=intensity_range,
            check_memory_first=check_memory_first,
            threads=threads,
        )
    )


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("napari-gluonseg", "mxnet", "gluoncv", "numpy", "onnxruntime", "napari"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
