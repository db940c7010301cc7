"""The dock's controls and what they ask for: a :class:`ResultDestination` and the core's arguments.

The choices a person makes on every run (image, region, where to write, classes) come first;
model, weights, engine, resolution, augmentation, thresholds and intensity sit in a collapsed
"Advanced" section, so the dock fits a 1280x720 window.
A learned model (issue 32) is chosen like a zoo model; it holds its weights and classes.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from magicgui.types import FileDialogMode
from magicgui.widgets import (
    CheckBox,
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    PushButton,
    Widget,
)
from napari.layers import Image
from napari.utils.notifications import show_error

from ..core.errors import GluonsegError, RunSetupError
from ..core.models.learned import is_model_file, read_learned
from ..core.models.registry import DEFAULT_MODEL, model_info, model_names
from ..core.models.scheme import load_scheme
from ..core.run.options import AUTO, EngineChoice, RunOptions, option_of
from ..layers.data import spatial_shape
from ..layers.export import DATASET_FORMATS
from ..layers.results import MergeMode, ResultDestination
from .class_picker import ClassPicker
from .regions import RegionChoice, image_region

NEW_LAYER = "new layer (asks before replacing edits)"
MERGE_MODES = {
    "fill unlabeled pixels only": MergeMode.FILL_UNLABELED,
    "overwrite the region": MergeMode.OVERWRITE,
}


class Resolution(StrEnum):
    """What the network sees (the values are what the dock shows)."""

    AUTO = "auto (model size)"
    FULL = "full (image size, tiled)"

    @property
    def scale(self) -> float | str:
        return AUTO if self is Resolution.AUTO else 1.0


AUGMENTATIONS: dict[str, dict[str, Any]] = {
    "none": {},
    "flip": {"flip": True},
    "flip + scales 0.75, 1.25": {"flip": True, "tta_scales": (0.75, 1.25)},
}
ADVANCED_CLOSED, ADVANCED_OPEN = "Advanced ▸", "Advanced ▾"
# The choices a person makes once per session (a weights file picked through a file dialog):
# a dock closed and opened again, or opened in another viewer, starts with them.
REMEMBERED = (
    "model", "weights", "scheme", "engine", "resolution", "augment", "min_confidence",
    "full_range", "export_format", "export_scores",
)  # fmt: skip
_remembered: dict[str, Any] = {}
LEARNED_FILE = "learned model file…"  # the model choice that opens a file dialog
LEARNED_MODELS = "learned models"  # _remembered's list of the session's learned model paths


def ask_learned_model_file(parent: Any) -> str | None:
    """A learned model file to choose as the model, or None if the user cancels."""
    from qtpy.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(parent, "Learned model", "", "Learned models (*.onnx)")
    return path or None


class RunControls:
    """The widgets that say what to run; :meth:`run_request` reads them once per run."""

    def __init__(self, image_choices: Callable, target_choices: Callable) -> None:
        self.say: Callable[[str], None] = show_error  # the dock says it in its message area
        self._model_before = DEFAULT_MODEL  # the choice a refused learned file goes back to
        # The weights and scheme kept aside while a learned model is chosen (it holds its own).
        self.zoo_files: tuple[Path | None, Any] = (None, None)
        self._build_main(image_choices, target_choices)
        self._build_advanced()
        self.model.changed.connect(self._on_model_changed)
        self.scheme.changed.connect(self._on_model_changed)
        self._recall()

    def _recall(self) -> None:
        """Start with the choices of the session's last dock; remember the ones made here."""
        for name in REMEMBERED:
            widget = getattr(self, name)
            if name in _remembered:
                try:
                    widget.value = _remembered[name]
                except ValueError:  # a model or choice this install no longer offers
                    del _remembered[name]
            widget.changed.connect(lambda value, name=name: _remembered.__setitem__(name, value))

    def _build_main(self, image_choices: Callable, target_choices: Callable) -> None:
        self.image = ComboBox(
            label="image",
            choices=image_choices,
            nullable=True,
            tooltip="The image layer to segment (the active image layer by default)",
        )
        self.region = ComboBox(
            label="region",
            choices=list(RegionChoice),
            value=RegionChoice.WHOLE,
            tooltip="What to segment: the whole image, the current slice of a stack, what the "
            "canvas shows, or the bounding box of the selected (else last) shape of a Shapes "
            "layer. Nothing outside it changes.",
        )
        self.target = ComboBox(
            label="write into",
            choices=target_choices,
            tooltip="A new labels layer (you are asked before hand edits are replaced), or one "
            "of your labels layers",
        )
        self.merge = ComboBox(
            label="merge",
            choices=list(MERGE_MODES),
            value=next(iter(MERGE_MODES)),
            tooltip="Writing into labels you have worked on: fill only the pixels that are "
            "still 0, or replace the region (asks first; undo with Ctrl+Z)",
        )
        self.classes = ClassPicker(model_info(DEFAULT_MODEL).class_names)
        self.only_picked = CheckBox(
            text="predict only the picked classes",
            value=False,
            tooltip=option_of("classes").tooltip,
        )
        self.show_confidence = CheckBox(text="confidence layer", value=False)
        self.show_margin = CheckBox(
            text="margin layer",
            value=False,
            tooltip="Top probability minus the runner-up's: dark where the model hesitates",
        )
        self.export_format = ComboBox(
            label="export as",
            choices=["png", "tif", *DATASET_FORMATS],
            value="png",
            tooltip="png: 8 or 16 bit as the values need (2D); tif: any stack. Always with the "
            "class table (CSV) and the provenance (JSON). coco, voc, cityscapes, cvat, yolo: a "
            "dataset of that format with the image's file, into an empty folder.",
        )
        self.export_scores = CheckBox(
            text="with scores",
            value=False,
            tooltip="Also write the run's class probabilities on its coarse grid (float16, "
            "{name}_scores.npz), so the export reopens with likely classes and the class brush",
        )

    def _build_advanced(self) -> None:
        self.model = ComboBox(
            label="model",
            choices=_model_choices,
            value=DEFAULT_MODEL,
            tooltip=option_of("model_name").tooltip,
        )
        self.weights = FileEdit(
            label="weights file",
            mode=FileDialogMode.EXISTING_FILE,
            filter="*.params *.onnx",
            nullable=True,
            tooltip=option_of("weights").tooltip,
        )
        self.scheme = FileEdit(
            label="label scheme",
            mode=FileDialogMode.EXISTING_FILE,
            filter="*.yaml *.yml *.csv",
            nullable=True,
            tooltip=option_of("scheme").tooltip,
        )
        self.engine = ComboBox(
            label="engine",
            choices=[e.value for e in EngineChoice],
            value=EngineChoice.AUTO.value,
            tooltip=option_of("engine").tooltip,
        )
        self.resolution = ComboBox(
            label="resolution",
            choices=list(Resolution),
            value=Resolution.AUTO,
            tooltip=option_of("scale").tooltip,
        )
        self.augment = ComboBox(
            label="augment",
            choices=list(AUGMENTATIONS),
            value=next(iter(AUGMENTATIONS)),
            tooltip=option_of("tta_scales").tooltip,
        )
        self.min_confidence = FloatSpinBox(
            label="min confidence",
            min=0.0,
            max=1.0,
            step=0.05,
            value=0.0,
            tooltip=option_of("min_confidence").tooltip,
        )
        self.full_range = CheckBox(
            text="intensity: the data type's full range",
            value=False,
            tooltip=option_of("intensity_range").tooltip,
        )
        self.advanced = Container(
            widgets=[
                self.model,
                self.weights,
                self.scheme,
                self.engine,
                self.resolution,
                self.augment,
                self.min_confidence,
                self.full_range,
            ],
            labels=True,
            visible=False,
        )
        self.advanced_toggle = PushButton(text=ADVANCED_CLOSED)
        self.advanced_toggle.changed.connect(self._on_advanced_toggled)

    def main_widgets(self) -> list[Widget]:
        """Top of the dock: what every run needs."""
        maps = Container(
            widgets=[self.show_confidence, self.show_margin], layout="horizontal", labels=False
        )
        return [
            self.image,
            self.region,
            self.target,
            self.merge,
            self.classes,
            self.only_picked,
            maps,
        ]

    def advanced_widgets(self) -> list[Widget]:
        return [self.advanced_toggle, self.advanced]

    def _on_advanced_toggled(self, _value: Any = None) -> None:
        opening = self.advanced.native.isHidden()
        self.advanced.visible = opening
        self.advanced_toggle.text = ADVANCED_OPEN if opening else ADVANCED_CLOSED

    def _on_model_changed(self, _value: Any = None) -> None:
        """The picker lists the labels the run will make: the scheme's, else the model's (a
        learned model's own, with no weights or scheme to choose)."""
        model = self.model.value
        if model == LEARNED_FILE:  # an action, not a choice
            path = ask_learned_model_file(self.model.native)
            self.model.value = self._model_before
            if path is not None:
                self.choose_learned(path)
            return
        try:
            info = read_learned(model).info if is_model_file(model) else model_info(model)
        except GluonsegError as exc:  # a learned file gone or changed since it was chosen
            self._refuse(model, exc)
            self.model.value = self._model_before
            return
        self._enable_files(not is_model_file(model))
        self._model_before = model
        names = info.class_names
        chosen = _scheme_of(self.scheme)
        if chosen is not None:
            try:
                scheme = load_scheme(chosen, info)
            except GluonsegError as exc:
                show_error(str(exc))
                self.scheme.value = None
                return
            names = tuple(lab.name for lab in scheme.labels)
        self.classes.set_class_names(names)

    def choose_learned(self, path: str | Path) -> bool:
        """Make the learned model at ``path`` the model choice (shown by its file name), kept
        for the session; a file that is not one is refused in the dock (False)."""
        path = str(Path(path).absolute())
        try:
            read_learned(path)
        except GluonsegError as exc:
            self._refuse(path, exc)
            return False
        learned = _remembered.setdefault(LEARNED_MODELS, [])
        learned.extend([] if path in learned else [path])
        self.model.reset_choices()
        self.model.value = path
        return True

    def _refuse(self, path: str, exc: GluonsegError) -> None:
        if path in _remembered.get(LEARNED_MODELS, []):
            _remembered[LEARNED_MODELS].remove(path)
            self.model.reset_choices()
        self.say(f"not chosen: {exc}")
        show_error(str(exc))

    def _enable_files(self, zoo: bool) -> None:
        """Weights and scheme for a zoo model; for a learned one, emptied (put back when a zoo
        model is chosen again) and disabled (set first: emptying them calls back here)."""
        if zoo == self.weights.enabled:
            return
        self.weights.enabled = self.scheme.enabled = zoo
        if not zoo:
            self.zoo_files = (_one_file(self.weights), _one_file(self.scheme))
        self.weights.value, self.scheme.value = self.zoo_files if zoo else (None, None)

    # -- what a run is asked to do ---------------------------------------------------------------

    def run_request(self, viewer: Any) -> tuple[ResultDestination, Any, RunOptions]:
        """The run the controls describe: (where its result goes, image data, its options).

        Raises RunSetupError (with a message for the user) for choices that cannot run.
        """
        layer = self.image.value
        if not isinstance(layer, Image):
            raise RunSetupError(
                "Choose an image layer to segment (labels and other layers cannot be)."
            )
        if self.only_picked.value and self.scheme.value is not None:
            raise RunSetupError(
                "'predict only the picked classes' and a label scheme exclude each other."
            )
        if self.only_picked.value and not self.classes.value:
            raise RunSetupError("Pick at least one class to predict among (or untick the option).")
        target = self.target.value
        if target is not None and tuple(target.data.shape) != spatial_shape(layer):
            raise RunSetupError(
                f"'{target.name}' has shape {tuple(target.data.shape)} but '{layer.name}' "
                f"has {spatial_shape(layer)}: choose labels of the image's shape."
            )
        region = image_region(viewer, layer, self.region.value)
        whole = region == tuple(slice(0, n) for n in spatial_shape(layer))
        crop = layer.data if whole else layer.data[region + ((slice(None),) if layer.rgb else ())]
        boxes = (("confidence", self.show_confidence), ("margin", self.show_margin))
        request = ResultDestination(
            image=layer,
            region=region,
            target=target,
            mode=MERGE_MODES[self.merge.value],
            whole=whole,
            uncertainty=tuple(kind for kind, box in boxes if box.value),
        )
        return request, crop, self.run_options(layer)

    def run_options(self, layer: Image) -> RunOptions:
        """The run's options for ``layer`` (checked when the run is planned)."""
        return RunOptions(
            model_name=self.model.value,
            weights=_one_file(self.weights),
            engine=self.engine.value,
            scale=Resolution(self.resolution.value).scale,
            **AUGMENTATIONS[self.augment.value],
            rgb=layer.rgb,
            probability_classes=self.classes.value,
            classes=self.classes.value if self.only_picked.value else None,
            min_confidence=float(self.min_confidence.value),
            scheme=_scheme_of(self.scheme),
            intensity_range=self.intensity_range(layer),
        )

    def intensity_range(self, layer: Image) -> tuple[float, float] | None:
        """The layer's contrast limits, so the network sees what napari shows (8-bit images
        keep the reference workflow's /255)."""
        if self.full_range.value or np.dtype(layer.dtype) == np.uint8:
            return None
        lo, hi = (float(v) for v in layer.contrast_limits)
        return (lo, hi) if hi > lo else None


def _model_choices(_widget: Any = None) -> list[tuple[str, str]]:
    """The zoo's models, the session's learned models (by file name) and the file entry."""
    learned = [(Path(p).name, p) for p in _remembered.get(LEARNED_MODELS, [])]
    return [*((n, n) for n in model_names()), *learned, (LEARNED_FILE, LEARNED_FILE)]


def _scheme_of(edit: FileEdit) -> Path | None:
    """The scheme file chosen, or a shipped scheme's name as typed (the field made it a path
    in the current folder, where no such file is)."""
    value = _one_file(edit)
    if value is None or value.is_file():
        return value
    return Path(value.name) if value.parent == Path.cwd() else value


def _one_file(edit: FileEdit) -> Path | None:
    """The file a single-file field holds (None: empty)."""
    value = edit.value
    return value if isinstance(value, Path) else None
