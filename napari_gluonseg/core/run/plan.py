"""Checking a run's arguments and planning it, before anything loads.

:func:`plan_run` checks every argument of :func:`~.segment.segment_image` (raising the
package's errors, naming the argument and value) and returns a :class:`RunPlan`: the image stack,
the label space asked for, the working size and how each pass covers it (:mod:`.layout`), sized
by the memory guard (:mod:`.memory`). :func:`plan_estimate` says how long it will take.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from .. import checks
from ..errors import InsufficientMemoryError, OptionError
from ..models import _mxnet
from ..models.engines import Engine
from ..models.engines.onnx import is_onnx_file, onnxruntime_available, onnxruntime_installed
from ..models.learned import is_learned_file, is_model_file, read_learned
from ..models.padding import padded_size
from ..models.registry import DEFAULT_MODEL, ModelInfo, model_info
from ..models.scheme import LabelScheme, load_scheme
from .estimate import RunEstimate, activation_scale, estimate_windows
from .layout import WINDOW_PIXELS, Coverage, PassLayout, largest_window, pass_layout
from .memory import RunShape, available_bytes, estimate_peak_bytes, format_bytes
from .options import EngineChoice, RunOptions, check_scale
from .postprocess import label_dtype
from .preprocess import MIN_SIDE, ImageStack, as_image_stack


def working_size(height: int, width: int, scale: float | str, base_size: int) -> tuple[int, int]:
    """The size the network sees: ``scale`` times the image, or ``"auto"`` = long side at
    the model's ``base_size`` (GluonCV's evaluation size), short side at least MIN_SIDE."""
    if scale == "auto":
        # A thin strip keeps its short side at the network's minimum rather than vanish.
        factor = max(base_size / max(height, width), MIN_SIDE / min(height, width))
    else:
        factor = float(scale)
    return max(1, round(height * factor)), max(1, round(width * factor))


def _least_factor(side: int) -> float:
    """The smallest factor (3 decimals, rounded up) that takes ``side`` to MIN_SIDE pixels."""
    return math.ceil(MIN_SIDE / side * 1000) / 1000


def _check_pass_sizes(
    plane: tuple[int, int],
    scale: float | str,
    passes: list[tuple[int, int]],
    factors: tuple[float, ...],
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


def _check_engine(engine: str, info: ModelInfo, weights: str | os.PathLike | None = None) -> Engine:
    """The engine to run ``info``'s model with (``engine`` is an :class:`EngineChoice`): a .onnx
    weights file runs with onnxruntime; "auto" is the first of the model's engines that is
    installed (:attr:`ModelInfo.engines`)."""
    if weights is not None and is_onnx_file(weights):
        return _check_onnx_file_engine(engine, weights)
    usable = [e for e in info.engines if _installed(e)]
    if engine == EngineChoice.AUTO:
        if not usable:
            raise OptionError(
                f"No engine that runs {info.name} is installed: onnxruntime and onnx come with "
                "napari-gluonseg (pip install napari-gluonseg); " + _mxnet.MISSING
            )
        return usable[0]
    if engine not in info.engines:
        works = " or ".join(f"engine='{e}'" for e in info.engines)
        raise OptionError(
            f"{info.name} cannot run with engine={engine!r}: napari-gluonseg cannot build its "
            f"graph for it. Use {works} (or 'auto')."
        )
    if engine == Engine.ONNXRUNTIME and not onnxruntime_available():
        raise OptionError(
            "engine='onnxruntime' needs onnx and onnxruntime: pip install onnx onnxruntime "
            "(both are dependencies of napari-gluonseg), or use engine='mxnet'."
        )
    if engine == Engine.MXNET and not _mxnet.installed():
        raise OptionError("engine='mxnet': " + _mxnet.MISSING)
    return Engine(engine)


def _installed(engine: Engine) -> bool:
    return onnxruntime_available() if engine == Engine.ONNXRUNTIME else _mxnet.installed()


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


def _pass_sizes(work: tuple[int, int], factors: tuple[float, ...]) -> list[tuple[int, int]]:
    """The main pass at the working size, then one pass per extra test-time scale."""
    return [work] + [(round(work[0] * f), round(work[1] * f)) for f in factors]


def _layouts(
    passes: list[tuple[int, int]], tile: int | str | None, info: ModelInfo, max_window: int
) -> tuple[PassLayout, ...]:
    return tuple(pass_layout(h, w, tile, info, max_window) for h, w in passes)


def _run_shape(
    stack: ImageStack,
    info: ModelInfo,
    scale: float | str,
    tile: int | str | None,
    factors: tuple[float, ...],
    n_maps: int,
    max_window: int,
) -> RunShape:
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
        activation_scale=activation_scale(info.name),
    )


def peak_bytes(
    stack: ImageStack,
    info: ModelInfo,
    scale: float | str,
    tile: int | str | None,
    factors: tuple[float, ...],
    n_maps: int,
    max_window: int = WINDOW_PIXELS[0],
) -> int:
    """The memory guard's estimate of a run's peak (bytes)."""
    return estimate_peak_bytes(_run_shape(stack, info, scale, tile, factors, n_maps, max_window))


def _fitting_window(
    stack: ImageStack,
    info: ModelInfo,
    scale: float | str,
    tile: int | str | None,
    factors: tuple[float, ...],
    n_maps: int,
    available: int | None,
) -> tuple[int, int]:
    """(largest window of ``WINDOW_PIXELS`` whose run fits ``available``, or the smallest;
    that run's estimated peak)."""
    for max_window in WINDOW_PIXELS:
        need = peak_bytes(stack, info, scale, tile, factors, n_maps, max_window)
        if available is None or need <= available:
            break
    return max_window, need


def check_memory(
    stack: ImageStack,
    info: ModelInfo,
    scale: float | str,
    tile: int | str | None,
    factors: tuple[float, ...],
    n_maps: int,
    available: int | None = None,
) -> int:
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


@dataclass(frozen=True)
class RunPlan:
    """A run decided before anything loads (see :func:`plan_options`).

    ``options``: every option checked and in its one form: ``engine`` the :class:`Engine` that
    runs, ``scheme`` loaded, ``classes`` the model class indices to predict among (None: all),
    ``probability_classes`` the result's class indices whose maps are returned, ``tta_scales``
    without the main pass's 1.0, ``intensity_range`` the image's. ``layouts``: how each pass
    runs, the working size first, then one per extra test-time scale.
    """

    options: RunOptions
    info: ModelInfo
    stack: ImageStack
    work: tuple[int, int]
    layouts: tuple[PassLayout, ...]

    @property
    def engine(self) -> Engine:
        return Engine(self.options.engine)

    @property
    def scheme(self) -> LabelScheme | None:
        scheme = self.options.scheme
        assert scheme is None or isinstance(scheme, LabelScheme)  # loaded by the plan
        return scheme

    @property
    def passes(self) -> tuple[tuple[int, int], ...]:
        return tuple((lay.height, lay.width) for lay in self.layouts)


def plan_run(image: Any, model_name: str = DEFAULT_MODEL, **options: Any) -> RunPlan:
    """:func:`plan_options` with the options as keyword arguments (the public spelling)."""
    return plan_options(image, RunOptions.of(model_name, **options))


def plan_options(image: Any, given: RunOptions) -> RunPlan:
    """Check every option of a run (:class:`~.options.RunOptions`, built once by the caller:
    the API, the CLI, a dock, a batch) and plan it, loading nothing.

    Raises the package's errors (:class:`OptionError`, :class:`ImageError`,
    :class:`SchemeError`, :class:`InsufficientMemoryError`...) naming the argument and value.
    """
    options = given.checked()
    info = _model_of(options)
    stack = as_image_stack(image, given.rgb, given.intensity_range)
    if is_model_file(options.model_name):  # a learned model: its file holds its weights
        scale = _learned_scale(options, stack.plane_shape, info)
        options = replace(options, weights=options.model_name, scale=scale)
    scheme, subset, wanted = _label_space(options, info)
    scale, factors = options.scale, tuple(options.tta_scales)
    work = working_size(*stack.plane_shape, scale, info.base_size)
    passes = _pass_sizes(work, factors)
    _check_pass_sizes(stack.plane_shape, scale, passes, factors)
    max_window = WINDOW_PIXELS[0]
    if options.check_memory_first:
        max_window = check_memory(stack, info, scale, options.tile_size, factors, len(wanted))
    options = replace(
        options,
        engine=_check_engine(options.engine, info, options.weights),
        scheme=scheme,
        classes=subset,
        probability_classes=wanted,
        intensity_range=stack.intensity_range,
    )
    layouts = _layouts(passes, options.tile_size, info, max_window)
    return RunPlan(options, info, stack, work, layouts)


def _learned_scale(options: RunOptions, plane: tuple[int, int], info: ModelInfo) -> float | str:
    """A learned model's scale "auto" is the one it learned at, where its images' runs had one
    (its features were taken there: at another they differ, and it labels worse). Where that
    scale is no scale, or one this image cannot be run at (too small a working size), "auto"
    stays the model's own size: the run's notice says it differs from the learned one."""
    if options.scale != "auto":
        return options.scale
    at = read_learned(options.model_name).record.get("scale", "auto")
    if isinstance(at, list) or at == "auto":
        return "auto"
    try:
        value = float(check_scale(at, "scale"))
        factors = tuple(options.tta_scales)
        work = working_size(*plane, value, info.base_size)
        _check_pass_sizes(plane, value, _pass_sizes(work, factors), factors)
    except OptionError:
        return "auto"
    return value


def _model_of(options: RunOptions) -> ModelInfo:
    """The model's facts: a zoo model's, or a learned model's (its base's, with its classes)."""
    if not is_model_file(options.model_name):
        if options.weights is not None and is_learned_file(options.weights):
            raise OptionError(
                f"{options.weights} is a learned model with classes of its own: choose it as "
                f"the model (model_name={str(options.weights)!r}), with no weights."
            )
        return model_info(options.model_name)
    learned = read_learned(options.model_name)
    for name, value in (("weights", options.weights), ("scheme", options.scheme)):
        if value is not None:
            raise OptionError(
                f"{learned.path} is a learned model with its own weights and classes: give it "
                f"no {name} ({name}={checks.shown(value)})."
            )
    return learned.info


def _label_space(
    given: RunOptions, info: ModelInfo
) -> tuple[LabelScheme | None, tuple[int, ...] | None, tuple[int, ...]]:
    """(the scheme loaded, the model classes predicted among, the result classes whose
    probability maps are asked for)."""
    scheme, classes = given.scheme, given.classes
    if scheme is not None and not isinstance(scheme, LabelScheme):
        what = "a .yaml or .csv scheme file, a LabelScheme,"
        scheme_file = checks.optional_path(scheme, "scheme", what)
        assert scheme_file is not None  # scheme is not None here
        scheme = load_scheme(scheme_file, info)
    if scheme is not None and classes is not None:
        raise OptionError("Use either a class subset or a label scheme, not both.")
    index_of = scheme.index_of if scheme is not None else info.class_index
    wanted = tuple(sorted({index_of(c) for c in given.probability_classes}))
    return scheme, _check_subset(classes, wanted, info), wanted


def plan_estimate(plan: RunPlan) -> RunEstimate:
    """The planned run's forward passes (padded windows) and their expected time."""
    sizes = []
    for layout in plan.layouts:
        sizes += [padded_size(plan.info, wh, ww) for _, _, wh, ww in layout.windows]
    sizes *= plan.stack.n_planes * (2 if plan.options.flip else 1)
    return estimate_windows(
        plan.info.name, plan.engine, plan.stack.plane_shape, plan.work, sizes, plan.stack.n_planes
    )


def estimate_run(image: Any, model_name: str = DEFAULT_MODEL, **options: Any) -> RunEstimate:
    """Working size, forward passes, multiply-accumulates and expected seconds of
    :func:`~.segment.segment_image` with these options, loading nothing (the memory guard is
    not asked: an estimate of a run too large for this machine is still an answer)."""
    return plan_estimate(plan_run(image, model_name, **{**options, "check_memory_first": False}))


def _check_subset(
    classes: Iterable[str | int] | None, wanted: tuple[int, ...], info: ModelInfo
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
