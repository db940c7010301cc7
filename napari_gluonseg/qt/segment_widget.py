"""The segmentation dock: its controls, the run's worker and the handlers that follow a run.

What a run does to layers (the edited-by-hand rule, merging, metadata, export) lives in the
Qt-free :mod:`napari_gluonseg.layers.results`; the widget gathers the user's choices, runs the core
in a worker, and applies the prepared result one small step per turn of the event loop. The
progress bar's moves are :mod:`.run_progress`; what the last result answers without a run (maps
asked for after it, the classes under the cursor) is :mod:`.segment_last_run`; learning a model
from the labels layers, :mod:`.segment_learn`.
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from magicgui.widgets import Container, ProgressBar, PushButton
from napari.layers import Image, Labels
from napari.qt.threading import GeneratorWorker, create_worker
from napari.utils.notifications import show_error, show_info, show_warning
from qtpy.QtCore import QTimer

from ..core.errors import GluonsegError
from ..core.events import Progress, Stage
from ..core.provenance import weights_note
from ..core.run.options import RunOptions
from ..core.run.segment import iter_segment, run_to_end
from ..core.run.stop import stop, stoppable
from ..layers.data import METADATA_KEY
from ..layers.hand_edits import hand_tracker
from ..layers.results import (
    EditedChoice,
    PreparedResult,
    ResultDestination,
    apply_steps,
    prepare_result,
)
from . import dialogs
from .controls import NEW_LAYER, RunControls
from .lifetime import watch_removal
from .messages import MessageArea, ScrollingDock
from .run_progress import RunProgress
from .segment_export import export_labels, labels_to_export
from .segment_last_run import LastRun
from .segment_learn import LayerLearning
from .threads import STEP_DELAY_MS, ClosingGeneratorWorker, no_threads

if TYPE_CHECKING:
    import napari


# Said when napari, not this dock, stopped the worker (closing any napari window does).
STOPPED_BY_NAPARI = (
    "stopped: napari stopped the run (a napari window was closed); nothing was added. "
    "Press Run to run again."
)


class SegmentWidget(ScrollingDock):
    """Segment an image layer with a GluonCV model; results become napari layers.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer whose layers are read and written.
    """

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self._viewer = viewer
        self.controls = RunControls(self._image_layer_choices, self._target_choices)
        self._run = PushButton(text="Run")
        self._cancel = PushButton(text="Cancel", enabled=False)
        self._export = PushButton(text="Export labels...")
        self._progress = ProgressBar(min=0, max=100, value=0, label="progress")
        self._status = MessageArea()
        self._probe = MessageArea(max_lines=3)
        super().__init__(widgets=self._arranged(), labels=True)
        self._run_progress = RunProgress(self._progress, self._following)
        self._last_run = LastRun(viewer, self._say)
        buttons = (self._run, self._cancel)
        self.learning = LayerLearning(viewer, self.controls, self._progress, self._status,
                                      buttons, lambda: self.running)  # fmt: skip
        self._worker: GeneratorWorker | None = None
        self._worker_threads: list[int] = []  # the thread the worker runs in, once it runs
        self._steps: Generator[str, None, list[str]] | None = None
        self._request: ResultDestination | None = None  # the run in progress
        self._stopping: str | None = None  # why the worker was asked to stop
        self._closed = False
        self._connect()

    def _arranged(self) -> list:
        c = self.controls
        buttons = Container(widgets=[self._run, self._cancel], layout="horizontal", labels=False)
        export = Container(
            widgets=[c.export_format, c.export_scores, self._export], layout="horizontal"
        )
        return [*c.main_widgets(), buttons, self._progress, self._status, self._probe,
                *c.advanced_widgets(), export]  # fmt: skip

    def _connect(self) -> None:
        c, viewer = self.controls, self._viewer
        c.classes.on_chosen.append(self._on_classes_chosen)
        c.say = self._say
        c.show_confidence.changed.connect(lambda on: self._on_map_ticked("confidence", on))
        c.show_margin.changed.connect(lambda on: self._on_map_ticked("margin", on))
        viewer.cursor.events.position.connect(self._on_cursor)
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
        viewer.layers.events.removed.connect(self._on_layer_removed)
        # napari's dock close button takes the widget out of the window without deleting it.
        self._watcher = watch_removal(self.native, self._on_closed)
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
        c = self.controls
        c.target.reset_choices()
        previous = c.image.value
        c.image.reset_choices()
        choices = c.image.choices
        active = self._viewer.layers.selection.active
        # Follow the active image layer; otherwise (e.g. our own output just became active)
        # keep the image that was picked.
        for candidate in (active, previous, *choices):
            if candidate is not None and candidate in choices:
                c.image.value = candidate
                return

    # -- running --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """A run is in progress (computing, being applied to the layers, or stopping), or a
        learning."""
        return (self._request is not None or self._worker is not None
                or self._steps is not None or self.learning.busy)  # fmt: skip

    def _on_run_clicked(self, _value: Any = None) -> None:
        if self.running:
            return
        try:
            request, crop, options = self.controls.run_request(self._viewer)
        except GluonsegError as exc:  # in the dock too: an earlier "done" must not stand
            self._status.value = f"not run: {exc}"
            self._progress.value = 0
            show_error(str(exc))
            return
        self._request = request
        self._run.enabled = False
        self._cancel.enabled = True
        self._run_progress.start()
        self._status.value = f"segmenting {request.image.name}..."
        if no_threads():
            self._compute_here(request, crop, options)
            return
        # Passing "errored" here also stops superqt from re-raising the error in the GUI thread.
        self._worker_threads = []
        self._worker = create_worker(
            _compute,
            request,
            crop,
            options,
            self._worker_threads,
            _start_thread=False,
            _worker_class=ClosingGeneratorWorker,
            _connect={
                "yielded": self._on_progress,
                "returned": self._on_computed,
                "errored": self._on_error,
                "aborted": self._on_aborted,
                "finished": self._on_worker_finished,
            },
        )
        self._worker.start()

    def _compute_here(self, request: ResultDestination, crop: Any, options: RunOptions) -> None:
        """The worker's job in the GUI thread (NOTHREADS_VARIABLE set: scripts and tests where
        threading is not the point), with the same handlers in the same order."""
        try:
            prepared = run_to_end(_compute(request, crop, options, []), self._on_progress)
        except Exception as exc:  # what the worker's "errored" would carry
            self._on_error(exc)
        else:
            self._on_computed(prepared)
        self._on_worker_finished()

    def _on_cancel_clicked(self, _value: Any = None) -> None:
        self.learning.cancel()
        self._stop("cancelled")

    def _stop(self, why: str) -> None:
        """End the run in progress, whatever stage it is in; nothing more is added."""
        if self._request is None:
            return
        if self._worker is not None:
            self._status.value = f"{why}: stopping..."
            self._worker.quit()
            for thread in self._worker_threads:  # a network call may take seconds: end it
                stop(thread)
            self._request = None  # a result that still arrives belongs to no run
            self._stopping = why  # said when the worker has finished
        elif self._steps is not None:
            self._steps.close()
            self._end_run(why)

    def _on_progress(self, event: Progress) -> None:
        if self._closed or self._request is None:  # late events of a stopped run
            return
        self._status.value = self._run_progress.follow(event)

    def _following(self) -> bool:
        """Whether the bar still follows a run: one going, in an open dock."""
        return self._request is not None and not self._closed

    def _on_computed(self, prepared: PreparedResult) -> None:
        if self._closed or self._request is not prepared.request:
            return
        image = prepared.request.image
        if image not in self._viewer.layers:
            self._end_run(f"'{image.name}' was removed during the run; nothing was added")
            return
        self._steps = apply_steps(self._viewer, prepared, self._ask_about_edits)
        self._last_run.prepared = prepared
        self._apply_next_step()

    def _apply_next_step(self) -> None:
        """One step of applying the result, then back to the event loop (no long GUI stall)."""
        if self._steps is None or self._closed:
            return
        try:
            message = next(self._steps)
        except StopIteration as done:
            self._steps = None
            self._finish(done.value)
            return
        except GluonsegError as exc:
            self._steps = None
            self._end_run(f"failed: {exc}", error=True)
            return
        self._run_progress.move(Progress(Stage.LAYERS, 1, 2, message))
        self._status.value = message
        # A short delay, not 0: zero timers run before other timers and could starve them.
        QTimer.singleShot(STEP_DELAY_MS, self._apply_next_step)

    def _finish(self, written: list[str]) -> None:
        last = self._last_run.prepared
        self._end_run(f"done: {', '.join(written)}" if written else "result discarded")
        if written and last is not None:
            self._status.value += f"\n{weights_note(last.result.provenance)}"
            self._progress.value = 100
            # Classes picked while the run was going: their maps from the kept scores.
            self._on_classes_chosen(self.controls.classes.value)
        if not written:
            self._last_run.prepared = None

    def _ask_about_edits(self, layer_name: str, pixels: int) -> EditedChoice:
        """Ask before a run replaces pixels a person may have set; where the layer's edits
        were tracked from the run's output on, ``pixels`` are exactly the edited ones the run
        would change, and keeping them is offered."""
        layers = self._viewer.layers  # a LayerList: no .get()
        layer = layers[layer_name] if layer_name in layers else None  # noqa: SIM401
        tracker = hand_tracker(layer, create=False) if layer is not None else None
        if tracker is None or not tracker.complete:
            return dialogs.ask_about_edited_labels(self.native, layer_name, pixels)
        return dialogs.ask_about_edited_labels(self.native, layer_name, pixels, hand_set=pixels)

    def _on_error(self, exc: Exception) -> None:
        if not self._closed and self._request is not None:
            self._end_run(f"failed: {exc}", error=True)

    def _on_aborted(self) -> None:
        if self._closed:
            return
        self._progress.value = 0
        if self._stopping is None and self._request is not None:
            # Not this dock's Cancel: napari stops every worker when one of its windows closes.
            self._request = None
            self._stopping = STOPPED_BY_NAPARI

    def _on_worker_finished(self) -> None:
        self._worker = None
        if self._stopping is not None:  # the worker may have finished before it was stopped
            # Said in the dock only: a notification drawn over this canvas while napari tears
            # another window's canvas down left this one's GL buffers invalid (GLError at
            # every later draw; an abort in Mesa on a busy machine).
            self._end_run(self._stopping)
            self._stopping = None
        elif self._request is None and self._steps is None and not self._closed:
            self._run.enabled, self._cancel.enabled = True, False

    def _end_run(self, status: str, error: bool = False) -> None:
        self._request = None
        self._steps = None
        if self._closed:
            return
        self._status.value = status
        if error:
            show_error(status)
        self._run.enabled = self._worker is None
        self._cancel.enabled = False

    def _on_layer_removed(self, event: Any) -> None:
        request = self._request
        if request is not None and event.value is request.image:
            why = f"stopped: '{request.image.name}' was removed during the run"
            show_warning(f"Segmentation {why}; nothing was added.")
            self._stop(why)

    def _on_closed(self) -> None:
        """The dock was closed (napari's close button) or the widget deleted: stop for good."""
        # Qt may report the deletion after Python's garbage collector has cleared this object.
        if self.__dict__.get("_closed", True):
            return
        if self._request is not None:
            show_info("Segmentation stopped: its dock was closed; nothing was added.")
            self._stop("stopped: the dock was closed")
        self._closed = True
        self.learning.close()
        self._last_run.close()
        for event in self._layer_events:
            event.disconnect(self._on_layers_changed)
        self._viewer.layers.events.removed.disconnect(self._on_layer_removed)
        self._viewer.cursor.events.position.disconnect(self._on_cursor)

    # -- export ----------------------------------------------------------------------------------

    def _on_export_clicked(self, _value: Any = None) -> None:
        layer = labels_to_export(self._viewer, self.controls)
        if layer is None:
            show_error("Nothing to export: run first, or choose a labels layer in 'write into'.")
            return
        folder = dialogs.ask_export_folder(self.native)
        if folder is not None:
            self.export_labels(layer, folder)

    def export_labels(self, layer: Labels, folder: str | Path) -> dict[str, Path]:
        """Write ``layer`` as it is now (hand corrections included) for training; an earlier
        export of the same name is only replaced if the user says so."""
        paths, self._status.value = export_labels(self.native, layer, folder, self.controls)
        return paths

    # -- answers from the last result, without running the network again ---------------------

    def _on_classes_chosen(self, names: list[str]) -> None:
        """Picking a class after a run adds its probability layer from the kept scores (picked
        during a run: when the run ends)."""
        if self._request is None:
            self._last_run.add_class_maps(names, self.controls.model.value)

    def _on_map_ticked(self, kind: str, on: bool) -> None:
        """Ticking confidence or margin after a run adds its layer from that run at once."""
        if on and self._request is None:  # during a run: it comes with the run
            self._last_run.add_map(kind)

    def _on_cursor(self, _event: Any = None) -> None:
        """The top-5 classes under the cursor, interpolated from the kept scores."""
        self._probe.value = self._last_run.probe(self._viewer.cursor.position)

    def _say(self, text: str) -> None:
        self._status.value = text


def _compute(
    request: ResultDestination, crop: Any, options: RunOptions, threads: list[int]
) -> Generator[Progress, None, PreparedResult]:
    """The worker: the core's run, then the layer data built here rather than in the GUI.
    ``threads`` learns the thread it runs in (Cancel ends the network call running there)."""
    with stoppable() as thread:  # a Cancel also ends the network calls to come
        threads.append(thread)
        result = yield from iter_segment(crop, options)
    yield Progress(Stage.LAYERS, 0, 2, "preparing layers")
    return prepare_result(request, result)
