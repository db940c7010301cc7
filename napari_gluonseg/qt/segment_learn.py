"""The segmentation dock's "Learn from labels layers…" (issue 32): a model learned from the
labels layers in the viewer, which becomes the dock's model choice.

Each labels layer the dock made (its class table in its features and colours) whose source
image is still in the viewer teaches a head on the features of the dock's model, the pixels set
by hand (:mod:`..layers.hand_edits`) weighing more. The GUI thread only gathers references: the
worker copies the layers' data, learns (:func:`~napari_gluonseg.core.learn.learn.iter_learn`)
and, once the person has chosen a file, saves the model. Cancel ends it within a second and
writes nothing. The summary (the held-out IoU per class) is said in the dock's message area.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from magicgui.widgets import ProgressBar, PushButton
from napari.layers import Image, Labels
from napari.qt.threading import GeneratorWorker
from napari.utils.notifications import show_error

from ..core.edits.record import KEPT_FROM_RUNS
from ..core.errors import GluonsegError, LearningError, SegmentationCancelled
from ..core.events import Progress, Stage
from ..core.learn.learn import CorrectedImage, Learned, iter_learn, save_learned
from ..core.models.learned import is_model_file, read_learned
from ..core.run.segment import run_to_end
from ..core.run.stop import stoppable
from ..layers.data import METADATA_KEY, is_unedited_output
from ..layers.hand_edits import HandTracker, hand_tracker
from ..layers.plugin_layers import layer_class_names
from .controls import RunControls, _one_file
from .messages import MessageArea
from .threads import in_background, no_threads, start_generator_worker, stop_learning

LEARN_BUTTON = "Learn from labels layers…"
LEARNED_FOLDER = "napari-gluonseg-learned"  # in the home folder: where the save dialog opens
# A labels layer the dock made: its current output, or one kept as the person's own edits.
LEARNABLE_ROLES = ("labels", "kept edits")
FEATURES_SHARE = 80  # of the bar: the images' features; the fits take the rest


@dataclass(frozen=True)
class LayerSource:
    """One labels layer to learn from, as references (the worker copies them): named after
    its image, the image's data, the labels' data, what tracks the pixels set by hand."""

    name: str
    image: Any
    labels: Any
    tracker: HandTracker | None
    image_options: dict[str, Any] = field(default_factory=dict)  # as a run of the image has


@dataclass(frozen=True)
class LabelsSources:
    """The labels layers to learn from and the class table they share."""

    layers: tuple[LayerSource, ...]
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]


def labels_sources(
    viewer: Any, image_options: Callable[[Image], dict[str, Any]] | None = None
) -> LabelsSources:
    """The viewer's labels layers to learn from, one per image (an edited one first); raises
    :class:`LearningError` where there is none, or where they label different classes.
    ``image_options``: how a run would feed an image layer to the network (the same for
    learning); the scale is the one the run that made the labels had, where it says."""
    images = {
        layer.name: layer
        for layer in viewer.layers
        if isinstance(layer, Image) and METADATA_KEY not in layer.metadata and not layer.multiscale
    }
    chosen: dict[str, Any] = {}
    for layer in viewer.layers:
        meta = layer.metadata.get(METADATA_KEY, {}) if isinstance(layer, Labels) else {}
        source = str(meta.get("source_image"))
        if meta.get("role") not in LEARNABLE_ROLES or source not in images:
            continue
        if source not in chosen or is_unedited_output(chosen[source]):
            chosen[source] = layer
    if not chosen:
        raise LearningError(
            "No labels layer to learn from: run this dock on an image, correct its labels "
            "layer, and keep the image in the viewer."
        )
    table, first, layers = None, "", []
    for source, layer in chosen.items():
        names = tuple(layer_class_names(layer, 0))
        cmap = layer.colormap.map(np.arange(1, len(names) + 1))
        colors = tuple(tuple(int(c * 255 + 0.5) for c in rgba[:3]) for rgba in cmap)
        if table is None:
            table, first = (names, colors), layer.name
        elif (names, colors) != table:
            raise LearningError(
                f"'{first}' and '{layer.name}' label different classes (another model or "
                "scheme): learn from one class table at a time (remove the other layers)."
            )
        tracker = hand_tracker(layer, create=False)
        options = {} if image_options is None else image_options(images[source])
        made = layer.metadata.get(METADATA_KEY, {}).get("provenance", {})
        if "scale" in made:  # the run that made these labels fed the network at its scale
            options = {**options, "scale": made["scale"]}
        layers.append(LayerSource(source, images[source].data, layer.data, tracker, options))
    assert table is not None
    return LabelsSources(tuple(layers), *table)  # type: ignore[arg-type]


def learning_base(controls: RunControls) -> tuple[str, Path | None]:
    """The zoo model and weights to learn on: the dock's, or a learned model's base with the
    weights the dock had before it was chosen."""
    model = controls.model.value
    if is_model_file(model):
        return read_learned(model).base, controls.zoo_files[0]
    return model, _one_file(controls.weights)


def default_learned_path(sources: LabelsSources) -> Path:
    """A new file in ~/napari-gluonseg-learned named after the images it learned from."""
    names = [re.sub(r"[^\w.-]+", "_", s.name) for s in sources.layers]
    stem = ("+".join(names[:3]) + ("+more" if len(names) > 3 else ""))[:80]
    folder = Path.home() / LEARNED_FOLDER
    path, n = folder / f"learned_{stem}.onnx", 1
    while path.exists():
        n += 1
        path = folder / f"learned_{stem}-{n}.onnx"
    return path


def ask_learned_path(parent: Any, suggested: Path) -> Path | None:
    """Where to save the learned model (Qt's dialog asks before naming an existing file), or
    None if the user cancels."""
    from qtpy.QtWidgets import QFileDialog

    suggested.parent.mkdir(parents=True, exist_ok=True)
    path, _ = QFileDialog.getSaveFileName(
        parent, "Save the learned model", str(suggested), "Learned models (*.onnx)"
    )
    if not path:
        return None
    return Path(path) if path.lower().endswith(".onnx") else Path(path + ".onnx")


def _learn(
    sources: LabelsSources,
    model: str,
    weights: Path | None,
    threads: list[int],
    stopping: threading.Event,
) -> Generator[Progress, None, tuple[Learned, int]]:
    """The worker: the layers' data copied (the person may paint on), the hand-set pixels,
    the learning. Returns what was learned and how many pixels set by hand weighed more."""
    with stoppable() as thread:  # Cancel ends the network call running here
        threads.append(thread)
        images, hand_set = [], 0
        for source in sources.layers:
            labels = np.array(source.labels)
            tracker = source.tracker
            hand = None if tracker is None else tracker.record.mask(labels, KEPT_FROM_RUNS)
            hand_set += 0 if hand is None else int((hand & (labels > 0)).sum())
            image = np.array(source.image)
            images.append(CorrectedImage(source.name, image, labels, hand, source.image_options))
        names, colors = sources.class_names, sources.colors
        learned = yield from iter_learn(
            images, names, colors, model, weights, should_stop=stopping.is_set
        )
    return learned, hand_set


class LayerLearning:
    """The Learn button (in the dock's Advanced section) and the learning it starts, shown in
    the dock's bar and message area; the dock's Run waits while it goes, its Cancel ends it."""

    def __init__(
        self,
        viewer: Any,
        controls: RunControls,
        bar: ProgressBar,
        status: MessageArea,
        buttons: tuple[PushButton, PushButton],
        dock_busy: Callable[[], bool],
    ) -> None:
        self._viewer, self._controls = viewer, controls
        self._bar, self._status, self._buttons, self._dock_busy = bar, status, buttons, dock_busy
        self.button = PushButton(text=LEARN_BUTTON, tooltip=_TOOLTIP)
        controls.advanced.append(self.button)
        self.button.changed.connect(self._on_learn_clicked)
        self._worker: GeneratorWorker | None = None
        self._threads: list[int] = []
        self._stopping = threading.Event()
        self._outcome: tuple[Learned, int] | Exception | None = None
        self._sources: LabelsSources | None = None
        self._percent = 0  # the bar's value: it never goes back during a learning
        self._closed = False

    @property
    def busy(self) -> bool:
        """Learning, or saving what was learned."""
        return self._worker is not None or self._sources is not None

    def _on_learn_clicked(self, _value: Any = None) -> None:
        if self._dock_busy():
            return
        try:
            sources = labels_sources(
                self._viewer, lambda layer: self._controls.run_options(layer).image_options()
            )
            model, weights = learning_base(self._controls)
        except GluonsegError as exc:
            self._end(f"not learned: {exc}", error=True)
            return
        self._sources, self._outcome = sources, None
        self._stopping = threading.Event()
        self._percent = 0
        self._bar.value = 0
        self._set_buttons(running=True)
        self._status.value = f"learning from {len(sources.layers)} labels layer(s)..."
        args = (sources, model, weights, self._threads, self._stopping)
        if no_threads():
            try:
                self._outcome = run_to_end(_learn(*args), self._on_progress)
            except Exception as exc:
                self._outcome = exc
            self._on_finished()
            return
        self._threads.clear()
        self._worker = start_generator_worker(
            _learn,
            *args,
            yielded=self._on_progress,
            returned=self._on_returned,
            errored=self._on_returned,
            finished=self._on_finished,
        )

    def cancel(self) -> None:
        """Stop the learning (nothing is written); its end is said when the worker is done."""
        if self._worker is None or self._stopping.is_set():
            return
        stop_learning(self._worker, self._stopping, self._threads)
        if not self._closed:
            self._status.value = "cancelled: stopping..."

    def close(self) -> None:
        """The dock closed: stop, and change no widget of it from now on."""
        self.cancel()
        self._closed = True

    def _on_progress(self, event: Progress) -> None:
        if self._closed or self._stopping.is_set():
            return
        self._status.value = event.message
        n = len(self._sources.layers) if self._sources is not None else 1
        if event.stage is Stage.INFER and event.message.startswith("features of"):
            self._percent = max(self._percent, FEATURES_SHARE * event.done // event.total)
        elif event.stage is Stage.INFER and event.done == event.total:  # an image's features
            self._percent = min(self._percent + FEATURES_SHARE // n, FEATURES_SHARE)
        elif event.stage is Stage.POSTPROCESS and event.total:
            share = (100 - FEATURES_SHARE) * event.done // event.total
            self._percent = max(self._percent, FEATURES_SHARE + share)
        self._bar.value = self._percent

    def _on_returned(self, outcome: Any) -> None:
        self._outcome = outcome

    def _on_finished(self) -> None:
        self._worker = None
        outcome, sources = self._outcome, self._sources
        if self._closed:
            self._sources = None
            return
        if self._stopping.is_set() or isinstance(outcome, SegmentationCancelled):
            self._end("cancelled: nothing was learned or written.")
        elif isinstance(outcome, Exception) or outcome is None:
            self._end(f"not learned: {outcome or 'the learning stopped'}", error=True)
        else:
            assert sources is not None
            self._offer_to_save(*outcome, sources)

    def _offer_to_save(self, learned: Learned, hand_set: int, sources: LabelsSources) -> None:
        summary = learned.summary() + f"\n{hand_set} pixels set by hand weighed more."
        path = ask_learned_path(self._status.native, default_learned_path(sources))
        if path is None:
            self._end(f"learned, not saved (no file chosen):\n{summary}")
            return
        self._status.value = f"saving {path}..."
        overwrite = path.exists()  # the save dialog asked before naming an existing file

        def saved(out: Path) -> None:
            if self._closed:
                return
            chosen = self._controls.choose_learned(out)
            self._end(f"learned: {out.name}{' is now the model' if chosen else ''}\n{summary}")
            self._bar.value = 100

        in_background(
            lambda: save_learned(learned, path, overwrite=overwrite),
            saved,
            lambda exc: self._end(f"learned, not saved: {exc}", error=True),
        )

    def _end(self, status: str, error: bool = False) -> None:
        self._sources = None
        if self._closed:
            return
        self._status.value = status
        if error:
            show_error(status)
            self._bar.value = 0
        self._set_buttons(running=False)

    def _set_buttons(self, running: bool) -> None:
        run, cancel = self._buttons
        run.enabled = self.button.enabled = not running
        cancel.enabled = running


_TOOLTIP = (
    "A model learned from this viewer's labels layers made by this dock (the pixels you set "
    "by hand weigh more), on the chosen model's features; saved as an .onnx file, it becomes "
    "the model choice. Runs in the background: Cancel stops it."
)
