"""The "Correct labels" dock's gestures on the selected labels layer, from the scores its run
kept (see :mod:`napari_gluonseg.layers.corrections`), and the choices that shape them.

Gestures (in napari's move-camera mode, key 6 or Z, or with the dock's mouse set to "click
relabels" / "class brush", which take that mode for you):

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
- "class brush": a drag paints the selected label only where the model gives that class at
  least the threshold probability.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, FloatSlider
from napari.layers import Labels

from ..core.edits.merge import Region
from ..core.errors import GluonsegError
from ..core.models.registry import short_class_name
from ..layers.corrections import FOLLOW_RATIO, LayerCorrector, PreparedWrite
from ..layers.data import same_layer
from ..layers.results import layer_class_names
from .messages import MessageArea
from .regions import RegionChoice, image_region

if TYPE_CHECKING:
    import napari
    from qtpy.QtWidgets import QMenu

RUNNER_UP_KEY = "r"
MENU_SIZE = 9  # keys 1-9
CLICK_MODIFIERS = {"Control", "Meta"}
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


def gesture_choices() -> tuple[ComboBox, ComboBox, ComboBox, FloatSlider]:
    """The dock's choices that shape the gestures: what the mouse does, the part of a region a
    relabel changes, where the class brush paints, and the class threshold."""
    mouse = ComboBox(label="mouse", choices=[t.value for t in MouseTool])
    within = ComboBox(label="relabel", choices=[w.value for w in Within])
    brush = ComboBox(
        label="class brush", choices=[b.value for b in BrushRule],
        tooltip="Where a class-brush stroke paints: where the model gives the class at "
        f"least {FOLLOW_RATIO:.0%} of the probability of the label there (a wrong label is "
        "the model's first choice, so the right class is below it), or where the class's "
        "probability reaches the class threshold.",
    )  # fmt: skip
    threshold = FloatSlider(
        label="class threshold", value=0.5, min=0.05, max=0.95,
        tooltip="A relabel or a class brush set to 'where the class is likely' changes "
        "only pixels whose kept probability of the class is at least this.",
    )  # fmt: skip
    return mouse, within, brush, threshold


class Gestures:
    """The clicks, keys and drags on the selected labels layer, mixed into the dock
    (:class:`~.correct_widget.CorrectWidget`): it holds the choices read here, attaches the
    handlers to each layer and writes the edits they compute (``_gesture``)."""

    # The dock's, read here.
    _viewer: napari.viewer.Viewer
    _mouse: ComboBox  # a MouseTool
    _within: ComboBox  # a Within
    _brush: ComboBox  # a BrushRule
    _threshold: FloatSlider
    _status: MessageArea
    menu: QMenu | None  # the open likely-classes menu

    @property
    def layer(self) -> Labels | None:
        raise NotImplementedError  # the dock's: the selected labels layer

    @property
    def native(self) -> Any:
        raise NotImplementedError  # the dock's Qt widget

    def corrector(self, layer: Labels) -> LayerCorrector:
        raise NotImplementedError  # the dock's: the layer's, its gestures attached

    def _gesture(
        self, corrector: LayerCorrector, tool: str, compute: Callable[[], Computed]
    ) -> None:
        raise NotImplementedError  # the dock's: computes in a worker, then writes one edit

    # -- the mouse ---------------------------------------------------------------------------------

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

    # -- clicks and keys ---------------------------------------------------------------------------

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

    # -- the class brush ---------------------------------------------------------------------------

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
