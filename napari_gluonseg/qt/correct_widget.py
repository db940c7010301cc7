"""The "Correct labels" dock: one-gesture corrections of the selected labels layer from the
scores its run kept (see :mod:`napari_gluonseg.layers.corrections`).

Gestures on the selected labels layer (in napari's move-camera mode, key 6 or Z, or with the
dock's mouse set to "click relabels" / "class brush", which take that mode for you):

- Ctrl+click (Cmd+click on macOS) a region, or a plain click in "click relabels": a menu of its
  five likely classes with their mean probability, then the classes likely at the clicked
  pixel that are not listed ("here"); keys 1-9 choose.
- R: the region under the cursor takes its runner-up class.
- "relabel": where the scores put the chosen class (default: where the class is at least 1/20
  as likely as the label and its ratio to the label at least 1/4 of the click's: the whole
  region where that is most of it, else only the piece around the click: part of a region
  given to a neighbour goes back alone), the whole region,
  only where the chosen class is likely (the class threshold), or its part in the view or a
  rectangle.
- "Clean speckles": regions under N pixels take the class around them (preview count first).
- "class brush": a drag paints the selected label only where the model gives that class at
  least the threshold probability.
- "Snap to image edges": superpixels of the image; each takes the label holding most of it.

Each gesture is one undoable edit (Ctrl+Z). Pixels set with napari's brush, fill or eraser are
never changed; a class picked here may be picked again; an undone edit no longer counts.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, FloatSlider, Label, PushButton, SpinBox
from napari.layers import Labels
from qtpy.QtCore import QTimer

from ..core.edits.merge import Region
from ..core.errors import GluonsegError
from ..core.models.registry import short_class_name
from ..layers.corrections import (
    FOLLOW_RATIO,
    LayerCorrector,
    PreparedWrite,
    hand_tracker,
    kept_scores,
)
from ..layers.data import layer_key, same_layer
from ..layers.results import layer_class_names
from .edge_snap import EdgeSnap
from .lifetime import watch_removal
from .messages import MessageArea, ScrollingDock
from .regions import RegionChoice, image_region
from .threads import in_background

if TYPE_CHECKING:
    import napari
    from qtpy.QtWidgets import QMenu

RUNNER_UP_KEY = "r"
MENU_SIZE = 9  # keys 1-9
RECOUNT_DELAY_MS = 400
CLICK_MODIFIERS = {"Control", "Meta"}
NO_LAYER = "Select a labels layer in the layer list to correct it (a run's result, or yours)."
# A clicked region: its layer's corrector, the plane, the region's box and mask in it, the
# clicked pixel.
Found = tuple[LayerCorrector, tuple[int, ...], Region, np.ndarray, tuple[int, int]]
# A gesture's edit computed in a worker, and what the dock says once it is written (given the
# pixels changed).
Computed = tuple[PreparedWrite | None, Callable[[int], str]]


class MouseTool(StrEnum):
    """What a left click or drag on the selected labels layer does."""

    NAPARI = "napari's tools"
    RELABEL = "click relabels"
    CLASS_BRUSH = "class brush"


class BrushRule(StrEnum):
    """Where the class brush paints, within its stroke."""

    CLOSE = "where the class comes close"  # P(class) >= FOLLOW_RATIO x P(the label there)
    LIKELY = "where the class is likely"  # P(class) >= the class threshold


class Within(StrEnum):
    """The part of a clicked region a relabel changes."""

    FOLLOW = "where the scores put it"  # the region, or only its part the scores give the class
    REGION = "whole region"
    LIKELY = "where the class is likely"  # P(class) >= the class threshold
    VIEW = RegionChoice.VIEW.value
    RECTANGLE = RegionChoice.RECTANGLE.value


class CorrectWidget(ScrollingDock):
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
        self._mouse = ComboBox(label="mouse", choices=[t.value for t in MouseTool])
        self._within = ComboBox(label="relabel", choices=[w.value for w in Within])
        self._min_size = SpinBox(label="speckles under", value=64, min=2, max=1_000_000)
        self._preview = Label(value="")
        self._clean = PushButton(text="Clean speckles")
        self._brush = ComboBox(
            label="class brush", choices=[b.value for b in BrushRule],
            tooltip="Where a class-brush stroke paints: where the model gives the class at "
            f"least {FOLLOW_RATIO:.0%} of the probability of the label there (a wrong label is "
            "the model's first choice, so the right class is below it), or where the class's "
            "probability reaches the class threshold.",
        )  # fmt: skip
        self._threshold = FloatSlider(
            label="class threshold", value=0.5, min=0.05, max=0.95,
            tooltip="A relabel or a class brush set to 'where the class is likely' changes "
            "only pixels whose kept probability of the class is at least this.",
        )  # fmt: skip
        self._hand = Label(value="")
        self._status = MessageArea()
        self._snap = EdgeSnap(viewer, self._say, self._gesture)
        for label in (self._preview, self._hand):
            label.native.setWordWrap(True)
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
        self._previews = self._counts = 0  # the latest count asked for is the one shown
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

    # -- the layer ------------------------------------------------------------------------------

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

    def _on_mouse_tool(self, _value: Any = None) -> None:
        layer = self.layer
        if layer is None:
            return
        ours = self._mouse.value != MouseTool.NAPARI
        if ours:
            layer.mode = "pan_zoom"  # a click must not paint; our gesture takes it
        layer.mouse_pan = not ours  # a drag is ours, not the camera's

    def _on_layer_mode(self, event: Any) -> None:
        if str(event.mode) != "pan_zoom" and self._mouse.value != MouseTool.NAPARI:
            self._mouse.value = MouseTool.NAPARI.value  # the person took a napari tool

    def _on_paint(self, _event: Any = None) -> None:
        self._show_hand_edits()
        self._recount.start()

    def _on_set_data(self, _event: Any = None) -> None:
        # Ctrl+Z and redo change the data with no paint event, only a refresh.
        self._recount.start()

    def _on_recount(self) -> None:
        self.update_preview()
        self._show_hand_edits()

    # -- gestures -------------------------------------------------------------------------------

    def _position(self, layer: Labels, world: Any) -> tuple[tuple[int, ...], int, int] | None:
        """(plane, y, x) of the layer pixel at a world position; None outside the layer."""
        data = np.round(np.asarray(layer.world_to_data(world), float)).astype(int)
        data = data[-layer.ndim :]
        if any(not 0 <= d < n for d, n in zip(data, layer.data.shape, strict=True)):
            return None
        *plane, y, x = (int(d) for d in data)
        return tuple(plane), y, x

    def _on_press(self, layer: Labels, event: Any) -> Generator[None, None, None]:
        mode = MouseTool(self._mouse.value)
        clicking = bool(CLICK_MODIFIERS & set(event.modifiers)) or mode is MouseTool.RELABEL
        if str(layer.mode) not in ("pan_zoom", "pick") or not same_layer(layer, self.layer):
            return
        if mode is MouseTool.CLASS_BRUSH and not clicking:
            yield from self._stroke(layer, event)
            return
        if not clicking:
            return
        press = np.asarray(event.position, float)
        yield
        dragged = False
        while event.type == "mouse_move":
            dragged = dragged or bool(np.abs(np.asarray(event.position) - press).max() > 0)
            yield
        if not dragged:
            self.open_menu(layer, press)

    def open_menu(self, layer: Labels, world: Any) -> QMenu | None:
        """The likely classes of the region at ``world`` as a menu (keys 1-9 choose)."""
        from qtpy.QtGui import QCursor
        from qtpy.QtWidgets import QMenu

        found = self._region(layer, world)
        if found is None:
            return None
        corrector, plane, box, mask, point = found
        listed = corrector.menu(plane, box, mask, point)[:MENU_SIZE]
        if not listed:
            self._status.value = "no kept scores over this region"
            return None
        names = layer_class_names(layer, max(k for k, _, _ in listed) + 1)
        now = int(corrector.labels(plane)[box][mask][0]) - 1  # the region's class
        menu = QMenu(self.native)
        for i, (k, p, here) in enumerate(listed, start=1):
            name = short_class_name(names[k]) if 0 <= k < len(names) else f"class {k}"
            mark = "  (now)" if k == now else "  (here)" if here else ""
            action = menu.addAction(f"&{i}  {name}  {p:.0%}{mark}")
            assert action is not None  # Qt returns the action it added
            action.triggered.connect(lambda _=False, k=k: self._relabel(*found, k, "relabel"))
        self.menu = menu
        menu.popup(QCursor.pos())
        return menu

    def _on_runner_up_key(self, layer: Labels) -> None:
        found = self._region(layer, self._viewer.cursor.position)
        if found is not None:
            self._relabel(*found, None, "runner-up")

    def _region(self, layer: Labels, world: Any) -> Found | None:
        at = self._position(layer, world)
        if at is None:
            return None
        plane, y, x = at
        corrector = self.corrector(layer)
        try:
            within = self._within_box(layer)
        except GluonsegError as exc:
            self._status.value = str(exc)
            return None
        box, mask = corrector.region_at(plane, y, x, within)
        if not mask.any():
            self._status.value = f"the clicked region is outside the {self._within.value}"
            return None
        return corrector, plane, box, mask, (y, x)

    def _within_box(self, layer: Labels) -> Region | None:
        choice = Within(self._within.value)
        if choice in (Within.FOLLOW, Within.REGION, Within.LIKELY):
            return None
        return image_region(self._viewer, layer, RegionChoice(choice.value))[-2:]

    def _relabel(
        self,
        corrector: LayerCorrector,
        plane: tuple[int, ...],
        box: Region,
        mask: np.ndarray,
        point: tuple[int, int],
        k: int | None,
        tool: str,
    ) -> None:
        """Give the region class ``k`` (None: its runner-up), computed in a worker."""
        within = Within(self._within.value)
        likely = within is Within.LIKELY
        threshold = self._threshold.value if likely else None
        follow = point if within is Within.FOLLOW else None

        def compute() -> Computed:
            chosen = corrector.runner_up(plane, box, mask) if k is None else k
            if chosen is None:
                return None, lambda _: "no kept scores over this region"
            change = corrector.relabel_change(plane, box, mask, chosen, threshold, follow)
            prepared = None if change is None else corrector.prepare(plane, [change])
            names = layer_class_names(corrector.layer, chosen + 1)
            where = f" (where its probability is {threshold:.2f} or more)" if likely else ""
            if prepared is None:
                where = f": {corrector.why_unchanged(plane, box, mask, chosen)}"
            name = short_class_name(names[chosen])
            return prepared, lambda changed: f"{changed} pixels relabelled {name}{where}"

        self._gesture(corrector, tool, compute)

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

    def _stroke(self, layer: Labels, event: Any) -> Generator[None, None, None]:
        """A class-brush drag: discs of the brush size along the path (each segment between
        two mouse positions filled); one edit on release."""
        at = self._position(layer, event.position)
        if at is None:
            return
        plane, y0, x0 = at
        stroke = np.zeros(layer.data.shape[-2:], bool)
        radius = max(int(layer.brush_size) // 2, 0)
        _disc_segment(stroke, (y0, x0), (y0, x0), radius)
        while True:
            yield
            at = self._position(layer, event.position)
            if at is not None:
                _disc_segment(stroke, (y0, x0), at[1:], radius)
                y0, x0 = at[1:]
            if event.type != "mouse_move":
                break
        self.paint_class(layer, plane, stroke)

    def paint_class(self, layer: Labels, plane: tuple[int, ...], stroke: np.ndarray) -> None:
        """The class brush over the ``stroke`` mask of ``plane`` (the selected label's class)."""
        ys, xs = np.nonzero(stroke)
        if not ys.size or layer.selected_label < 1:
            return
        box = (slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1))
        corrector = self.corrector(layer)
        k = int(layer.selected_label) - 1
        close = BrushRule(self._brush.value) is BrushRule.CLOSE
        threshold = FOLLOW_RATIO if close else float(self._threshold.value)
        where = (
            f"at least {FOLLOW_RATIO:.0%} as likely as the label there"
            if close
            else f"its probability {threshold:.2f} or more"
        )

        def compute() -> Computed:
            change = corrector.class_stroke(plane, box, stroke[box], k, threshold, ratio=close)
            if change is None:
                return None, lambda _: "no kept scores of this class here: nothing painted"
            prepared = corrector.prepare(plane, [change])
            return prepared, lambda changed: f"class brush: {changed} pixels ({where})"

        self._gesture(corrector, "class brush", compute)

    # -- speckles -------------------------------------------------------------------------------

    def _plane(self, layer: Labels) -> tuple[int, ...]:
        point = layer.world_to_data(self._viewer.dims.point)[-layer.ndim :]
        lead = point[:-2]
        return tuple(
            int(np.clip(round(float(p)), 0, n - 1))
            for p, n in zip(lead, layer.data.shape, strict=False)
        )

    def update_preview(self, _value: Any = None) -> None:
        """How many speckles Clean would take, counted in a worker (it labels the plane:
        ~0.4 s at 12 MP); a later count supersedes one still running."""
        layer = self.layer
        self._previews += 1
        if layer is None:
            self._preview.value = ""
            return
        corrector, plane, asked = self.corrector(layer), self._plane(layer), self._previews
        min_size = int(self._min_size.value)

        def count() -> str:
            changes = corrector.speckles(plane, min_size)
            pixels = sum(c.pixels for c in changes)
            return f"{len(changes)} speckles, {pixels} pixels would change"

        def show(text: str) -> None:
            if asked == self._previews and not self._detached:
                self._preview.value = text

        in_background(count, show, lambda exc: show(f"speckles not counted: {exc}"))

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
        layer = self.layer
        tracker = hand_tracker(layer, create=False) if layer is not None else None
        self._counts += 1
        if tracker is None:
            self._hand.value = ""
            return
        asked = self._counts

        def count() -> str:
            summary = tracker.provenance()
            tools = summary["pixels_changed_by_tool"]
            assert isinstance(tools, dict)
            detail = ", ".join(f"{tool} {n}" for tool, n in tools.items())
            return (
                f"set by hand: {summary['pixels_set_by_hand']} pixels, relabelled here: "
                f"{summary['pixels_relabelled_with_the_tools']}"
                + (f" ({detail})" if detail else "")
            )

        def show(text: str) -> None:
            if asked == self._counts and not self._detached:
                self._hand.value = text

        in_background(count, show, lambda exc: show(f"edits not counted: {exc}"))


def _disc_segment(mask: np.ndarray, a: tuple[int, int], b: tuple[int, int], radius: int) -> None:
    """Mark the pixels within ``radius`` of the segment from ``a`` to ``b`` (a brush's path)."""
    h, w = mask.shape
    steps = max(abs(b[0] - a[0]), abs(b[1] - a[1]), 1)
    box = (
        slice(max(min(a[0], b[0]) - radius, 0), min(max(a[0], b[0]) + radius + 1, h)),
        slice(max(min(a[1], b[1]) - radius, 0), min(max(a[1], b[1]) + radius + 1, w)),
    )
    yy, xx = np.ogrid[box[0], box[1]]
    for t in np.linspace(0.0, 1.0, steps + 1):
        cy, cx = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])
        mask[box] |= (yy - cy) ** 2 + (xx - cx) ** 2 <= radius * radius
