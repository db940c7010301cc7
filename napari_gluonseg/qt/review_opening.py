"""The review dock's opening of an image: its corrections saved first, then the image read in a
worker (unless read ahead) and shown in the layers of the previous image where they can take it
(napari collects garbage for each layer removed, ~0.2 s each), a step per turn of the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari.layers import Labels, Layer
from napari.utils.notifications import show_error
from qtpy.QtCore import QTimer

from ..core.batch.review import OpenedItem, ReadAhead, ReviewItem, ReviewSession, finish_reading
from ..core.errors import GluonsegError
from ..core.files.read_export import LabelsExport
from ..core.run.scores import ScoreGrid
from ..layers.data import data_digest, import_for_new_layers, labels_layer_data, labels_layer_name
from ..layers.hand_edits import hand_tracker
from ..layers.kept_scores import attach_scores
from ..layers.reuse import layer_kind, new_image_layer, remove_layers, show_image, show_labels
from .messages import MessageArea
from .review_scores import ScoresView
from .threads import STEP_DELAY_MS, in_background, no_threads

if TYPE_CHECKING:
    import napari


class ImageOpening:
    """Opening the images of the review one at a time, mixed into the dock
    (:class:`~.review_widget.ReviewWidget`), which holds the state read and set here."""

    # The dock's.
    _viewer: napari.viewer.Viewer
    session: ReviewSession | None
    current: ReviewItem | None
    _layers: list[Layer]  # the image and labels layers of ``current``
    _export: LabelsExport | None  # the labels as opened (class table)
    _read_ahead: ReadAhead  # the neighbours of the image open, read in the background
    _opening: int  # counts the images asked for: only the last one asked is shown
    _opening_key: str | None  # the image asked for last (Next steps from it)
    _labels_mode: str  # the tool in hand, for the next image's labels
    _waiting_layers: list[Layer]  # the previous image's, while the next is read
    _unshown: list[Layer]  # a new layer added hidden, shown on the next step
    _saving: bool
    _closed: bool
    _status: MessageArea
    _scores_view: ScoresView
    _show_choices: Callable[[], None]
    # Of :class:`~.review_saving.CorrectionsSaving`.
    _edited: Callable[[], bool]
    _saved_or_unedited: Callable[[], bool]
    _save_in_background: Callable[[Callable[[], None] | None], None]

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


def _read(
    item: ReviewItem, future: Future[OpenedItem] | None, old_kind: Any
) -> tuple[OpenedItem, Layer | None]:
    """The worker's part of opening ``item``: read, and the image layer made if the previous
    one (of ``old_kind``) cannot take it."""
    import_for_new_layers()
    opened = finish_reading(item, future)
    return opened, new_image_layer(opened.image, Path(item.key).name, old_kind)
