"""The dock widget: pick an image layer and a model, run, get labels and probability layers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    ProgressBar,
    PushButton,
)
from napari.layers import Image, Labels, Layer
from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils.notifications import show_error, show_warning

from ..core.events import Progress
from ..core.export import write_labels
from ..core.merge import merge_changes
from ..core.registry import DEFAULT_MODEL, model_info, model_names, short_class_name
from ..core.result import SegmentationResult
from ..core.scheme import load_scheme
from ..core.segment import ENGINES, iter_segment_image
from ..layer_data import (
    METADATA_KEY,
    data_digest,
    labels_layer_data,
    labels_layer_name,
    probability_layer_data,
    probability_layer_name,
    result_layer_data,
    uncertainty_layer_data,
)
from . import dialogs
from .class_picker import ClassPicker
from .regions import REGIONS, WHOLE, image_region, spatial_shape

if TYPE_CHECKING:
    import napari

MERGE_MODES = {"fill unlabeled pixels only": "fill_unlabeled", "overwrite the region": "overwrite"}
RESOLUTIONS = {"auto (model size)": "auto", "full (image size, tiled)": 1.0}
AUGMENTATIONS = {
    "none": {},
    "flip": {"flip": True},
    "flip + scales 0.75, 1.25": {"flip": True, "tta_scales": (0.75, 1.25)},
}

# Progress bar share of each stage, so the bar only moves forward.
_STAGE_SPAN = {"weights": (0, 10), "load": (10, 20), "infer": (20, 95), "postprocess": (95, 100)}


class SegmentWidget(Container):
    """Segment an image layer with a GluonCV model; results become napari layers.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer whose layers are read and written.
    """

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self._viewer = viewer
        self._image = ComboBox(
            label="image",
            choices=self._image_layer_choices,
            nullable=True,
            tooltip="The image layer to segment (the active image layer by default)",
        )
        self._model = ComboBox(
            label="model",
            choices=model_names(),
            value=DEFAULT_MODEL,
            tooltip="GluonCV model; the suffix is its training set (ade = ADE20K, 150 classes)",
        )
        self._weights = FileEdit(
            label="weights file",
            mode="r",
            filter="*.params",
            nullable=True,
            tooltip="Empty: the model zoo's pretrained weights (downloaded once into "
            "$MXNET_HOME/models). Or a .params file of the chosen model.",
        )
        self._engine = ComboBox(
            label="engine",
            choices=["auto", *ENGINES],
            value="auto",
            tooltip="auto: onnxruntime when installed (~2.6x faster on CPU; exported once per "
            "model and image size), else MXNet",
        )
        self._resolution = ComboBox(
            label="resolution",
            choices=list(RESOLUTIONS),
            value=next(iter(RESOLUTIONS)),
            tooltip="auto: the network sees the image at the model's own size (fast, bounded "
            "memory); outputs always have the image's full size. full: every pixel, tiled.",
        )
        self._augment = ComboBox(
            label="augment",
            choices=list(AUGMENTATIONS),
            value=next(iter(AUGMENTATIONS)),
            tooltip="Test-time augmentation: probabilities averaged over mirrored and rescaled "
            "passes (steadier, 2-6x slower)",
        )
        self._scheme = FileEdit(
            label="label scheme",
            mode="r",
            filter="*.yaml *.yml *.csv",
            nullable=True,
            tooltip="Your own labels as groups of the model's classes (YAML or CSV; examples "
            "in napari_gluonseg/schemes). Empty: the model's classes.",
        )
        self._classes = ClassPicker(model_info(DEFAULT_MODEL).class_names)
        self._only_picked = CheckBox(
            text="predict only the picked classes",
            value=False,
            tooltip="Labels only among the picked classes, probabilities renormalized over them",
        )
        self._min_confidence = FloatSpinBox(
            label="min confidence",
            min=0.0,
            max=1.0,
            step=0.05,
            value=0.0,
            tooltip="Pixels whose top probability is below this stay unlabeled (0), to label "
            "by hand",
        )
        self._show_confidence = CheckBox(text="confidence layer", value=False)
        self._show_margin = CheckBox(
            text="margin layer",
            value=False,
            tooltip="Top probability minus the runner-up's: dark where the model hesitates",
        )
        self._region = ComboBox(
            label="region",
            choices=list(REGIONS),
            value=WHOLE,
            tooltip="What to segment: the whole image, the current slice of a stack, what the "
            "canvas shows, or the bounding box of the selected (else last) shape of a Shapes "
            "layer. Nothing outside it changes.",
        )
        self._target = ComboBox(
            label="write into",
            choices=self._target_choices,
            tooltip="A new labels layer (you are asked before hand edits are replaced), or one "
            "of your labels layers",
        )
        self._merge = ComboBox(
            label="merge",
            choices=list(MERGE_MODES),
            value=next(iter(MERGE_MODES)),
            tooltip="Writing into labels you have worked on: fill only the pixels that are "
            "still 0, or replace the region (undo with Ctrl+Z)",
        )
        self._export_format = ComboBox(
            label="export as",
            choices=["png", "tif"],
            value="png",
            tooltip="png: 8 or 16 bit as the values need (2D); tif: any stack. Always with the "
            "class table (CSV) and the provenance (JSON).",
        )
        self._export = PushButton(text="Export labels...")
        self._probe = Label(value="")
        self._probe.native.setWordWrap(True)
        self._run = PushButton(text="Run")
        self._cancel = PushButton(text="Cancel", enabled=False)
        self._progress = ProgressBar(min=0, max=100, value=0, label="progress")
        self._status = Label(value="")
        self._status.native.setWordWrap(True)  # long error/weights notes must not widen the dock
        super().__init__(
            widgets=[
                self._image,
                self._model,
                self._weights,
                self._engine,
                self._resolution,
                self._augment,
                self._scheme,
                self._classes,
                self._only_picked,
                self._min_confidence,
                self._region,
                self._target,
                self._merge,
                Container(
                    widgets=[self._show_confidence, self._show_margin],
                    layout="horizontal",
                    labels=False,
                ),
                Container(widgets=[self._run, self._cancel], layout="horizontal", labels=False),
                Container(
                    widgets=[self._export_format, self._export], layout="horizontal", labels=False
                ),
                self._progress,
                self._status,
                self._probe,
            ],
            labels=True,
        )
        self._worker: GeneratorWorker | None = None
        self._closed = False
        # The last result and its image: answers probability and probe questions without a run.
        self._last: _LastRun | None = None
        self._classes.on_chosen.append(self._on_classes_chosen)
        viewer.cursor.events.position.connect(self._on_cursor)
        self._model.changed.connect(self._on_model_changed)
        self._scheme.changed.connect(self._on_model_changed)
        self._run.changed.connect(self._on_run_clicked)
        self._cancel.changed.connect(self._on_cancel_clicked)
        self._export.changed.connect(self._on_export_clicked)
        self._layer_events = (
            viewer.layers.events.inserted,
            viewer.layers.events.removed,
            viewer.layers.events.reordered,
            viewer.layers.selection.events.active,
        )
        for event in self._layer_events:
            event.connect(self._on_layers_changed)
        self.native.destroyed.connect(self._on_destroyed)
        self._on_layers_changed()

    # -- layer choice -------------------------------------------------------------------------

    def _image_layer_choices(self, _widget: Any = None) -> list[tuple[str, Image]]:
        # Our own probability maps are images too, but segmenting them makes no sense.
        return [
            (layer.name, layer)
            for layer in self._viewer.layers
            if isinstance(layer, Image) and METADATA_KEY not in layer.metadata
        ]

    def _target_choices(self, _widget: Any = None) -> list[tuple[str, Labels | None]]:
        layers = [(layer.name, layer) for layer in self._viewer.layers if isinstance(layer, Labels)]
        return [(NEW_LAYER, None), *layers]

    def _on_layers_changed(self, _event: Any = None) -> None:
        self._target.reset_choices()
        previous = self._image.value
        self._image.reset_choices()
        choices = self._image.choices
        active = self._viewer.layers.selection.active
        # Follow the active image layer; otherwise (e.g. our own output just became active)
        # keep the image that was picked.
        for candidate in (active, previous, *choices):
            if candidate is not None and candidate in choices:
                self._image.value = candidate
                return

    def _on_model_changed(self, _value: Any = None) -> None:
        """The picker lists the labels the run will make: the scheme's, else the model's."""
        info = model_info(self._model.value)
        names = info.class_names
        if self._scheme.value is not None:
            try:
                scheme = load_scheme(self._scheme.value, info)
            except ValueError as exc:
                show_error(str(exc))
                self._scheme.value = None
                return
            names = tuple(lab.name for lab in scheme.labels)
        self._classes.set_class_names(names)

    # -- running --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None

    def _on_run_clicked(self, _value: Any = None) -> None:
        if self.running:
            return
        layer = self._image.value
        if not isinstance(layer, Image):
            show_error("Choose an image layer to segment (labels and other layers cannot be).")
            return
        target = self._target.value
        if self._only_picked.value and self._scheme.value is not None:
            show_error("'predict only the picked classes' and a label scheme exclude each other.")
            return
        if self._only_picked.value and not self._classes.value:
            show_error("Pick at least one class to predict among (or untick the option).")
            return
        try:
            region = image_region(self._viewer, layer, self._region.value)
            if target is not None and tuple(target.data.shape) != spatial_shape(layer):
                raise ValueError(
                    f"'{target.name}' has shape {tuple(target.data.shape)} but '{layer.name}' "
                    f"has {spatial_shape(layer)}: choose labels of the image's shape."
                )
        except ValueError as exc:
            show_error(str(exc))
            return
        data = layer.data
        whole = region == tuple(slice(0, n) for n in spatial_shape(layer))
        crop = data if whole else data[region + ((slice(None),) if layer.rgb else ())]
        run = _LastRun(layer, None, region, target, MERGE_MODES[self._merge.value], whole)
        # Passing "errored" here also stops superqt from re-raising the error in the GUI thread.
        self._worker = create_worker(
            iter_segment_image,
            crop,
            self._model.value,
            weights=self._weights.value,
            engine=self._engine.value,
            scale=RESOLUTIONS[self._resolution.value],
            **AUGMENTATIONS[self._augment.value],
            rgb=layer.rgb,
            probability_classes=self._classes.value,
            classes=self._classes.value if self._only_picked.value else None,
            min_confidence=float(self._min_confidence.value),
            scheme=self._scheme.value,
            _start_thread=False,
            _connect={
                "yielded": self._on_progress,
                "returned": lambda result: self._on_result(run, data, result),
                "errored": self._on_error,
                "aborted": self._on_aborted,
                "finished": self._on_finished,
            },
        )
        self._run.enabled = False
        self._cancel.enabled = True
        self._progress.value = 0
        self._status.value = f"segmenting {layer.name}..."
        self._worker.start()

    def _on_cancel_clicked(self, _value: Any = None) -> None:
        if self._worker is not None:
            self._status.value = "cancelling after the current step..."
            self._worker.quit()

    def _on_progress(self, event: Progress) -> None:
        if self._closed:
            return
        lo, hi = _STAGE_SPAN.get(event.stage, (0, 100))
        self._progress.value = int(lo + (hi - lo) * min(event.fraction, 1.0))
        self._status.value = event.message

    def _on_error(self, exc: Exception) -> None:
        if self._closed:
            return
        self._status.value = "failed"
        show_error(str(exc))

    def _on_aborted(self) -> None:
        if self._closed:
            return
        self._status.value = "cancelled"
        self._progress.value = 0

    def _on_finished(self) -> None:
        self._worker = None
        if self._closed:
            return
        self._run.enabled = True
        self._cancel.enabled = False

    def _on_destroyed(self, *_args: Any) -> None:
        # The worker may still report; its callbacks must not touch the deleted Qt widgets.
        self._closed = True
        for event in self._layer_events:
            event.disconnect(self._on_layers_changed)
        self._viewer.cursor.events.position.disconnect(self._on_cursor)
        if self._worker is not None:
            self._worker.quit()

    # -- results --------------------------------------------------------------------------------

    def _on_result(self, run: _LastRun, data: Any, result: SegmentationResult) -> None:
        if self._closed:
            return
        # The result belongs to the layer and data it was computed from, whatever is active now.
        layer = run.image
        if layer.data is not data:
            show_warning(
                f"'{layer.name}' changed while it was segmented; the result shows the data "
                "as it was when Run was pressed."
            )
        run.result = result
        if run.whole and run.target is None:
            added = self.apply_result(layer, result)
        else:
            added = self.merge_result(run)
        self._last = run
        self._progress.value = 100
        done = f"done: {', '.join(added)}" if added else "result discarded"
        self._status.value = f"{done}\n{weights_note(result.provenance)}"

    def apply_result(self, image: Image, result: SegmentationResult) -> list[str]:
        """Put ``result`` into the viewer as layers next to ``image``; return their names.

        Layers this plugin made before are updated in place; a labels layer edited by hand is
        only overwritten if the user says so.
        """
        names = []
        placement = {"scale": tuple(image.scale), "translate": tuple(image.translate)}
        tuples = result_layer_data(result, image.name, **placement)
        tuples += uncertainty_layer_data(result, image.name, self._uncertainty_kinds(), placement)
        for data, kwargs, layer_type in tuples:
            existing = self._plugin_layer(kwargs["name"], layer_type)
            if existing is not None and layer_type == "labels" and _edited_by_hand(existing):
                choice = dialogs.ask_about_edited_labels(self.native, existing.name)
                if choice is dialogs.EditedLayerChoice.CANCEL:
                    return names
                if choice is dialogs.EditedLayerChoice.NEW_LAYER:
                    existing = None  # napari makes the name unique ("dog classes [1]")
            if existing is None:
                new = Layer.create(data, kwargs, layer_type)
                self._viewer.add_layer(new)
                names.append(new.name)
            else:
                _update_layer(existing, data, kwargs)
                names.append(existing.name)
        return names

    def merge_result(self, run: _LastRun) -> list[str]:
        """Merge a region's labels into the chosen labels layer (or the plugin's own, made if
        missing) as one undoable edit; pixels outside the region never change, and in
        fill-unlabeled mode no non-zero pixel does either."""
        image, result = run.image, run.result
        target = run.target
        if target is None:
            target = self._plugin_layer(labels_layer_name(image.name), "labels")
        if target is None:
            placement = {"scale": tuple(image.scale), "translate": tuple(image.translate)}
            meta = {"role": "labels", "source_image": image.name, "provenance": result.provenance}
            blank = np.zeros(spatial_shape(image), result.labels.dtype)
            meta["written_digest"] = data_digest(blank)
            data, kwargs, layer_type = labels_layer_data(
                blank,
                labels_layer_name(image.name),
                result.class_names,
                result.colors,
                meta,
                placement,
            )
            target = Layer.create(data, kwargs, layer_type)
            self._viewer.add_layer(target)
        theirs = _layer_class_names(target, 0) if "class_name" in target.features else []
        if theirs and theirs != list(result.class_names[: len(theirs)]):
            show_error(
                f"'{target.name}' labels other classes (e.g. 1 = {theirs[0]!r}) than this run "
                f"(1 = {result.class_names[0]!r}); choose the same model or scheme, or another "
                "layer."
            )
            return []
        was_ours_unedited = METADATA_KEY in target.metadata and not _edited_by_hand(target)
        try:
            indices, values = merge_changes(
                np.asarray(target.data), result.labels, run.region, run.mode
            )
        except ValueError as exc:
            show_error(str(exc))
            return []
        with target.block_history():
            target.data_setitem(indices, values)
        meta = dict(target.metadata.get(METADATA_KEY, {}))
        meta.setdefault("role", "merged into")  # a layer of the user's stays theirs
        meta["provenance"] = {**result.provenance, "region": _region_text(run.region)}
        meta["merge_mode"] = run.mode
        # Only a layer holding nothing but our output counts as unedited afterwards.
        if was_ours_unedited:
            meta["written_digest"] = data_digest(np.asarray(target.data))
        target.metadata = {**target.metadata, METADATA_KEY: meta}
        return [f"{target.name} ({len(values)} pixels written)", *self._add_maps(run)]

    def _add_maps(self, run: _LastRun) -> list[str]:
        """The probability, confidence and margin layers of a region run, over the region."""
        image, result = run.image, run.result
        placement = run.placement()
        tuples = result_layer_data(result, image.name, **placement)[1:]
        tuples += uncertainty_layer_data(result, image.name, self._uncertainty_kinds(), placement)
        names = []
        for data, kwargs, layer_type in tuples:
            existing = self._plugin_layer(kwargs["name"], layer_type)
            if existing is None:
                existing = Layer.create(data, kwargs, layer_type)
                self._viewer.add_layer(existing)
            else:
                _update_layer(existing, data, kwargs)
            names.append(existing.name)
        return names

    def _uncertainty_kinds(self) -> list[str]:
        boxes = (("confidence", self._show_confidence), ("margin", self._show_margin))
        return [kind for kind, box in boxes if box.value]

    # -- export ----------------------------------------------------------------------------------

    def _labels_to_export(self) -> Labels | None:
        if self._target.value is not None:
            return self._target.value
        image = self._image.value
        if image is None:
            return None
        return self._plugin_layer(labels_layer_name(image.name), "labels")

    def _on_export_clicked(self, _value: Any = None) -> None:
        layer = self._labels_to_export()
        if layer is None:
            show_error("Nothing to export: run first, or choose a labels layer in 'write into'.")
            return
        folder = dialogs.ask_export_folder(self.native)
        if folder is not None:
            self.export_labels(layer, folder)

    def export_labels(self, layer: Labels, folder: str | Path) -> dict[str, Path]:
        """Write ``layer`` as it is now (hand corrections included) for training."""
        data = np.asarray(layer.data)
        names = _layer_class_names(layer, int(data.max(initial=0)))
        colors = [
            tuple(int(c * 255 + 0.5) for c in layer.colormap.map(k + 1)[:3])
            for k in range(len(names))
        ]
        meta = layer.metadata.get(METADATA_KEY, {})
        provenance = {
            **meta.get("provenance", {}),
            "exported_layer": layer.name,
            "edited_by_hand": meta.get("written_digest") != data_digest(data),
        }
        stem = layer.name.removesuffix(" classes").replace(" ", "_")
        try:
            paths = write_labels(
                data, names, colors, provenance, folder, stem, self._export_format.value
            )
        except (ValueError, OSError) as exc:
            show_error(f"Export failed: {exc}")
            return {}
        self._status.value = f"exported {layer.name} to {Path(folder).resolve()}"
        return paths

    # -- answers from the last result, without running the network again ---------------------

    def _last_result(self) -> _LastRun | None:
        run = self._last
        if run is None or run.image not in self._viewer.layers or run.result is None:
            return None
        return run if run.result.scores is not None else None

    def _on_classes_chosen(self, names: list[str]) -> None:
        """Picking a class after a run adds its probability layer from the kept scores."""
        last = self._last_result()
        if last is None or self.running or last.result.model_name != self._model.value:
            return
        image, result = last.image, last.result
        placement = last.placement()
        for name in names:
            if probability_layer_name(image.name, name) in self._viewer.layers:
                continue
            k = result.class_names.index(name) if name in result.class_names else -2
            if k not in result.scores.class_ids:
                self._status.value = f"{name} was not among the classes of the last run"
                continue
            data = result.scores.probability_map(k)
            self._viewer.add_layer(
                Layer.create(*probability_layer_data(data, image.name, name, placement))
            )

    def _on_cursor(self, _event: Any = None) -> None:
        """The top-5 classes under the cursor, interpolated from the kept scores."""
        last = self._last_result()
        if last is None:
            self._probe.value = ""
            return
        image, result = last.image, last.result
        grid = result.scores
        position = image.world_to_data(self._viewer.cursor.position)
        starts = [s.start for s in last.region]
        coords = [float(p) - a for p, a in zip(position[-len(starts) :], starts, strict=True)]
        *lead, y, x = coords
        plane = tuple(round(v) for v in lead)
        if any(not 0 <= p < n for p, n in zip(plane, grid.leading_shape, strict=True)):
            self._probe.value = ""
            return
        top = grid.top_classes(plane, y, x)
        names = result.class_names
        self._probe.value = (
            f"at ({round(y + starts[-2])}, {round(x + starts[-1])}): "
            + ", ".join(
                f"{short_class_name(names[k]) if k >= 0 else 'unmapped'} {p:.0%}" for k, p in top
            )
            if top
            else ""
        )

    def _plugin_layer(self, name: str, layer_type: str) -> Layer | None:
        if name not in self._viewer.layers:
            return None
        layer = self._viewer.layers[name]
        if layer._type_string != layer_type or METADATA_KEY not in layer.metadata:
            return None  # a layer of the user's that happens to share the name: leave it alone
        return layer


NEW_LAYER = "new layer (asks before replacing edits)"


@dataclass
class _LastRun:
    """A run: its image, result, region (slices of the image's spatial axes) and destination."""

    image: Image
    result: SegmentationResult | None
    region: tuple[slice, ...]
    target: Labels | None
    mode: str
    whole: bool

    def placement(self) -> dict[str, tuple[float, ...]]:
        """scale/translate that put layers of the region's size over the region."""
        scale = np.asarray(self.image.scale, float)
        starts = np.array([s.start for s in self.region], float)
        translate = np.asarray(self.image.translate, float) + starts * scale[-len(starts) :]
        return {"scale": tuple(scale), "translate": tuple(translate)}


def _layer_class_names(layer: Labels, top: int) -> list[str]:
    """Names of label values 1..n from the layer's features (ours, or the user's own)."""
    names: dict[int, str] = {}
    features = layer.features
    if "class_name" in features and len(features):
        index = features["index"] if "index" in features else range(len(features))
        names = {int(i): str(n) for i, n in zip(index, features["class_name"], strict=True)}
    n = max([top, *[i for i in names if i > 0]], default=0)
    return [names.get(k, f"label {k}") for k in range(1, n + 1)]


def _region_text(region: tuple[slice, ...]) -> list[list[int]]:
    return [[s.start, s.stop] for s in region]


def weights_note(provenance: dict[str, Any]) -> str:
    """Say which weights made a result; a local file is not vouched for as a trained model."""
    sha1 = str(provenance.get("weights_sha1", ""))[:8]
    name = Path(str(provenance.get("weights", ""))).name
    if provenance.get("weights_source") == "zoo":
        return f"weights: GluonCV model zoo, pretrained ({name})"
    return f"weights: local file {name} (sha1 {sha1}), not the zoo's pretrained weights"


def _edited_by_hand(layer: Labels) -> bool:
    written = layer.metadata.get(METADATA_KEY, {}).get("written_digest")
    return written != data_digest(np.asarray(layer.data))


def _update_layer(layer: Layer, data: Any, kwargs: dict[str, Any]) -> None:
    for key in ("scale", "translate", "metadata", "colormap", "features"):
        if key in kwargs:
            setattr(layer, key, kwargs[key])
    layer.data = data
    if isinstance(layer, Image):
        layer.contrast_limits = kwargs.get("contrast_limits", layer.contrast_limits)
    layer.refresh()
