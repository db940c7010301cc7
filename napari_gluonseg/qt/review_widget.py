"""The "Review folder" dock: walk through a folder's pre-annotations, correct, save, move on.

The rules (which images, their order, where the person stopped, how corrections are saved) live
in the Qt-free :mod:`~..core.batch.review`; this widget opens the layers and saves on leaving.
Pre-annotating in the background is :mod:`.review_annotate`; what the kept scores show
(probabilities, uncertain regions) is :mod:`.review_scores`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.types import FileDialogMode
from magicgui.widgets import ComboBox, Container, FileEdit, PushButton
from napari.layers import Labels, Layer
from napari.utils.notifications import show_error
from qtpy.QtCore import QTimer

from ..core.batch.review import (
    OpenedItem,
    ReadAhead,
    ReviewItem,
    ReviewSession,
    finish_reading,
)
from ..core.errors import GluonsegError
from ..core.files.read_export import LabelsExport
from ..core.run.scores import ScoreGrid
from ..layers.corrections import attach_scores, hand_tracker
from ..layers.data import (
    METADATA_KEY,
    data_digest,
    import_for_new_layers,
    is_unedited_output,
    labels_layer_data,
    labels_layer_name,
)
from ..layers.reuse import layer_kind, new_image_layer, remove_layers, show_image, show_labels
from .lifetime import watch_removal
from .messages import MessageArea, ScrollingDock
from .review_annotate import PreAnnotation
from .review_scores import ScoresView
from .threads import STEP_DELAY_MS, in_background, no_threads

if TYPE_CHECKING:
    import napari

NEXT_KEY, PREVIOUS_KEY, REGION_KEY = "Alt-Right", "Alt-Left", "Alt-Down"


class ReviewWidget(ScrollingDock):
    """Review a folder of batch results: one image and its labels at a time.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer the image and labels layers are opened in.
    """

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self._viewer = viewer
        self._images_dir = FileEdit(mode=FileDialogMode.EXISTING_DIRECTORY, label="images")
        self._results_dir = FileEdit(mode=FileDialogMode.EXISTING_DIRECTORY, label="results")
        self._open_folder = PushButton(text="Open folder")
        self._annotator = PreAnnotation(lambda: self.session, self._show_choices, self._say)
        self._annotate = self._annotator.button
        # Choices from a callable: napari resets a dock's combo boxes whenever a layer is added.
        self._images = ComboBox(label="image", choices=self._image_choices, nullable=True)
        _fit_long_names(self._images)
        self._scores_view = ScoresView(viewer, self._say)
        self._probability, self._region = self._scores_view.probability, self._scores_view.region
        self._previous = PushButton(text="< Previous")
        self._next = PushButton(text="Next >")
        self._save = PushButton(text="Save")
        self._status = MessageArea()
        super().__init__(widgets=self._arranged(), labels=True)
        self.session: ReviewSession | None = None
        self.current: ReviewItem | None = None
        self._layers: list[Layer] = []  # the image and labels layers of ``current``
        self._export: LabelsExport | None = None  # the labels as opened (class table)
        self._choosing = False  # the list is being set by the widget, not by the person
        self._read_ahead = ReadAhead()  # the neighbours of the image open, read in the background
        self._opening = 0  # counts the images asked for: only the last one asked is shown
        self._opening_key: str | None = None  # the image asked for last (Next steps from it)
        self._labels_mode = "pan_zoom"
        self._waiting_layers: list[Layer] = []  # the previous image's, while the next is read
        self._unshown: list[Layer] = []  # a new layer added hidden, shown on the next step
        self._saving = False  # corrections being written in a worker
        self._connect()

    def _arranged(self) -> list:
        moves = Container(
            widgets=[self._previous, self._next, self._save], layout="horizontal", labels=False
        )
        return [self._images_dir, self._results_dir, self._open_folder, self._annotate,
                self._images, moves, self._probability, self._region,
                self._status]  # fmt: skip

    def _connect(self) -> None:
        self._open_folder.changed.connect(self._on_open_folder)
        self._images.changed.connect(self._on_image_chosen)
        self._previous.changed.connect(self._on_previous)
        self._next.changed.connect(self._on_next)
        self._save.changed.connect(self._on_save)
        self._keys = {
            NEXT_KEY: lambda _viewer: self._on_next(),
            PREVIOUS_KEY: lambda _viewer: self._on_previous(),
            REGION_KEY: lambda _viewer: self._scores_view.next_region(),
        }
        for key, action in self._keys.items():
            self._viewer.bind_key(key, action, overwrite=True)
        self._closed = False
        self._watcher = watch_removal(self.native, self._on_closed)

    # -- the folder -----------------------------------------------------------------------------

    def open_folder(self, images_dir: str | Path, results_dir: str | Path) -> None:
        """Open a folder and its results; resume at the image opened last, if any."""
        self._images_dir.value, self._results_dir.value = Path(images_dir), Path(results_dir)
        self._on_open_folder()

    def _on_open_folder(self, _value: Any = None) -> None:
        if self._annotator.running:
            self._status.value = "Stop pre-annotating before opening another folder."
            return
        if self._leave() is None:
            return
        self._flush_calls()  # where the person is, written before it is read back
        try:
            session = ReviewSession(_folder(self._images_dir), _folder(self._results_dir))
        except GluonsegError as exc:
            show_error(str(exc))
            return
        self.session = session
        self._opening_key = None
        self._show_choices()
        last = session.last_key()
        index = session.index_of(last) if last is not None else None
        if index is not None:
            self.open_index(index)
        else:
            self._status.value = f"{len(session.items)} images; Next opens the first."

    def _image_choices(self, _widget: Any = None) -> list[tuple[str, str]]:
        session = getattr(self, "session", None)  # napari may ask before __init__ set it
        items = session.items if session is not None else []
        return [(item.describe(), item.key) for item in items]

    def _show_choices(self) -> None:
        self._choosing = True
        try:
            self._images.reset_choices()
            self._images.value = None if self.current is None else self.current.key
            self._images.tooltip = self._images.current_choice  # the whole name
        finally:
            self._choosing = False

    def _say(self, text: str) -> None:
        self._status.value = text

    # -- moving ---------------------------------------------------------------------------------

    def _on_next(self, _value: Any = None) -> None:
        self._step(+1)

    def _on_previous(self, _value: Any = None) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        session = self.session
        if session is None or not session.items:
            self._status.value = "Open a folder first."
            return
        found = None if self._opening_key is None else session.index_of(self._opening_key)
        here = -1 if found is None else found
        if here == -1 and delta < 0:
            here = len(session.items)
        target = here + delta
        if not 0 <= target < len(session.items):
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
        """Save the current image's corrections, then open image ``index``: read in a worker
        (unless read ahead), shown in the layers of the previous image where they can take it
        (napari collects garbage for each layer removed, ~0.2 s each), a step at a time."""
        session = self.session
        if session is None:
            return
        item = session.items[index]
        if self._saving:
            self._status.value = "Saving the corrections first: press again in a moment."
            return
        if self._edited():  # saved in a worker first (a 12 MP export: seconds), then opened
            self._save_in_background(lambda: self._open_key(item.key))
            return
        kept = self._leave(keep_layers=True)
        if kept is None:
            return
        # A Next while the previous one was read or shown: its layers not yet given out too,
        # shown (a new one waits hidden for a step).
        kept += [layer for layer in self._waiting_layers if layer not in kept]
        for layer in self._unshown:
            layer.visible = True
        self._unshown = []
        for layer in kept:
            if isinstance(layer, Labels) and layer.editable:
                self._labels_mode = layer.mode  # the tool in hand, for the next image's labels
                layer.editable = False  # saved: edits now would be lost with the image
        self._waiting_layers = kept
        self._opening_key = item.key
        self._opening += 1
        token, future = self._opening, self._read_ahead.claim(item)
        self._status.value = f"opening {item.key}..."
        old_kind = layer_kind(kept[0]) if kept else None
        in_background(
            lambda: _read(item, future, old_kind),
            lambda read: self._on_read(token, item, *read),
            lambda exc: self._on_read_failed(token, exc),
        )

    def _open_key(self, key: str) -> None:
        index = self.session.index_of(key) if self.session is not None else None
        if index is not None:
            self.open_index(index)

    def _on_read(
        self, token: int, item: ReviewItem, opened: OpenedItem, made: Layer | None
    ) -> None:
        if self._closed or token != self._opening or self.session is None:
            return  # the dock closed, or another image was asked for meanwhile
        session, kept = self.session, self._waiting_layers
        index = session.index_of(item.key)  # leaving may have saved and re-sorted
        if index is None:  # gone from the folder meanwhile
            remove_layers(self._viewer, kept)
            self._waiting_layers = []
            self._status.value = f"{item.key} is no longer in the folder."
            return
        self.current = item
        self._steps(token, self._open_layers(session, item, opened, kept, index, made))

    def _on_read_failed(self, token: int, exc: Exception) -> None:
        if self._closed or token != self._opening:
            return
        remove_layers(self._viewer, self._waiting_layers)
        self._waiting_layers = []
        self._status.value = f"could not open the image: {exc}"
        if isinstance(exc, GluonsegError):
            show_error(str(exc))
        else:
            raise exc

    def _steps(self, token: int, steps: Iterator[None]) -> None:
        """Run ``steps`` one per turn of the event loop (napari draws each layer's new data
        between them); stop if another image is asked for meanwhile."""
        if self._closed or token != self._opening:
            return
        try:
            next(steps)
        except StopIteration:
            return
        except GluonsegError as exc:
            show_error(str(exc))
            return
        if no_threads():
            self._steps(token, steps)
        else:
            QTimer.singleShot(STEP_DELAY_MS, lambda: self._steps(token, steps))

    def _open_layers(
        self,
        session: ReviewSession,
        item: ReviewItem,
        opened: OpenedItem,
        kept: list[Layer],
        index: int,
        made: Layer | None,
    ) -> Iterator[None]:
        """Show ``item`` in the layers ``kept`` from the previous image where they can take
        it, else in new ones: the image, then (a step later) its labels."""
        old_image, old_labels = [*kept, None, None][:2]
        image, new = show_image(self._viewer, opened.image, Path(item.key).name, old_image, made)
        self._layers = [image]
        self._waiting_layers = [old_labels] if old_labels is not None else []
        self._unshown = [image] if new else []
        yield  # in place: napari draws (uploads) the image; new, hidden: its visuals only
        if new:
            image.visible = True
            self._unshown = []
            yield  # its first draw
        export = opened.export
        self._waiting_layers = []
        if export is None or item.labels is None:
            remove_layers(self._viewer, [old_labels])
            self._viewer.reset_view()
        else:
            labels, new = self._show_labels(image, item, export, opened.scores, old_labels)
            if new:  # added hidden: napari's visuals for it this turn, its first draw the next
                self._unshown = [labels]
                yield
                labels.visible = True
                self._unshown = []
            self._scores_view.show(image.name, labels, export, opened.scores)
            self._viewer.layers.selection.active = labels
            self._viewer.reset_view()  # the new image's size, once both layers hold it
        self._read_ahead.call(session.remember, item.key)  # a synced write: off the GUI
        self._show_choices()
        self._status.value = item.describe() + (f"\n{item.error}" if item.error else "")
        items = session.items
        nearby = [items[k] for k in (index + 1, index - 1) if 0 <= k < len(items)]
        self._read_ahead.read_ahead(nearby)  # Next, then Previous

    def _show_labels(
        self,
        image: Layer,
        item: ReviewItem,
        export: LabelsExport,
        scores: ScoreGrid | None,
        old: Layer | None,
    ) -> tuple[Layer, bool]:
        """The labels export of ``item``, in ``old`` where it can take them; the layer, and
        whether it is new (hidden, to show)."""
        meta = {
            "role": "labels",
            "source_file": str(item.labels),
            "provenance": export.provenance,
            "written_digest": data_digest(export.labels),  # an edit changes the digest
        }
        name = labels_layer_name(image.name)
        data = labels_layer_data(export.labels, name, export.class_names, export.colors, meta, {})
        self._export = export
        labels, new = show_labels(self._viewer, data, old)
        if isinstance(old, Labels) and labels is old:  # read-only while read: its tool back
            labels.editable = True
            labels.mode = self._labels_mode
        hand_tracker(labels)  # from the saved labels on: what the person sets is known
        attach_scores(labels, scores, (0,) * labels.ndim)
        self._layers.append(labels)
        return labels, new

    @property
    def labels_layer(self) -> Layer | None:
        return self._layers[1] if len(self._layers) > 1 else None

    def _leave(self, keep_layers: bool = False) -> list[Layer] | None:
        """Save the current labels if edited, then remove the current layers (with
        ``keep_layers``, return them for the next image instead). None: the corrections could
        not be saved, so nothing was closed."""
        if not self._saved_or_unedited():
            return None
        kept = list(self._layers) if keep_layers else []
        remove_layers(self._viewer, [layer for layer in self._layers if layer not in kept])
        self._scores_view.clear()
        self._layers, self._export = [], None
        self.current = None
        return kept

    def _flush_calls(self) -> None:
        try:
            self._read_ahead.flush()
        except (OSError, GluonsegError) as exc:
            show_error(f"Could not record where the review stopped: {exc}")

    # -- saving ---------------------------------------------------------------------------------

    def _on_save(self, _value: Any = None) -> None:
        if self._saving:
            return
        if not self._edited():
            self._status.value = "Nothing to save: the labels are as opened."
            return
        self._save_in_background(None)

    def _edited(self) -> bool:
        """Whether the labels open were edited since opened or saved."""
        layer = self.labels_layer
        ready = self.session is not None and self._export is not None and self.current is not None
        return ready and layer is not None and not is_unedited_output(layer)

    def _saved_or_unedited(self) -> bool:
        """Whether the labels open may be closed: unedited, being saved, or saved now."""
        if self._saving or not self._edited():
            return True
        if self.save():
            return True
        self._status.value = "The corrections could not be saved: the image stays open."
        return False

    def save(self) -> bool:
        """Save the labels if they were edited since opened or saved, now (in this thread);
        True if saved."""
        if not self._edited() or self.current is None:
            return False
        layer, key, write = self.labels_layer, self.current.key, self._corrections_writer()
        try:
            record, digest = write()
        except (GluonsegError, OSError) as exc:
            show_error(f"Could not save the corrections of {key}: {exc}")
            return False
        self._saved(layer, key, record, digest)
        return True

    def _save_in_background(self, then: Callable[[], None] | None) -> None:
        """Save the edited labels in a worker (a 12 MP export takes seconds), the layer read-only
        meanwhile; then ``then()``. A failure says why and leaves the image open, editable."""
        layer, write = self.labels_layer, self._corrections_writer()
        assert layer is not None and self.current is not None
        key, mode, session = self.current.key, layer.mode, self.session
        layer.editable = False  # what is being written is what the layer holds
        self._saving = True
        self._status.value = f"saving the corrections of {key}..."

        def done(written: tuple[dict[str, Any], str]) -> None:
            self._saving = False
            self._editable_again(layer, mode)
            self._saved(layer, key, *written)
            if then is not None and not self._closed and self.session is session:
                then()  # not if another folder was opened meanwhile

        def failed(exc: Exception) -> None:
            self._saving = False
            self._editable_again(layer, mode)
            if not isinstance(exc, (GluonsegError, OSError)):
                raise exc
            show_error(f"Could not save the corrections of {key}: {exc}")
            self._status.value = "The corrections could not be saved: the image stays open."

        in_background(write, done, failed)

    def _corrections_writer(self) -> Callable[[], tuple[dict[str, Any], str]]:
        """What writes the labels as they are now (copied), callable in any thread: returns the
        provenance written and the labels' digest."""
        layer, session, export, item = self.labels_layer, self.session, self._export, self.current
        assert layer is not None and session is not None and export is not None and item
        meta = layer.metadata[METADATA_KEY]
        labels = np.array(layer.data)
        tracker = hand_tracker(layer, create=False)
        counts = tracker.provenance() if tracker is not None else None
        provenance = meta.get("provenance", {})
        names, colors = export.class_names, export.colors

        def write() -> tuple[dict[str, Any], str]:
            record = session.write_corrections(item, labels, names, colors, provenance, counts)
            return record, data_digest(labels)

        return write

    def _saved(self, layer: Layer, key: str, record: dict[str, Any], digest: str) -> None:
        """What saving ``key`` changes here: the layer's record of what is on disk, the list."""
        meta = layer.metadata[METADATA_KEY]
        meta["provenance"], meta["written_digest"] = record, digest
        session = self.session
        if session is None or layer is not self.labels_layer:
            return  # another image or folder was opened while it was written
        session.refresh()  # saving re-sorts the list
        index = session.index_of(key)
        if index is not None and self.current is not None and self.current.key == key:
            self.current = session.items[index]
        if not self._closed:
            self._status.value = f"Saved the corrections of {key}."
            self._show_choices()

    def _editable_again(self, layer: Layer, mode: str) -> None:
        if layer in self._viewer.layers and isinstance(layer, Labels):
            layer.editable = True
            layer.mode = mode

    # -- closing --------------------------------------------------------------------------------

    def _on_closed(self) -> None:
        """Save what was edited, close the image's layers (edits to them would not be saved) and
        give the keys back: the dock was closed. Corrections that cannot be saved stay open."""
        # Once: closing, then deleting, both call back (the latter maybe while being collected).
        if self.__dict__.get("_closed", True):
            return
        self._closed = True
        self._annotator.close()  # the image running finishes, written whole
        if self._leave() is None:
            show_error("The review's corrections could not be saved: their layers stay open.")
        remove_layers(self._viewer, self._waiting_layers)  # an image was being read
        self._waiting_layers = []
        try:
            self._read_ahead.close()
        except (OSError, GluonsegError) as exc:
            show_error(f"Could not record where the review stopped: {exc}")
        for key in self._keys:
            self._viewer.bind_key(key, None)
        self._keys = {}


def _read(
    item: ReviewItem, future: Future[OpenedItem] | None, old_kind: Any
) -> tuple[OpenedItem, Layer | None]:
    """The worker's part of opening ``item``: read, and the image layer made if the previous
    one (of ``old_kind``) cannot take it."""
    import_for_new_layers()
    opened = finish_reading(item, future)
    return opened, new_image_layer(opened.image, Path(item.key).name, old_kind)


def _folder(edit: FileEdit) -> Path:
    """The folder a directory field names."""
    value = edit.value
    if not isinstance(value, Path):
        raise GluonsegError(f"choose a folder for '{edit.label}'")
    return value


def _fit_long_names(combo: ComboBox) -> None:
    """Long image names neither widen the dock nor lose their ends: the box keeps a moderate
    width, the list shows each name in full or cut in the middle (names differ at the end)."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QComboBox

    native = combo.native
    native.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    native.setMinimumContentsLength(16)
    native.view().setTextElideMode(Qt.TextElideMode.ElideMiddle)
    native.view().setMinimumWidth(360)
