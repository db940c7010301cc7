"""The "Correct labels" dock: one-gesture corrections of the selected labels layer from the
scores its run kept (see :mod:`napari_gluonseg.layers.corrections`).

The clicks, keys and class brush are :mod:`.correct_gestures`; besides them the dock cleans
speckles (regions under N pixels take the class around them, the count previewed first,
:mod:`.correct_counts`) and snaps to image edges (superpixels of the image, each taking the
label holding most of it, :mod:`.edge_snap`).

Each gesture is one undoable edit (Ctrl+Z). Pixels set with napari's brush, fill or eraser are
never changed; a class picked here may be picked again; an undone edit no longer counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import Label, PushButton
from napari.layers import Labels
from qtpy.QtCore import QTimer

from ..layers.corrections import LayerCorrector
from ..layers.data import layer_key, same_layer
from ..layers.kept_scores import kept_scores
from .correct_counts import EditCounts
from .correct_gestures import RUNNER_UP_KEY, Computed, Gestures, gesture_choices
from .edge_snap import EdgeSnap
from .lifetime import watch_removal
from .messages import MessageArea, ScrollingDock
from .threads import in_background

if TYPE_CHECKING:
    import napari
    from qtpy.QtWidgets import QMenu

RECOUNT_DELAY_MS = 400
NO_LAYER = "Select a labels layer in the layer list to correct it (a run's result, or yours)."


class CorrectWidget(ScrollingDock, Gestures):
    """Relabel regions, clean speckles and paint with the class brush on the selected labels
    layer, from the scores its run kept.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        The viewer whose selected labels layer is corrected.
    """

    def __init__(self, viewer: napari.viewer.Viewer) -> None:
        self._viewer = viewer
        self._help = Label(
            value="Ctrl+click a region: its likely classes (1-9 choose). "
            f"{RUNNER_UP_KEY.upper()}: the region under the cursor takes its runner-up. "
            "Ctrl+Z undoes."
        )
        self._help.native.setWordWrap(True)
        self._mouse, self._within, self._brush, self._threshold = gesture_choices()
        self._edit_counts = EditCounts(lambda: self.layer, self._shown)
        counts = self._edit_counts
        self._min_size, self._preview, self._hand = counts.min_size, counts.preview, counts.hand
        self._clean = PushButton(text="Clean speckles")
        self._status = MessageArea()
        self._snap = EdgeSnap(viewer, self._say, self._gesture)
        super().__init__(
            widgets=[
                self._help, self._mouse, self._within, self._min_size, self._preview,
                self._clean, self._snap.button, self._brush, self._threshold, self._hand,
                self._status,
            ],
            labels=True,
        )  # fmt: skip
        self._correctors: dict[str, LayerCorrector] = {}  # by layer_key
        self._computing = False  # a gesture's edit is being computed in a worker
        self.menu: QMenu | None = None  # the open likely-classes menu
        self._mouse.changed.connect(self._on_mouse_tool)
        self._min_size.changed.connect(self.update_preview)
        # After an edit the speckle count is redone once the edits pause (it labels the plane:
        # ~0.4 s at 12 MP), not after every gesture.
        self._recount = QTimer(self.native)
        self._recount.setSingleShot(True)
        self._recount.setInterval(RECOUNT_DELAY_MS)
        self._recount.timeout.connect(self._on_recount)
        self._clean.changed.connect(self.clean_speckles)
        self._snap.button.changed.connect(self.snap_to_edges)
        viewer.layers.selection.events.active.connect(self._on_active)
        viewer.layers.events.removed.connect(self._on_removed)
        # napari's dock close button takes the widget out without deleting it: detach then.
        self._detached = False
        self._watcher = watch_removal(self.native, self.detach)
        self._on_active()

    # -- the layer ---------------------------------------------------------------------------------

    @property
    def layer(self) -> Labels | None:
        active = self._viewer.layers.selection.active
        return active if isinstance(active, Labels) and active.ndim >= 2 else None

    def corrector(self, layer: Labels) -> LayerCorrector:
        """The layer's corrector, its gestures attached on first use."""
        found = self._correctors.get(layer_key(layer))
        if found is None:
            found = self._correctors[layer_key(layer)] = LayerCorrector(layer)
            layer.mouse_drag_callbacks.append(self._on_press)
            layer.bind_key(RUNNER_UP_KEY, self._on_runner_up_key, overwrite=True)
            layer.events.paint.connect(self._on_paint)
            layer.events.set_data.connect(self._on_set_data)
            layer.events.mode.connect(self._on_layer_mode)
            layer.events.metadata.connect(self._on_metadata)
        return found

    def detach(self) -> None:
        """Take the gestures off every layer (the dock was closed); once."""
        # Called again when Qt deletes the widget, by then perhaps without its attributes.
        if getattr(self, "_detached", True):
            return
        self._detached = True
        self._viewer.layers.selection.events.active.disconnect(self._on_active)
        self._viewer.layers.events.removed.disconnect(self._on_removed)
        for corrector in self._correctors.values():
            layer = corrector.layer
            if self._on_press in layer.mouse_drag_callbacks:
                layer.mouse_drag_callbacks.remove(self._on_press)
            layer.bind_key(RUNNER_UP_KEY, None)
            layer.events.paint.disconnect(self._on_paint)
            layer.events.set_data.disconnect(self._on_set_data)
            layer.events.mode.disconnect(self._on_layer_mode)
            layer.events.metadata.disconnect(self._on_metadata)
            layer.mouse_pan = True
        self._correctors = {}
        self._edit_counts.close()

    def _on_removed(self, event: Any) -> None:
        self._correctors.pop(layer_key(event.value), None)  # the layer, its tracker and scores go

    def _on_active(self, _event: Any = None) -> None:
        layer = self.layer
        if layer is not None:
            self.corrector(layer)
            self._on_mouse_tool()
        self.update_preview()
        self._show_hand_edits()
        self._show_layer_status()

    def _on_metadata(self, event: Any) -> None:
        if same_layer(event.source, self.layer):  # a run gave it its scores after adding it
            self._show_layer_status()

    def _show_layer_status(self) -> None:
        layer = self.layer
        if layer is None:
            self._status.value = NO_LAYER
        elif kept_scores(layer) is None:
            self._status.value = (
                f"'{layer.name}' has no kept scores: likely classes and the class brush need a "
                "run's scores (run it again, or export with --keep-scores)"
            )
        else:
            self._status.value = ""

    def _on_paint(self, _event: Any = None) -> None:
        self._show_hand_edits()
        self._recount.start()

    def _on_set_data(self, _event: Any = None) -> None:
        # Ctrl+Z and redo change the data with no paint event, only a refresh.
        self._recount.start()

    def _on_recount(self) -> None:
        self.update_preview()
        self._show_hand_edits()

    # -- writing an edit ---------------------------------------------------------------------------

    def _gesture(
        self, corrector: LayerCorrector, tool: str, compute: Callable[[], Computed]
    ) -> None:
        """An edit computed in a worker (seconds at 12 MP), then written in the GUI thread as
        one undoable edit, unless its pixels changed meanwhile; one at a time."""
        if self._computing:
            self._status.value = "still computing the last correction: try again in a moment"
            return
        self._computing = True

        def done(computed: Computed) -> None:
            self._computing = False
            prepared, say = computed
            if self._detached or corrector.layer not in self._viewer.layers:
                return  # the dock closed, or the layer went, while it was computed
            changed = 0 if prepared is None else corrector.apply(prepared, tool)
            if changed is None:
                self._status.value = (
                    "the labels changed while the correction was computed: nothing was "
                    "written (do it again)"
                )
                return
            self._status.value = say(changed)
            # The write's paint event counted the edits and started the debounced recount:
            # only the speckle preview is still to do, at once (it is counted in a worker).
            self._recount.stop()
            self.update_preview()

        def failed(exc: Exception) -> None:
            self._computing = False
            if not self._detached:
                self._status.value = f"the correction failed: {exc}"

        in_background(compute, done, failed)

    # -- speckles and edges ------------------------------------------------------------------------

    def _plane(self, layer: Labels) -> tuple[int, ...]:
        point = layer.world_to_data(self._viewer.dims.point)[-layer.ndim :]
        lead = point[:-2]
        return tuple(
            int(np.clip(round(float(p)), 0, n - 1))
            for p, n in zip(lead, layer.data.shape, strict=False)
        )

    def _shown(self, layer: Labels) -> tuple[LayerCorrector, tuple[int, ...]]:
        """The layer's corrector and its plane shown."""
        return self.corrector(layer), self._plane(layer)

    def update_preview(self, _value: Any = None) -> None:
        """How many speckles Clean would take, counted in a worker (it labels the plane:
        ~0.4 s at 12 MP); a later count supersedes one still running."""
        self._edit_counts.count_speckles()

    def clean_speckles(self, _value: Any = None) -> None:
        """Clean the speckles of the plane shown: one undoable edit."""
        layer = self.layer
        if layer is None:
            self._status.value = NO_LAYER
            return
        corrector, plane = self.corrector(layer), self._plane(layer)
        min_size = int(self._min_size.value)

        def compute() -> Computed:
            changes = corrector.speckles(plane, min_size)
            prepared = corrector.prepare(plane, changes)
            return prepared, lambda changed: f"cleaned {len(changes)} speckles ({changed} pixels)"

        self._gesture(corrector, "clean", compute)

    def snap_to_edges(self, _value: Any = None) -> None:
        """Snap the plane shown to the image's edges (superpixels, computed once per plane)."""
        layer = self.layer
        if layer is None:
            self._status.value = NO_LAYER
        else:
            self._snap.snap(self.corrector(layer), self._plane(layer))

    def _say(self, text: str) -> None:
        self._status.value = text
        self._recount.start()

    def _show_hand_edits(self) -> None:
        """The counts of hand-set and relabelled pixels, in a worker (0.16 s at 12 MP)."""
        self._edit_counts.count_hand_edits()
