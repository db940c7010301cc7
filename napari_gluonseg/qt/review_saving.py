"""The review dock's saving of the corrections of the image open: when the person leaves the
image or closes the dock (in this thread), or presses Save or Next (in a worker: a 12 MP export
takes seconds), through :meth:`~napari_gluonseg.core.batch.review.ReviewSession.write_corrections`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.layers import Labels, Layer
from napari.utils.notifications import show_error

from ..core.batch.review import ReviewItem, ReviewSession
from ..core.errors import GluonsegError
from ..core.files.read_export import LabelsExport
from ..layers.data import METADATA_KEY, data_digest, is_unedited_output
from ..layers.hand_edits import hand_tracker
from .messages import MessageArea
from .threads import in_background

if TYPE_CHECKING:
    import napari


class CorrectionsSaving:
    """Saving the image open, mixed into the dock (:class:`~.review_widget.ReviewWidget`), which
    holds the state read and set here."""

    # The dock's.
    _viewer: napari.viewer.Viewer
    session: ReviewSession | None
    current: ReviewItem | None
    _export: LabelsExport | None
    _saving: bool  # corrections being written in a worker
    _closed: bool
    _status: MessageArea
    _show_choices: Callable[[], None]

    @property
    def labels_layer(self) -> Layer | None:
        raise NotImplementedError  # :class:`~.review_opening.ImageOpening`'s, before this

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
