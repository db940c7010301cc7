"""What a run does to a viewer's layers: write or update the result layers (labels, maps),
merge labels into a layer someone worked on by the edited-by-hand rule of :mod:`.overwrite_rule`,
and the layer metadata a run leaves.

Qt-free (no Qt or magicgui import): the widget is an adapter that passes the question to the user
as a callable and drives :func:`apply_steps` one small step per turn of the event loop. The rule
in one sentence: pixels a person may have set are only replaced after ``ask`` says OVERWRITE, and
every write into a labels layer is one undoable edit.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.edits.merge import Region, merge_changes
from ..core.run.result import SegmentationResult
from .data import (
    METADATA_KEY,
    data_digest,
    is_unedited_output,
    label_colormap,
    labels_layer_data,
    labels_layer_name,
    result_layer_data,
    spatial_shape,
    uncertainty_layer_data,
)

# export_layer, export_stem_of and layer_class_names (and the rule's names below) are still
# importable from here, as before the export, the plugin's layers and the edited-by-hand rule
# had modules of their own (the docks, _writer.py and tests import them so).
from .export import export_layer as export_layer
from .export import export_stem_of as export_stem_of
from .hand_edits import HAND_KEY, hand_tracker
from .kept_scores import SCORES_KEY, attach_scores
from .overwrite_rule import (
    AskEdited,
    EditedChoice,
    LayerWriteError,
    MergeMode,
    check_class_table,
    leaving_hand_set_pixels,
    pixels_at_risk,
    write_undoable,
)
from .plugin_layers import layer_class_names as layer_class_names
from .plugin_layers import plugin_labels_layer, plugin_layer, remember_name, retire_plugin_layer


@dataclass(frozen=True)
class ResultDestination:
    """Where a run's result goes: the image layer it was started on, the region of it, the
    labels layer to write into and how.

    ``region`` is slices of the image's spatial axes; ``target`` the user's labels layer to write
    into (None: the plugin's own layer for the image); ``whole`` whether the region is the image.
    """

    image: Any
    region: Region
    target: Any | None
    mode: MergeMode
    whole: bool
    uncertainty: tuple[str, ...] = ()

    def placement(self) -> dict[str, tuple[float, ...]]:
        """scale/translate that put layers of the region's size over the region."""
        scale = np.asarray(self.image.scale, float)
        starts = np.array([s.start for s in self.region], float)
        translate = np.asarray(self.image.translate, float) + starts * scale[-len(starts) :]
        return {"scale": tuple(scale), "translate": tuple(translate)}

    def image_placement(self) -> dict[str, tuple[float, ...]]:
        return {"scale": tuple(self.image.scale), "translate": tuple(self.image.translate)}


@dataclass(frozen=True)
class PreparedResult:
    """A result with its layer data built off the GUI thread (see :func:`prepare_result`)."""

    request: ResultDestination
    result: SegmentationResult
    labels: Any  # the plugin's labels layer (napari Labels): whole image, or blank + region
    maps: tuple[Any, ...]  # probability, confidence and margin layers (napari Image)


def prepare_result(request: ResultDestination, result: SegmentationResult) -> PreparedResult:
    """Everything :func:`apply_steps` needs that costs time (digests, class tables, colour maps,
    the margin map), computed in the worker so the GUI only hands data to layers."""
    name = request.image.name
    if request.whole:
        labels, *probs = result_layer_data(result, name, **request.image_placement())
    else:
        blank = np.zeros(spatial_shape(request.image), result.labels.dtype)
        meta = {"role": "labels", "source_image": name, "written_digest": data_digest(blank)}
        meta["provenance"] = result.provenance
        labels = labels_layer_data(
            blank,
            labels_layer_name(name),
            result.class_names,
            result.colors,
            meta,
            request.image_placement(),
        )
        probs = result_layer_data(result, name, **request.placement())[1:]
    maps = [*probs, *uncertainty_layer_data(result, name, request.uncertainty, request.placement())]
    labels[1]["colormap"] = _direct_colormap(labels[1]["colormap"])
    # The layers themselves (thumbnails, colour tables): the GUI only adds or updates.
    return PreparedResult(
        request, result, _create_layer(*labels), tuple(_create_layer(*m) for m in maps)
    )


def apply_steps(
    viewer: Any, prepared: PreparedResult, ask: AskEdited
) -> Generator[str, None, list[str]]:
    """Put a prepared result into ``viewer``, one small step per ``next()``.

    Yields a short description after each step and returns the names of the layers written;
    a write the user declines (``ask`` says CANCEL) ends the steps with nothing written ([]).
    """
    labels = yield from _write_labels(viewer, prepared, ask)
    if labels is None:
        return []
    written = [labels]
    for layer in prepared.maps:
        written.append((yield from _set_or_add_map(viewer, layer)))
    # The labels are what the person works on next (the Correct dock follows the active
    # layer): a map added last had taken the selection.
    viewer.layers.selection.active = viewer.layers[labels]
    return written


def add_unshown(viewer: Any, layer: Any, take_selection: bool = True) -> Callable[[], None]:
    """Add ``layer`` hidden; returns what shows it, to call on a later turn of the event loop.

    napari's cost of a new 12 MP layer is half in adding it (its visuals: 60-135 ms) and half
    in its first draw (the texture upload: ~200 ms for float32), which comes with the add when
    both fall in one turn (240-260 ms); apart, neither stalls the GUI past 250 ms
    (``benchmarks/bench_responsiveness.py``). With ``take_selection`` False (a map), the
    selection stays where it was.
    """
    shown = layer.visible
    layer.visible = False
    selection = viewer.layers.selection
    selected, active = set(selection), selection.active
    viewer.add_layer(layer)
    if not take_selection and active is not None:  # napari selects what it adds
        selection.clear()
        selection.update(selected)
        selection.active = active

    def show() -> None:
        layer.visible = shown

    return show


def _set_or_add_map(viewer: Any, new: Any) -> Generator[str, None, str]:
    """Update the plugin's map layer named like ``new`` in place, or add ``new`` (hidden for a
    step); returns the name."""
    existing = plugin_layer(viewer, new.name, "image")
    if existing is None:
        show = add_unshown(viewer, new, take_selection=False)
        try:
            yield new.name
        finally:  # also when the steps are closed here (Cancel): no layer left hidden
            show()
    else:
        adopt_settings(existing, new)
        existing.data = new.data
    yield new.name
    return new.name


def adopt_settings(layer: Any, new: Any) -> None:
    """Give ``layer`` the placement, metadata, class table and colours of ``new``, setting only
    what differs (each change can make napari redraw the whole layer)."""
    layer.metadata = {**_kept_metadata(layer), **new.metadata}
    for key in ("scale", "translate", "contrast_limits"):
        if hasattr(new, key) and not np.array_equal(getattr(layer, key), getattr(new, key)):
            setattr(layer, key, getattr(new, key))
    if hasattr(new, "features") and not layer.features.equals(new.features):
        layer.features = new.features
    if _colormap_key(layer.colormap) != _colormap_key(new.colormap):
        layer.colormap = new.colormap


# -- the labels layer -----------------------------------------------------------------------------


def _write_labels(
    viewer: Any, prepared: PreparedResult, ask: AskEdited
) -> Generator[str, None, str | None]:
    """Generator: write the run's labels; returns the layer's name, or None if declined."""
    request, result = prepared.request, prepared.result
    own = request.target is None
    target = plugin_labels_layer(viewer, request.image) if own else request.target
    if target is None:  # nothing to protect: the plugin's layer, new
        layer = yield from _add_labels(viewer, prepared)
        if request.whole:
            return layer.name
        target = layer
    # The plugin's own layer takes a whole-image result as it is, class table included; a region
    # or a chosen layer takes the merge mode the user picked, into labels that mean the same.
    replace = own and request.whole
    if not replace:
        check_class_table(target, result.class_names)
    mode = MergeMode.OVERWRITE if replace else request.mode
    old = np.asarray(target.data)
    if request.whole and own and old.shape != result.labels.shape:
        raise LayerWriteError(
            f"'{target.name}' has shape {old.shape} but the result {result.labels.shape}; "
            "remove or rename that layer to get a new one."
        )
    try:
        indices, values = merge_changes(old, result.labels, request.region, mode.value)
    except ValueError as exc:
        raise LayerWriteError(f"Cannot write into '{target.name}': {exc}") from exc
    at_risk = pixels_at_risk(target, old, indices)
    if at_risk:
        choice = ask(target.name, at_risk)
        if choice is EditedChoice.CANCEL:
            return None
        if choice is EditedChoice.KEEP_HAND_SET:
            indices, values = leaving_hand_set_pixels(target, indices, values)
        if choice is EditedChoice.NEW_LAYER:
            retire_plugin_layer(target)
            layer = yield from _add_labels(viewer, prepared)
            if request.whole:
                return layer.name
            target, old = layer, np.asarray(layer.data)
            indices, values = merge_changes(old, result.labels, request.region, mode.value)
    was_unedited_output = is_unedited_output(target)
    tracker = hand_tracker(target, create=False)
    with tracker.tool(None) if tracker is not None else nullcontext():  # a run, not a hand
        yield from write_undoable(target, indices, values)
    if replace:
        adopt_settings(target, prepared.labels)
    else:
        _record_merge(target, prepared, mode, was_unedited_output)
    attach_scores(target, result.scores, tuple(s.start for s in request.region))
    if own:
        remember_name(target)
    yield f"{target.name}: {len(values)} pixels written"
    return target.name


def _add_labels(viewer: Any, prepared: PreparedResult) -> Generator[str, None, Any]:
    """Add the plugin's labels layer (shown a step later: :func:`add_unshown`), tracking hand
    edits from its first pixel on."""
    layer = prepared.labels
    show = add_unshown(viewer, layer)
    try:
        remember_name(layer)
        result, region = prepared.result, prepared.request.region
        hand_tracker(layer)
        attach_scores(layer, result.scores, tuple(s.start for s in region))
        yield layer.name
    finally:  # also when the steps are closed here (Cancel): no layer left hidden
        show()
    yield layer.name
    return layer


def _record_merge(
    target: Any, prepared: PreparedResult, mode: MergeMode, was_unedited: bool
) -> None:
    request, result = prepared.request, prepared.result
    meta = dict(target.metadata.get(METADATA_KEY, {}))
    meta.setdefault("role", "merged into")  # a layer of the user's stays theirs
    region = [[s.start, s.stop] for s in request.region]
    meta["provenance"] = {**result.provenance, "region": region}
    meta["merge_mode"] = mode.value
    if was_unedited:  # only a layer holding nothing but our output counts as unedited after
        meta["written_digest"] = data_digest(np.asarray(target.data))
    target.metadata = {**target.metadata, METADATA_KEY: meta}
    if "class_name" not in target.features:  # the user's layer learns what the values mean
        target.features = prepared.labels.features
        target.colormap = _colormap_keeping(target, result.colors)


def _kept_metadata(layer: Any) -> dict[str, Any]:
    """What of a layer's metadata outlives a run's update: its hand edits and kept scores."""
    return {k: v for k, v in layer.metadata.items() if k in (HAND_KEY, SCORES_KEY)}


# -- helpers --------------------------------------------------------------------------------------


def _create_layer(data: Any, kwargs: dict[str, Any], layer_type: str) -> Any:
    from napari.layers import Layer

    return Layer.create(data, kwargs, layer_type)


def _colormap_key(colormap: Any) -> Any:
    """What makes two colormaps equal: the colour table of a labels colormap, else the name."""
    table = getattr(colormap, "color_dict", None)
    if table is None:
        return getattr(colormap, "name", colormap)
    return tuple((k, tuple(np.round(np.asarray(v, float), 6))) for k, v in table.items())


def _direct_colormap(color_dict: dict) -> Any:
    """napari's colormap object for a label -> RGBA dict, built once (not in the GUI thread)."""
    from napari.utils.colormaps import DirectLabelColormap

    return DirectLabelColormap(color_dict=color_dict)


def _colormap_keeping(layer: Any, colors: Sequence[Sequence[int]]) -> Any:
    """The run's palette for the values it names; other values present keep their colours."""
    cmap = label_colormap(colors)
    present = np.unique(np.asarray(layer.data))
    for value in present[present > len(colors)]:
        cmap[int(value)] = tuple(float(c) for c in layer.colormap.map(int(value)))
    return _direct_colormap(cmap)
