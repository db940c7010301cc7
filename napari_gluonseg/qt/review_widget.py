"""The "Review folder" dock: walk through a folder's pre-annotations, correct, save, move on;
or through a COCO, Pascal VOC, CVAT mask, Cityscapes or YOLO dataset made elsewhere, saved back
in its own format (:mod:`~..layers.review_dataset`).

The rules (which images, their order, where the person stopped, how corrections are saved) live
in the Qt-free :mod:`~..core.batch.review`; this widget opens the layers and saves on leaving.
Opening an image is :mod:`.review_opening`, saving its corrections :mod:`.review_saving`;
pre-annotating in the background is :mod:`.review_annotate`, learning from the corrections
:mod:`.review_learn`; what the kept scores show (probabilities, uncertain regions) is
:mod:`.review_scores`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.types import FileDialogMode
from magicgui.widgets import ComboBox, Container, FileEdit, PushButton
from napari.layers import Layer
from napari.utils.notifications import show_error

from ..core.batch.review import ReadAhead, ReviewItem, ReviewSession
from ..core.errors import GluonsegError
from ..core.files.read_export import LabelsExport
from ..layers.reuse import remove_layers
from ..layers.review_dataset import DatasetSession
from .lifetime import watch_removal
from .messages import MessageArea, ScrollingDock
from .review_annotate import PreAnnotation
from .review_learn import ReviewLearning
from .review_opening import ImageOpening
from .review_saving import CorrectionsSaving
from .review_scores import ScoresView

if TYPE_CHECKING:
    import napari

NEXT_KEY, PREVIOUS_KEY, REGION_KEY = "Alt-Right", "Alt-Left", "Alt-Down"


class ReviewWidget(ScrollingDock, ImageOpening, CorrectionsSaving):
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
        self._dataset_dir = FileEdit(
            mode=FileDialogMode.EXISTING_DIRECTORY,
            label="dataset",
            tooltip="A COCO, VOC, CVAT mask, Cityscapes or YOLO dataset to correct, saved in its "
            "own format",
        )
        self._open_dataset = PushButton(text="Open dataset")
        self._annotator = PreAnnotation(self._folder_session, self._show_choices, self._say)
        self._annotate = self._annotator.button
        self._learner = ReviewLearning(
            self._folder_session, self._show_choices, self._say, lambda: self._annotator.running
        )
        self._learn = self._learner.button
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
        learner = self._learner
        return [self._images_dir, self._results_dir, self._open_folder, self._dataset_dir,
                self._open_dataset, self._annotate, self._learn, learner.bar, learner.use,
                self._images, moves, self._probability, self._region, self._status]  # fmt: skip

    def _connect(self) -> None:
        self._open_folder.changed.connect(self._on_open_folder)
        self._open_dataset.changed.connect(self._on_open_dataset)
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

    def open_dataset(self, path: str | Path) -> None:
        """Open a dataset folder (COCO, VOC, CVAT masks, Cityscapes, YOLO) to correct its labels."""
        self._dataset_dir.value = Path(path)
        self._on_open_dataset()

    def _on_open_folder(self, _value: Any = None) -> None:
        self._start(lambda: ReviewSession(_folder(self._images_dir), _folder(self._results_dir)))

    def _on_open_dataset(self, _value: Any = None) -> None:
        self._start(lambda: DatasetSession(_folder(self._dataset_dir)))

    def _start(self, make_session: Callable[[], ReviewSession]) -> None:
        """Leave the image open (saving its corrections), then review what ``make_session``
        opens; resume at the image opened last, if any."""
        if self._annotator.running or self._learner.running:
            self._status.value = "Stop pre-annotating or learning before opening another folder."
            return
        if self._leave() is None:
            return
        self._flush_calls()  # where the person is, written before it is read back
        try:
            session = make_session()
        except GluonsegError as exc:
            show_error(str(exc))
            return
        self.session = session
        self._opening_key = None
        self._learner.forget()
        self._annotate.enabled = not isinstance(session, DatasetSession)
        self._show_choices()
        last = session.last_key()
        index = session.index_of(last) if last is not None else None
        if index is not None:
            self.open_index(index)
        else:
            self._status.value = f"{len(session.items)} images; Next opens the first."

    def _folder_session(self) -> ReviewSession | None:
        """The session pre-annotating and learning work on: a folder's, not a dataset's."""
        session = self.session
        return None if isinstance(session, DatasetSession) else session

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
        self._learner.update()  # corrected images, or none

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

    # -- closing --------------------------------------------------------------------------------

    def _on_closed(self) -> None:
        """Save what was edited, close the image's layers (edits to them would not be saved) and
        give the keys back: the dock was closed. Corrections that cannot be saved stay open."""
        # Once: closing, then deleting, both call back (the latter maybe while being collected).
        if self.__dict__.get("_closed", True):
            return
        self._closed = True
        self._annotator.close()  # the image running finishes, written whole
        self._learner.close()  # learning stops, writing nothing
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
