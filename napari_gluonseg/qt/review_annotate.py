"""The review dock's "Pre-annotate missing" button: the open folder's images without results (or
whose run failed) segmented by a batch in a background worker, with the settings of the folder's
results (:meth:`~napari_gluonseg.core.batch.review.ReviewSession.iter_pre_annotate`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from magicgui.widgets import PushButton
from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils.notifications import show_error

from ..core.batch.review import ReviewSession
from ..core.batch.summary import BatchSummary, ImageReport
from .threads import ClosingGeneratorWorker

ANNOTATE_TEXT = "Pre-annotate missing"


class PreAnnotation:
    """The button and its worker: a click starts pre-annotating, a second one stops after the
    image running (written whole).

    Parameters
    ----------
    session : callable
        The dock's open session (None: no folder open).
    on_image : callable
        Called after each image ends, once the session has re-read its results.
    say : callable
        Shows a line in the dock's status.
    """

    def __init__(
        self,
        session: Callable[[], ReviewSession | None],
        on_image: Callable[[], None],
        say: Callable[[str], None],
    ) -> None:
        self.button = PushButton(
            text=ANNOTATE_TEXT,
            tooltip="Pre-annotate the images without results (or whose run failed) in the "
            "background, with the settings of this folder's results; corrections are kept.",
        )
        self._session = session
        self._on_image = on_image
        self._say = say
        self._worker: GeneratorWorker | None = None
        self._stop = False
        self._closed = False
        self.button.changed.connect(self._on_click)

    @property
    def running(self) -> bool:
        return self._worker is not None

    def close(self) -> None:
        """The dock is closed: the image running finishes, no other starts, nothing is shown."""
        self._closed = True
        self._stop = True

    def _on_click(self, _value: Any = None) -> None:
        """Start pre-annotating the images without results, or stop after the current one."""
        if self._worker is not None:
            self._stop = True
            self.button.text = "Stopping after this image..."
            return
        session = self._session()
        if session is None:
            self._say("Open a folder first.")
            return
        self._stop = False
        # Planning may fetch weights: it runs in the worker too.
        self._worker = create_worker(
            session.iter_pre_annotate,
            lambda: self._stop,
            _start_thread=False,
            _worker_class=ClosingGeneratorWorker,
            _connect={
                "yielded": self._on_annotated,
                "returned": self._on_done,
                "errored": self._on_error,
                "finished": self._on_finished,
            },
        )
        self.button.text = "Stop pre-annotating"
        self._say("Pre-annotating the images without results...")
        self._worker.start()

    def _on_annotated(self, report: ImageReport) -> None:
        if not self._closed:
            image_annotated(self._session(), self._on_image, self._say, report)

    def _on_done(self, summary: BatchSummary) -> None:
        if self._closed:
            return
        stopped = "Stopped: " if summary.stopped else "Pre-annotated: "
        self._say(f"{stopped}{batch_counts(summary)}.")

    def _on_error(self, exc: BaseException) -> None:
        show_error(f"Pre-annotating failed: {exc}")

    def _on_finished(self) -> None:
        self._worker = None
        if not self._closed:
            self.button.text = ANNOTATE_TEXT


def image_annotated(
    session: ReviewSession | None,
    on_image: Callable[[], None],
    say: Callable[[str], None],
    report: ImageReport,
) -> None:
    """An image of a pre-annotating worker ended: the session re-reads its results, the dock
    shows them, and the status says how the image ended (with its error, if it failed)."""
    if session is None:
        return
    session.refresh()
    on_image()
    why = f": {report.error}" if report.error else ""
    say(f"{report.key}: {report.status}{why}")


def batch_counts(summary: BatchSummary) -> str:
    """``3 done, 0 skipped, 1 failed``."""
    return ", ".join(f"{summary.count(s)} {s}" for s in ("done", "skipped", "failed"))
