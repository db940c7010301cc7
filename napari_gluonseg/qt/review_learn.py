"""The review dock's "Learn from corrected images" (issue 32): a model learned from the open
folder's corrections, saved in the results folder, then offered to pre-annotate the rest.

The worker reads the corrected images (:func:`~..core.learn.corrected.iter_corrected_folder`),
learns (:func:`~..core.learn.learn.iter_learn`) and saves the model as
``<results>/learned/<name>.onnx`` (a new name, never over a file): the GUI thread only shows
its progress. Cancel ends it within a second (the generator closed, a network call running
ended, the fits asked between iterations) and writes nothing. The summary (the held-out IoU per
class) is said in the dock's message area; "Pre-annotate the rest with it" then does again,
with the learned model, every result no one corrected
(:meth:`~..core.batch.review.ReviewSession.iter_pre_annotate`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from magicgui.widgets import ProgressBar, PushButton
from napari.qt.threading import GeneratorWorker
from napari.utils.notifications import show_error

from ..core.batch.review import ReviewSession, ReviewStatus
from ..core.batch.summary import BatchSummary, ImageReport
from ..core.errors import SegmentationCancelled
from ..core.events import Progress, Stage
from ..core.learn.corrected import iter_corrected_folder
from ..core.learn.learn import Learned, iter_learn, save_learned
from ..core.models.registry import DEFAULT_MODEL
from ..core.run.stop import stoppable
from .review_annotate import batch_counts, image_annotated
from .threads import start_generator_worker, stop_learning

LEARN_TEXT = "Learn from corrected images"
CANCEL_TEXT = "Cancel learning"
USE_TEXT = "Pre-annotate the rest with it"
LEARNED_FOLDER = "learned"  # in the results folder
FEATURES_SHARE = 80  # of the bar: the images' features; the fits take the rest


@dataclass(frozen=True)
class LearnedModel:
    """What the worker returns: the learning and the file it was saved to."""

    learned: Learned
    path: Path


def new_learned_path(folder: Path, images: int) -> Path:
    """``folder/learned-from-N-images.onnx``, numbered when that name is taken."""
    stem = f"learned-from-{images}-image{'s' if images != 1 else ''}"
    path, n = folder / f"{stem}.onnx", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.onnx"
    return path


def _learn(
    session: ReviewSession, threads: list[int], stopping: threading.Event
) -> Generator[Progress, None, LearnedModel]:
    """The worker: the corrections read, the learning, the model saved (unless cancelled)."""
    with stoppable() as thread:  # Cancel ends the network call running here
        threads.append(thread)
        folder = yield from iter_corrected_folder(
            session.images_dir, session.results_dir, session.recursive
        )
        learned = yield from iter_learn(
            folder.images,
            folder.class_names,
            folder.colors,
            folder.model_name or DEFAULT_MODEL,
            folder.weights,
            should_stop=stopping.is_set,
        )
        if stopping.is_set():
            raise SegmentationCancelled("Learning cancelled.")
        yield Progress(Stage.POSTPROCESS, 2, 2, "saving the learned model...")
        out = session.results_dir / LEARNED_FOLDER
        out.mkdir(exist_ok=True)
        path = save_learned(learned, new_learned_path(out, len(folder.images)))
    return LearnedModel(learned, path)


class ReviewLearning:
    """The Learn button (Cancel while it learns), its progress bar, and "Pre-annotate the rest
    with it" once a model is learned.

    Parameters
    ----------
    session : callable
        The dock's open session (None: no folder open).
    on_image : callable
        Called after each image pre-annotated, once the session has re-read its results.
    say : callable
        Shows a message in the dock's message area.
    others_busy : callable
        Whether the dock's own pre-annotation runs (both write the results folder).
    """

    def __init__(
        self,
        session: Callable[[], ReviewSession | None],
        on_image: Callable[[], None],
        say: Callable[[str], None],
        others_busy: Callable[[], bool],
    ) -> None:
        self.button = PushButton(text=LEARN_TEXT)
        self.bar = ProgressBar(value=0, min=0, max=100, visible=False)
        self.use = PushButton(text=USE_TEXT, visible=False, tooltip=_USE_TOOLTIP)
        self._session, self._on_image, self._say = session, on_image, say
        self._others_busy = others_busy
        self._worker: GeneratorWorker | None = None
        self._annotating: GeneratorWorker | None = None
        self._threads: list[int] = []
        self._stopping = threading.Event()
        self._stop_annotating = False
        self._outcome: LearnedModel | BaseException | None = None
        self._percent = 0
        self._closed = False
        self.model: Path | None = None  # the model learned last, offered to pre-annotate with
        self.button.changed.connect(self._on_learn_clicked)
        self.use.changed.connect(self._on_use_clicked)
        self.button.enabled, self.button.tooltip = False, _NONE_TOOLTIP  # no folder yet

    @property
    def running(self) -> bool:
        """Learning, or pre-annotating with the learned model."""
        return self._worker is not None or self._annotating is not None

    def update(self) -> None:
        """Enable Learn where the open folder has corrected images (the list was re-read)."""
        if self._worker is not None:
            return
        session = self._session()
        corrected = session is not None and any(
            i.status is ReviewStatus.REVIEWED for i in session.items
        )
        self.button.enabled = corrected and self._annotating is None
        self.button.tooltip = _LEARN_TOOLTIP if corrected else _NONE_TOOLTIP

    def forget(self) -> None:
        """Another folder was opened: the model learned from the last one is not offered."""
        self.model = None
        self.use.visible = False
        self.bar.visible = False
        self.update()

    def close(self) -> None:
        """The dock closed: learning stops, writing nothing; pre-annotating stops after the
        image running; no widget of it changes from now on."""
        self.cancel()
        self._stop_annotating = True
        self._closed = True

    # -- learning -------------------------------------------------------------------------------

    def _on_learn_clicked(self, _value: Any = None) -> None:
        if self._worker is not None:
            self.cancel()
            return
        session = self._session()
        if session is None:
            self._say("Open a folder first.")
            return
        if self._others_busy() or self._annotating is not None:
            self._say("Stop pre-annotating before learning.")
            return
        self._stopping = threading.Event()
        self._threads = []
        self._outcome, self._percent = None, 0
        self.bar.value, self.bar.visible = 0, True
        self.use.visible = False
        self.button.text = CANCEL_TEXT
        self._say("Learning from the corrected images...")
        self._worker = start_generator_worker(
            _learn,
            session,
            self._threads,
            self._stopping,
            yielded=self._on_progress,
            returned=self._on_returned,
            errored=self._on_returned,
            finished=self._on_learning_finished,
        )

    def cancel(self) -> None:
        """Stop the learning; nothing is written. Its end is said when the worker is done."""
        if self._worker is None or self._stopping.is_set():
            return
        stop_learning(self._worker, self._stopping, self._threads)
        if not self._closed:
            self.button.text = "Cancelling..."

    def _on_progress(self, event: Progress) -> None:
        if self._closed or self._stopping.is_set():
            return
        self._say(event.message)
        if event.stage is Stage.INFER and event.message.startswith("features of"):
            self._percent = max(self._percent, FEATURES_SHARE * event.done // event.total)
        elif event.stage is Stage.POSTPROCESS and event.total:
            share = (100 - FEATURES_SHARE) * event.done // event.total
            self._percent = max(self._percent, FEATURES_SHARE + share)
        self.bar.value = self._percent

    def _on_returned(self, outcome: LearnedModel | BaseException) -> None:
        self._outcome = outcome

    def _on_learning_finished(self) -> None:
        self._worker = None
        outcome, cancelled = self._outcome, self._stopping.is_set()
        if self._closed:
            return
        self.button.text = LEARN_TEXT
        self.bar.visible = False
        self.update()
        if cancelled or isinstance(outcome, SegmentationCancelled):
            self._say("Learning cancelled: nothing was learned or written.")
        elif isinstance(outcome, LearnedModel):
            self.model = outcome.path
            self.use.visible = True
            self._say(  # the score first: whether to trust it, in the lines shown
                f"{outcome.learned.summary()}\nSaved as {LEARNED_FOLDER}/{outcome.path.name} "
                f"in the results folder. '{USE_TEXT}' redoes the results no one corrected; "
                "the file is also a model to choose elsewhere."
            )
        else:
            why = outcome if outcome is not None else "the learning stopped"
            self._say(f"Not learned: {why}")
            show_error(f"Not learned: {why}")

    # -- pre-annotating with it -----------------------------------------------------------------

    def _on_use_clicked(self, _value: Any = None) -> None:
        """Pre-annotate with the learned model, or stop after the image running."""
        if self._annotating is not None:
            self._stop_annotating = True
            self.use.text = "Stopping after this image..."
            return
        session, model = self._session(), self.model
        if session is None or model is None:
            return
        if self._others_busy() or self._worker is not None:
            self._say("Stop pre-annotating before starting another.")
            return
        self._stop_annotating = False
        self.use.text = "Stop pre-annotating"
        self.button.enabled = False
        self._say(f"Pre-annotating the results no one corrected with {model.name}...")
        self._annotating = start_generator_worker(
            session.iter_pre_annotate,
            lambda: self._stop_annotating,
            str(model),
            yielded=self._on_annotated,
            returned=self._on_annotating_done,
            errored=self._on_annotating_error,
            finished=self._on_annotating_finished,
        )

    def _on_annotated(self, report: ImageReport) -> None:
        if not self._closed:
            image_annotated(self._session(), self._on_image, self._say, report)

    def _on_annotating_done(self, summary: BatchSummary) -> None:
        if self._closed:
            return
        ended = "Stopped" if summary.stopped else "Pre-annotated with the learned model"
        self._say(f"{ended}: {batch_counts(summary)} (corrected images are kept).")

    def _on_annotating_error(self, exc: BaseException) -> None:
        if not self._closed:
            self._say(f"Pre-annotating failed: {exc}")
        show_error(f"Pre-annotating with the learned model failed: {exc}")

    def _on_annotating_finished(self) -> None:
        self._annotating = None
        if self._closed:
            return
        self.use.text = USE_TEXT
        session = self._session()
        if session is not None:
            session.refresh()
            self._on_image()
        self.update()


_LEARN_TOOLTIP = (
    "Learn a model from this folder's corrected images on the features of the model that "
    "pre-annotated them, in the background (Cancel stops it); saved in the results folder's "
    "'learned' folder, with its score on images it was not fitted on."
)
_NONE_TOOLTIP = "No corrected image in this folder yet: correct and save some, then learn."
_USE_TOOLTIP = (
    "Redo, with the model just learned, the results of this folder no one corrected and the "
    "images without results; corrected images are kept."
)
