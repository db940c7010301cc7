"""Carrying out a planned run (:class:`~.plan.RunPlan`): load, infer each plane, assemble.

Two ways through a plane: GluonCV's windows at full resolution without extra scales stream their
finished rows straight into the outputs (:func:`_iter_streamed_plane`); every other run gathers
each pass's probabilities on the main pass's grid and upsamples them once
(:func:`_iter_gathered_plane`). Each pass covers its working image as its layout says: whole,
grid windows or GluonCV's windows (:mod:`.layout`).
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import WeightsError
from ..events import Progress, Stage
from ..models.engines import Network, NetworkRequest, iter_load_network
from ..models.engines.mxnet import native_size
from ..models.padding import iter_load_sized
from ..models.scheme import group_probabilities
from ..models.weights import ResolvedWeights, iter_resolve_weights
from ..provenance import MODEL, WEIGHTS, WEIGHTS_SHA1, WEIGHTS_SOURCE
from .large_windows import iter_grid_logits
from .layout import Coverage, PassLayout
from .plan import RunPlan, plan_estimate
from .postprocess import (
    PlaneOutputs,
    iter_write_upsampled,
    label_dtype,
    softmax_rows,
    strip_rows,
    write_rows,
)
from .preprocess import normalize_inplace
from .resize import resize_rows
from .result import SegmentationResult
from .scores import ScoreGrid, grid_positions, sample_grid_rows
from .tiling import EmitRows, iter_tiled_logits

Forward = Callable[[np.ndarray], np.ndarray]
# Progress events a plane's full-resolution outputs give at most (minutes at 1.6 GP).
POSTPROCESS_EVENTS = 100


@dataclass(frozen=True)
class LabelSpace:
    """The result's classes: the model's, a subset of them, or a scheme's labels.

    ``class_ids``: per row of the scores after the run, the result's class index (-1: the
    scheme's unmapped group, label 0); ``subset``: the model classes kept (rows of the logits);
    ``groups``: the model classes each scheme label sums.
    """

    names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    class_ids: np.ndarray
    subset: list[int] | None = None
    groups: list[np.ndarray] | None = None

    @classmethod
    def of(cls, plan: RunPlan) -> LabelSpace:
        info, scheme = plan.info, plan.scheme
        if scheme is not None:
            groups = scheme.groups(info.num_classes)
            return cls(scheme.class_names, scheme.colors, scheme.row_ids(), groups=groups)
        if plan.options.classes is not None:
            subset = [int(k) for k in plan.options.classes]  # indices: the plan's form
            return cls(info.class_names, info.colors, np.array(subset), subset=subset)
        return cls(info.class_names, info.colors, np.arange(info.num_classes))

    @property
    def maps_rows(self) -> bool:
        """Whether score rows are not simply the model's classes."""
        return self.subset is not None or self.groups is not None

    def reduce(
        self, probs: np.ndarray, rank: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Model-class probabilities (and logits to rank by) to this space's rows."""
        if self.subset is not None:
            kept = probs[self.subset]
            kept /= np.maximum(kept.sum(axis=0, keepdims=True), np.float32(1e-30))
            return kept, None if rank is None else rank[self.subset]
        if self.groups is not None:
            return group_probabilities(probs, self.groups), None
        return probs, rank


class _WindowProgress:
    """Progress over every window of every plane; each message names the step running next."""

    def __init__(self, plan: RunPlan, seconds: float) -> None:
        self.n_planes = plan.stack.n_planes
        self.per_plane = sum(len(layout.windows) for layout in plan.layouts)
        self.total = self.n_planes * self.per_plane
        self.done = 0
        self._each_s = seconds / max(self.total, 1)  # the estimate's, a window with its flip

    def event(self) -> Progress:
        running = self._running(self.done)
        expected = self._each_s if self.done < self.total else None
        return Progress(Stage.INFER, self.done, self.total, running, expected_s=expected)

    def step(self) -> Progress:
        self.done += 1
        return self.event()

    def _running(self, k: int) -> str:
        if k == self.total:
            return "finishing"
        plane, window = divmod(k, self.per_plane)
        where = f"plane {plane + 1}/{self.n_planes}" if self.n_planes > 1 else "image"
        if self.per_plane > 1:
            where += f", window {window + 1}/{self.per_plane}"
        return f"segmenting {where}"


def iter_run(plan: RunPlan) -> Generator[Progress, None, SegmentationResult]:
    """The run ``plan`` describes, as progress events; returns the result."""
    estimate = plan_estimate(plan)
    if estimate.long:
        yield Progress(Stage.PLAN, 1, 1, estimate.message, notice=True)
    resolved = yield from iter_resolve_weights(plan.info.name, plan.options.weights)
    networks = yield from _iter_networks(plan, resolved)
    space = LabelSpace.of(plan)
    shape = plan.stack.spatial_shape
    labels = np.zeros(shape, label_dtype(len(space.names)))
    confidence = np.zeros(shape, np.float32)
    probs = {int(k): np.zeros(shape, np.float32) for k in plan.options.probability_classes}
    grid = (len(space.class_ids), *native_size(*plan.work))  # every plane's kept scores
    kept = np.zeros((plan.stack.n_planes, *grid), np.float16)
    windows = _WindowProgress(plan, estimate.seconds)
    yield windows.event()

    def forward(layout: PassLayout) -> Forward:
        logits = _checked_logits(networks[layout.network_key].logits, resolved.path, plan)
        return _flip_averaged(logits) if plan.options.flip else logits

    for i in range(plan.stack.n_planes):
        index = plan.stack.plane_index(i)
        out = PlaneOutputs(
            labels[index],
            confidence[index],
            {k: p[index] for k, p in probs.items()},
            class_ids=space.class_ids if space.maps_rows else None,
            min_confidence=plan.options.min_confidence,
        )
        plane = _iter_streamed_plane if _streams(plan) else _iter_gathered_plane
        yield from plane(plan, i, out, kept[i], space, forward, windows.step)
        yield Progress(Stage.POSTPROCESS, i + 1, plan.stack.n_planes, "labels and probabilities")
    return SegmentationResult(
        labels=labels,
        probabilities={space.names[k]: p for k, p in probs.items()},
        confidence=confidence,
        class_names=space.names,
        colors=space.colors,
        scores=ScoreGrid(
            kept, plan.stack.leading_shape, plan.stack.plane_shape, tuple(map(int, space.class_ids))
        ),
        provenance=_provenance(plan, resolved, networks),
    )


def _streams(plan: RunPlan) -> bool:
    """GluonCV's windows at the image's own size, one pass: rows go straight to the outputs."""
    main = plan.layouts[0]
    return (
        plan.work == plan.stack.plane_shape
        and len(plan.layouts) == 1
        and main.coverage is Coverage.TILES
    )


def _iter_networks(
    plan: RunPlan, resolved: ResolvedWeights
) -> Generator[Progress, None, dict[tuple[int, int, bool], Network]]:
    """One network per (window size, native) the passes need, loaded (or from the cache)."""
    keys = sorted({layout.network_key for layout in plan.layouts})
    load = partial(iter_load_network, plan.engine)
    networks: dict[tuple[int, int, bool], Network] = {}
    for n, key in enumerate(keys):
        message = f"loading {plan.options.model_name} for {key[0]}x{key[1]}"
        yield Progress(Stage.LOAD, n, len(keys), message)
        request = NetworkRequest(plan.info.name, resolved, *key, plan.options.threads)
        networks[key] = yield from iter_load_sized(load, request)
    yield Progress(Stage.LOAD, len(keys), len(keys), f"loaded {plan.options.model_name}")
    return networks


def _iter_streamed_plane(
    plan: RunPlan,
    i: int,
    out: PlaneOutputs,
    kept: np.ndarray,
    space: LabelSpace,
    forward: Callable[[PassLayout], Forward],
    step: Callable[[], Progress],
) -> Generator[Progress, None, None]:
    layout = plan.layouts[0]
    assert layout.tile is not None and layout.stride is not None  # a TILES pass
    x = normalize_inplace(plan.stack.plane_chw01(i, layout.height, layout.width))
    emit = _emit_outputs(out, kept, plan.stack.plane_shape, space)
    yield from iter_tiled_logits(forward(layout), x, layout.tile, layout.stride, step, emit)


def _iter_gathered_plane(
    plan: RunPlan,
    i: int,
    out: PlaneOutputs,
    kept: np.ndarray,
    space: LabelSpace,
    forward: Callable[[PassLayout], Forward],
    step: Callable[[], Progress],
) -> Generator[Progress, None, None]:
    """Every pass's probabilities averaged on the main pass's grid, then upsampled once."""
    grid = rank = None
    for layout in plan.layouts:
        probs, logits = yield from _iter_pass(plan, i, layout, forward(layout), step)
        if grid is None:
            grid = probs
            # The reference ranks classes by their upsampled logits (one pass only).
            rank = logits if len(plan.layouts) == 1 else None
        else:
            _add_resized(grid, probs)
        del probs, logits
    assert grid is not None  # a plan has at least its main pass
    if len(plan.layouts) > 1:
        grid /= len(plan.layouts)
    grid, rank = space.reduce(grid, rank)
    rows, planes = plan.stack.plane_shape[0], plan.stack.n_planes
    told = 0
    for done in iter_write_upsampled(grid, out, rank=rank):
        if done - told >= rows / POSTPROCESS_EVENTS or done == rows:
            told = done
            message = f"labels and probabilities: {done} of {rows} rows"
            yield Progress(Stage.POSTPROCESS, i * rows + done, planes * rows, message)
    # At most the stride-8 grid of the working size: a tiled pass's grid is its whole image.
    kept[:] = _coarse_grid(grid, kept.shape[1:])


def _iter_pass(
    plan: RunPlan, i: int, layout: PassLayout, forward: Forward, step: Callable[[], Progress]
) -> Generator[Progress, None, tuple[np.ndarray, np.ndarray | None]]:
    """One pass over plane ``i``: (probabilities, logits or None) on the pass's grid."""
    x = normalize_inplace(plan.stack.plane_chw01(i, layout.height, layout.width))
    if layout.coverage is Coverage.TILES:
        assert layout.tile is not None and layout.stride is not None
        probs = np.zeros((plan.info.num_classes, layout.height, layout.width), np.float32)
        emit = _emit_scores(probs)
        yield from iter_tiled_logits(forward, x, layout.tile, layout.stride, step, emit)
        return probs, None
    if layout.coverage is Coverage.GRID:
        assert layout.grid is not None
        logits = yield from iter_grid_logits(forward, x, layout.grid, step)
    else:
        logits = forward(x)[0]
        yield step()
    return softmax_rows(logits), logits


def _checked_logits(forward: Forward, weights: Path, plan: RunPlan) -> Forward:
    """``forward`` refusing logits of another class count (an ONNX file whose metadata names
    another network than it holds) or NaN or infinite ones: corrupt weights would otherwise
    label every pixel with the first class (argmax of NaN) or fail deep in the upsampling."""
    expected = plan.info.num_classes

    def checked(x: np.ndarray) -> np.ndarray:
        logits = forward(x)
        if logits.shape[1] != expected:
            raise WeightsError(
                f"{weights} gives {logits.shape[1]} classes where {plan.options.model_name} has "
                f"{expected}: it holds another network than its metadata says. Export it "
                "again (napari-gluonseg export-onnx), or choose its model."
            )
        # One pass, no temporary: any NaN or inf makes the float64 sum non-finite.
        if not np.isfinite(logits.sum(dtype=np.float64)):
            raise WeightsError(
                f"The network produced NaN or infinite scores with weights {weights}: the file "
                f"is corrupt or not trained for {plan.options.model_name}. Nothing was labelled."
            )
        return logits

    return checked


def _flip_averaged(forward: Forward) -> Forward:
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


def _add_resized(grid: np.ndarray, probs: np.ndarray) -> None:
    """``grid += resize(probs)`` one strip of rows at a time (no full-size temporaries)."""
    c, h, w = grid.shape
    step = strip_rows(c, w)
    for r0 in range(0, h, step):
        r1 = min(h, r0 + step)
        grid[:, r0:r1] += resize_rows(probs, h, w, r0, r1)


def _coarse_grid(grid: np.ndarray, most: tuple[int, ...]) -> np.ndarray:
    """``grid`` (C, h, w) sampled down to at most ``most`` points per axis, corners kept."""
    _, h, w = grid.shape
    if h <= most[0] and w <= most[1]:
        return grid
    gh, gw = min(h, most[0]), min(w, most[1])
    return grid[:, grid_positions(h, gh)][:, :, grid_positions(w, gw)]


def _emit_outputs(
    out: PlaneOutputs, kept: np.ndarray, image_shape: tuple[int, int], space: LabelSpace
) -> EmitRows:
    """Finished full-resolution rows of logits -> labels, confidence, probability maps, and the
    rows of the stride-8 grid ``kept`` (C, gh, gw) that fall on them. With a subset of classes,
    the softmax over their logits is their renormalized probability."""
    _, grid_h, grid_w = kept.shape

    def emit(row0: int, logits: np.ndarray) -> None:
        # In place: at 12 MP a band of logits is ~0.8 GB; a subset is a (smaller) copy anyway.
        if space.subset is None:
            probs = softmax_rows(logits, out=logits)
        else:
            probs = softmax_rows(logits[space.subset])
        if space.groups is not None:
            probs = group_probabilities(probs, space.groups)
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


def _provenance(
    plan: RunPlan, resolved: ResolvedWeights, networks: dict[Any, Network]
) -> dict[str, Any]:
    """What the result came from: model, weights, settings, engine and versions."""
    info, scheme, stack = plan.info, plan.scheme, plan.stack
    subset, factors = plan.options.classes, tuple(plan.options.tta_scales)
    network = next(iter(networks.values()))
    return {
        MODEL: plan.options.model_name,
        "dataset": info.dataset,
        WEIGHTS: str(resolved.path),
        WEIGHTS_SOURCE: resolved.source,
        WEIGHTS_SHA1: resolved.sha1,
        "scale": plan.options.scale,
        "working_size": list(plan.work),
        **plan.layouts[0].provenance(),
        "flip": plan.options.flip,
        "tta_scales": [1.0, *factors] if factors else None,
        "engine": plan.engine.value,  # a plain string: the record is written as JSON
        "threads": plan.options.threads,
        "providers": network.providers,
        "model_file": str(network.model_file),
        "classes": None if subset is None else [info.class_names[int(k)] for k in subset],
        "label_scheme": None if scheme is None else {"name": scheme.name, "file": scheme.source},
        "min_confidence": plan.options.min_confidence,
        "intensity_range": None if stack.intensity_range is None else list(stack.intensity_range),
        "versions": _versions(),
    }


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("napari-gluonseg", "mxnet", "gluoncv", "numpy", "onnxruntime", "napari"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out
