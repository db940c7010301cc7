"""The "Review folder" dock: walk through a folder's pre-annotations, correct, save, move on.

The rules (which images, their order, where the person stopped, how corrections are saved) live
in the Qt-free :mod:`napari_gluonseg.review`; this widget opens the layers and saves on leaving.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, Container, FileEdit, Label, PushButton
from napari.layers import Image, Labels, Layer
from napari.qt.threading import GeneratorWorker, create_worker
from napari.types import LayerDataTuple
from napari.utils.notifications import show_error

from ..core.batch_summary import BatchSummary, ImageReport
from ..core.errors import GluonsegError
from ..core.export import LabelsExport
from ..core.scores import ScoreGrid
from ..core.uncertain import UncertainRegions
from ..layer_corrections import hand_tracker, keep_scores
from ..layer_data import (
    METADATA_KEY,
    data_digest,
    labels_layer_data,
    labels_layer_name,
    probability_layer_data,
)
from ..result_layers import is_unedited_output
from ..review import ReadAhead, ReviewItem, ReviewSession
from .lifetime import watch_removal
from .regions import _canvas_size

if TYPE_CHECKING:
    import napari

NEXT_KEY, PREVIOUS_KEY, REGION_KEY = "Alt-Right", "Alt-Left", "Alt-Down"
ANNOTATE_TEXT = "Pre-annotate missing"
# How much of the view an uncertain region fills when the view is zoomed onto it.
REGION_FILL = 0.5


class ReviewWidget(Container):
    """Review a folder of batch results: one image and its labels at a time.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer the image and labels layers are opened in.
    """

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self._viewer = viewer
        self._images_dir = FileEdit(mode="d", label="images")
        self._results_dir = FileEdit(mode="d", label="results")
        self._open_folder = PushButton(text="Open folder")
        self._annotate = PushButton(
            text=ANNOTATE_TEXT,
            tooltip="Pre-annotate the images without results (or whose run failed) in the "
            "background, with the settings of this folder's results; corrections are kept.",
        )
        # Choices from callables: napari resets a dock's combo boxes whenever a layer is added.
        self._images = ComboBox(label="image", choices=self._image_choices, nullable=True)
        self._probability = ComboBox(
            label="probability",
            choices=self._probability_choices,
            nullable=True,
            tooltip="Show the model's probability of a class over the image, from the scores "
            "the batch kept (--keep-scores).",
        )
        self._previous = PushButton(text="< Previous")
        self._next = PushButton(text="Next >")
        self._save = PushButton(text="Save")
        self._region = PushButton(text="Next uncertain region")
        self._status = Label(value="")
        self._status.native.setWordWrap(True)
        super().__init__(widgets=self._layout(), labels=True)
        self.session: ReviewSession | None = None
        self.current: ReviewItem | None = None
        self._layers: list[Layer] = []  # the image and labels layers of ``current``
        self._export: LabelsExport | None = None  # the labels as opened (class table)
        self._scores: ScoreGrid | None = None  # kept by the batch, if it was asked to
        self._regions: UncertainRegions | None = None
        self._prob_layer: Layer | None = None
        self._choosing = False  # the list is being set by the widget, not by the person
        self._annotating: GeneratorWorker | None = None
        self._stop_annotating = False
        self._read_ahead = ReadAhead()  # the neighbours of the image open, read in the background
        self._connect()

    def _layout(self) -> list:
        moves = Container(
            widgets=[self._previous, self._next, self._save], layout="horizontal", labels=False
        )
        return [self._images_dir, self._results_dir, self._open_folder, self._annotate,
                self._images, moves, self._probability, self._region,
                self._status]  # fmt: skip

    def _connect(self) -> None:
        self._open_folder.changed.connect(self._on_open_folder)
        self._annotate.changed.connect(self._on_annotate)
        self._images.changed.connect(self._on_image_chosen)
        self._probability.changed.connect(self._on_probability)
        self._previous.changed.connect(self._on_previous)
        self._next.changed.connect(self._on_next)
        self._save.changed.connect(self._on_save)
        self._region.changed.connect(self._on_next_region)
        self._keys = {
            NEXT_KEY: lambda _viewer: self._on_next(),
            PREVIOUS_KEY: lambda _viewer: self._on_previous(),
            REGION_KEY: lambda _viewer: self._on_next_region(),
        }
        for key, action in self._keys.items():
            self._viewer.bind_key(key, action, overwrite=True)
        self._closed = False
        self._watcher = watch_removal(self.native, self._on_closed)

    # -- the folder -----------------------------------------------------------------------------

    def open_folder(self, images_dir: str | Path, results_dir: str | Path) -> None:
        """Open a folder and its results; resume at the image opened last, if any."""
        self._images_dir.value, self._results_dir.value = images_dir, results_dir
        self._on_open_folder()

    def _on_open_folder(self, _value: Any = None) -> None:
        if self._annotating is not None:
            self._status.value = "Stop pre-annotating before opening another folder."
            return
        if self._leave() is None:
            return
        self._flush_calls()  # where the person is, written before it is read back
        try:
            self.session = ReviewSession(self._images_dir.value, self._results_dir.value)
        except GluonsegError as exc:
            show_error(str(exc))
            return
        self._show_choices()
        last = self.session.last_key()
        index = self.session.index_of(last) if last is not None else None
        if index is not None:
            self.open_index(index)
        else:
            self._status.value = f"{len(self.session.items)} images; Next opens the first."

    def _image_choices(self, _widget: Any = None) -> list[tuple[str, str]]:
        items = self.session.items if getattr(self, "session", None) is not None else []
        return [(item.describe(), item.key) for item in items]

    def _show_choices(self) -> None:
        self._choosing = True
        try:
            self._images.reset_choices()
            self._images.value = None if self.current is None else self.current.key
        finally:
            self._choosing = False

    # -- pre-annotating the rest ----------------------------------------------------------------

    def _on_annotate(self, _value: Any = None) -> None:
        """Start pre-annotating the images without results, or stop after the current one."""
        if self._annotating is not None:
            self._stop_annotating = True
            self._annotate.text = "Stopping after this image..."
            return
        if self.session is None:
            self._status.value = "Open a folder first."
            return
        self._stop_annotating = False
        # Planning may fetch weights: it runs in the worker too.
        self._annotating = create_worker(
            self.session.iter_pre_annotate,
            lambda: self._stop_annotating,
            _start_thread=False,
            _connect={
                "yielded": self._on_annotated,
                "returned": self._on_annotation_done,
                "errored": self._on_annotation_error,
                "finished": self._on_annotation_finished,
            },
        )
        self._annotate.text = "Stop pre-annotating"
        self._status.value = "Pre-annotating the images without results..."
        self._annotating.start()

    def _on_annotated(self, report: ImageReport) -> None:
        if self._closed or self.session is None:
            return
        self.session.refresh()
        self._show_choices()
        why = f": {report.error}" if report.error else ""
        self._status.value = f"{report.key}: {report.status}{why}"

    def _on_annotation_done(self, summary: BatchSummary) -> None:
        if self._closed:
            return
        counts = ", ".join(f"{summary.count(s)} {s}" for s in ("done", "skipped", "failed"))
        stopped = "Stopped: " if summary.stopped else "Pre-annotated: "
        self._status.value = f"{stopped}{counts}."

    def _on_annotation_error(self, exc: BaseException) -> None:
        show_error(f"Pre-annotating failed: {exc}")

    def _on_annotation_finished(self) -> None:
        self._annotating = None
        if not self._closed:
            self._annotate.text = ANNOTATE_TEXT

    # -- moving ---------------------------------------------------------------------------------

    def _on_next(self, _value: Any = None) -> None:
        self._step(+1)

    def _on_previous(self, _value: Any = None) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if self.session is None or not self.session.items:
            self._status.value = "Open a folder first."
            return
        here = -1 if self.current is None else self.session.index_of(self.current.key)
        if here == -1 and delta < 0:
            here = len(self.session.items)
        target = here + delta
        if not 0 <= target < len(self.session.items):
            self._status.value = "No more images this way."
            return
        self.open_index(target)

    def _on_image_chosen(self, key: str | None) -> None:
        if self._choosing or key is None or self.session is None:
            return
        index = self.session.index_of(key)
        if index is not None:
            self.open_index(index)

    def open_index(self, index: int) -> None:
        """Save the current image's corrections, close its layers, open image ``index``."""
        key = self.session.items[index].key
        kept = self._leave(keep_layers=True)
        if kept is None:
            return
        index = self.session.index_of(key)  # leaving may have saved and re-sorted
        self.current = item = self.session.items[index]
        try:
            self._open_layers(item, kept)
        except GluonsegError as exc:
            self._remove_layers(kept)
            show_error(str(exc))
        self._read_ahead.call(self.session.remember, item.key)  # a synced write: off the GUI
        self._show_choices()
        self._status.value = item.describe() + (f"\n{item.error}" if item.error else "")
        items = self.session.items
        nearby = [items[k] for k in (index + 1, index - 1) if 0 <= k < len(items)]
        self._read_ahead.read_ahead(nearby)  # Next, then Previous

    def _open_layers(self, item: ReviewItem, kept: list[Layer]) -> None:
        """Show ``item`` in the layers ``kept`` from the previous image where they can take it
        (napari collects garbage for each layer removed, ~0.2 s each), else in new ones."""
        opened = self._read_ahead.take(item)
        old_image, old_labels = [*kept, None, None][:2]
        image = self._show_image(opened.image, Path(item.key).name, old_image)
        self._layers = [image]
        export = opened.export
        if export is None or item.labels is None:
            self._remove_layers([old_labels] if old_labels is not None else [])
            return
        meta = {
            "role": "labels",
            "source_file": str(item.labels),
            "provenance": export.provenance,
            "written_digest": data_digest(export.labels),  # an edit changes the digest
        }
        name = labels_layer_name(image.name)
        data = labels_layer_data(export.labels, name, export.class_names, export.colors, meta, {})
        self._export, self._scores = export, opened.scores
        self._show_probability_choices()
        labels = self._show_labels(data, old_labels)
        hand_tracker(labels)  # from the saved labels on: what the person sets is known
        keep_scores(labels, opened.scores, (0,) * labels.ndim)
        self._layers.append(labels)
        self._viewer.layers.selection.active = labels

    @property
    def labels_layer(self) -> Layer | None:
        return self._layers[1] if len(self._layers) > 1 else None

    def _show_image(self, pixels: np.ndarray, name: str, old: Layer | None) -> Layer:
        if isinstance(old, Image) and old in self._viewer.layers:
            rgb = pixels.ndim == 3 and pixels.shape[-1] in (3, 4)
            same_kind = pixels.ndim == old.data.ndim and old.rgb == rgb
            if same_kind and pixels.dtype == old.data.dtype:
                old.data = pixels
                old.name = name
                old.reset_contrast_limits()
                self._viewer.reset_view()
                return old
        self._remove_layers([old] if old is not None else [])
        return self._viewer.add_image(pixels, name=name)

    def _show_labels(self, data: LayerDataTuple, old: Layer | None) -> Layer:
        labels, kwargs, _ = data
        if isinstance(old, Labels) and old in self._viewer.layers and old.ndim == labels.ndim:
            mode = old.mode
            # A layer made read-only forgets its undo history: Ctrl+Z must never reach back
            # into the previous image's edits.
            old.editable = False
            old.data = labels
            for attribute in ("colormap", "features", "metadata", "name", "opacity"):
                setattr(old, attribute, kwargs[attribute])
            old.editable = True
            old.mode = mode
            return old
        self._remove_layers([old] if old is not None else [])
        return self._viewer.add_layer(Layer.create(*data))

    def _leave(self, keep_layers: bool = False) -> list[Layer] | None:
        """Save the current labels if edited, then remove the current layers (with
        ``keep_layers``, return them for the next image instead). None: the corrections could
        not be saved, so nothing was closed."""
        if not self._saved_or_unedited():
            return None
        kept = list(self._layers) if keep_layers else []
        self._remove_layers([layer for layer in self._layers if layer not in kept])
        self._remove_layers([self._prob_layer] if self._prob_layer is not None else [])
        self._layers, self._regions, self._prob_layer = [], None, None
        self._export, self._scores = None, None
        self._show_probability_choices()
        self.current = None
        return kept

    def _flush_calls(self) -> None:
        try:
            self._read_ahead.flush()
        except (OSError, GluonsegError) as exc:
            show_error(f"Could not record where the review stopped: {exc}")

    def _remove_layers(self, layers: list[Layer]) -> None:
        for layer in layers:
            if layer in self._viewer.layers:
                self._viewer.layers.remove(layer)

    # -- saving ---------------------------------------------------------------------------------

    def _on_save(self, _value: Any = None) -> None:
        if not self.save():
            self._status.value = "Nothing to save: the labels are as opened."

    def _saved_or_unedited(self) -> bool:
        """Whether the labels open may be closed: unedited, or their edits saved now."""
        layer = self.labels_layer
        if layer is None or self.current is None or is_unedited_output(layer):
            return True
        if self.save():
            return True
        self._status.value = "The corrections could not be saved: the image stays open."
        return False

    def save(self) -> bool:
        """Save the labels if they were edited since opened or saved; True if saved."""
        layer = self.labels_layer
        if layer is None or self.current is None or is_unedited_output(layer):
            return False
        meta = layer.metadata[METADATA_KEY]
        labels = np.asarray(layer.data)
        key, export = self.current.key, self._export
        tracker = hand_tracker(layer, create=False)
        counts = tracker.edits.provenance() if tracker is not None else None
        try:
            meta["provenance"] = self.session.save_corrections(
                key, labels, export.class_names, export.colors, meta.get("provenance", {}), counts
            )
        except (GluonsegError, OSError) as exc:
            show_error(f"Could not save the corrections of {key}: {exc}")
            return False
        meta["written_digest"] = data_digest(labels)
        self.current = self.session.items[self.session.index_of(key)]
        self._status.value = f"Saved the corrections of {self.current.key}."
        self._show_choices()
        return True

    # -- uncertain regions ----------------------------------------------------------------------

    def _on_next_region(self, _value: Any = None) -> None:
        """Centre and zoom the view on the next uncertain region you have not edited, largest
        first: unlabeled pixels, and small margins where the batch kept its scores."""
        layer = self.labels_layer
        if layer is None or self._export is None:
            self._status.value = "No labels open."
            return
        if self._regions is None:
            self._regions = UncertainRegions(self._export.labels, self._scores)
        if not len(self._regions):
            self._status.value = (
                "No uncertain region: these labels were made without --min-confidence"
                + (" or --keep-scores." if self._scores is None else ".")
            )
            return
        found = self._regions.next_unedited(np.asarray(layer.data))
        if found is None:
            self._status.value = "You have edited every uncertain region of this image."
            return
        rank, box, size = found
        show_region(self._viewer, layer, box)
        self._status.value = f"Uncertain region {rank + 1} of {len(self._regions)} ({size} pixels)."

    # -- probabilities ----------------------------------------------------------------------------

    def _probability_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        """The classes whose probability the kept scores can show (none without scores)."""
        export, scores = getattr(self, "_export", None), getattr(self, "_scores", None)
        if export is None or scores is None:
            return []
        names = export.class_names
        return [(names[k], k) for k in scores.class_ids if 0 <= k < len(names)]

    def _show_probability_choices(self) -> None:
        self._choosing = True
        try:
            self._probability.reset_choices()
            self._probability.value = None
        finally:
            self._choosing = False
        self._probability.enabled = self._scores is not None

    def _on_probability(self, class_index: int | None) -> None:
        if self._choosing or self._scores is None or not self._layers:
            return
        if class_index is None:
            self._remove_layers([self._prob_layer] if self._prob_layer is not None else [])
            self._prob_layer = None
            return
        image_name = self._layers[0].name
        class_name = self._export.class_names[class_index] if self._export else str(class_index)
        data = probability_layer_data(
            self._scores.probability_map(class_index), image_name, class_name, {}
        )
        if self._prob_layer is not None and self._prob_layer in self._viewer.layers:
            self._prob_layer.data = data[0]
            self._prob_layer.name = data[1]["name"]
        else:
            active = self._viewer.layers.selection.active
            self._prob_layer = self._viewer.add_layer(Layer.create(*data))
            self._viewer.layers.selection.active = active  # keep painting the labels

    # -- closing --------------------------------------------------------------------------------

    def _on_closed(self) -> None:
        """Save what was edited, close the image's layers (edits to them would not be saved) and
        give the keys back: the dock was closed. Corrections that cannot be saved stay open."""
        # Once: closing, then deleting, both call back (the latter maybe while being collected).
        if self.__dict__.get("_closed", True):
            return
        self._closed = True
        self._stop_annotating = True  # the image running finishes, written whole
        if self._leave() is None:
            show_error("The review's corrections could not be saved: their layers stay open.")
        try:
            self._read_ahead.close()
        except (OSError, GluonsegError) as exc:
            show_error(f"Could not record where the review stopped: {exc}")
        for key in self._keys:
            self._viewer.bind_key(key, None)
        self._keys = {}


def show_region(viewer: napari.viewer.Viewer, layer: Layer, box: tuple[slice, ...]) -> None:
    """Centre the 2D view on ``box`` (data slices of ``layer``), zoomed so that it fills about
    REGION_FILL of the canvas."""
    start = np.array([s.start for s in box], float)
    stop = np.array([s.stop for s in box], float)
    corners = [np.asarray(layer.data_to_world(p))[-2:] for p in (start, stop)]
    extent = np.maximum(np.abs(corners[1] - corners[0]), 1e-9)
    # napari >= 0.9 keeps the camera in viewer.scene; older versions in viewer.camera.
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    centre = layer.data_to_world((start + stop - 1) / 2)
    camera.center = tuple(centre[-2:])
    camera.zoom = float(min(np.asarray(_canvas_size(viewer), float) / extent) * REGION_FILL)
