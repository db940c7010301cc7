"""What the segmentation dock's last result answers without running the network again: the
probability map of a class picked after the run, the confidence or margin map ticked after it
(each computed from the kept scores in a worker), and the likely classes under the cursor."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from napari.layers import Layer
from qtpy.QtCore import QTimer

from ..core.models.registry import short_class_name
from ..layers.data import probability_layer_data, probability_layer_name, uncertainty_layer_data
from ..layers.results import PreparedResult, add_unshown
from .threads import STEP_DELAY_MS, in_background

if TYPE_CHECKING:
    import napari


class LastRun:
    """The last run's prepared result (``prepared``, None before a run or after one that
    wrote nothing) and the maps asked of it.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        Where the maps are added.
    say : callable
        Shows a line in the dock's status.
    """

    def __init__(self, viewer: napari.viewer.Viewer, say: Callable[[str], None]) -> None:
        self._viewer = viewer
        self._say = say
        self.prepared: PreparedResult | None = None
        self._coming: set[str] = set()  # maps being computed in the background
        self._closed = False

    def close(self) -> None:
        """The dock is closed: a map computed meanwhile is not added."""
        self._closed = True

    def _with_scores(self) -> PreparedResult | None:
        """The last result, while its image is there and it kept its scores."""
        last = self.prepared
        if last is None or last.request.image not in self._viewer.layers:
            return None
        return last if last.result.scores is not None else None

    def add_class_maps(self, names: list[str], model_name: str) -> None:
        """The probability layers of ``names`` not shown yet, from the kept scores of the last
        run if it ran ``model_name`` (the model chosen now)."""
        last = self._with_scores()
        if last is None or last.result.model_name != model_name:
            return
        image, result, grid = last.request.image, last.result, last.result.scores
        placement = last.request.placement()
        for name in names:
            layer_name = probability_layer_name(image.name, name)
            if layer_name in self._viewer.layers or layer_name in self._coming:
                continue
            k = result.class_names.index(name) if name in result.class_names else -2
            if grid is None or k not in grid.class_ids:
                self._say(f"{name} was not among the classes of the last run")
                continue

            def compute(k: int = k, name: str = name) -> Layer:
                # The full-size map (1.3 s at 64 MP) and its layer: in a worker, not the GUI.
                data = grid.probability_map(k)
                return Layer.create(*probability_layer_data(data, image.name, name, placement))

            self._coming.add(layer_name)
            in_background(compute, self._add, self._failed)

    def add_map(self, kind: str) -> None:
        """The ``kind`` layer ("confidence" or "margin") of the last run, if not shown yet."""
        last = self.prepared
        if last is None or last.request.image not in self._viewer.layers:
            self._say(f"The {kind} layer comes with the next run (press Run).")
            return
        image, result = last.request.image, last.result
        name = f"{image.name} {kind}"
        if name in self._viewer.layers or name in self._coming:
            return
        if kind == "margin" and result.scores is None:
            self._say(
                f"The last run kept no scores for a {kind} layer: it comes with the next run."
            )
            return
        placement = last.request.placement()

        def compute() -> Layer:
            # The margin map is upsampled from the kept scores (seconds at 64 MP): in a worker.
            return Layer.create(*uncertainty_layer_data(result, image.name, [kind], placement)[0])

        self._coming.add(name)
        in_background(compute, self._add, self._failed)

    def _add(self, layer: Layer) -> None:
        self._coming.discard(layer.name)
        image = self.prepared.request.image if self.prepared is not None else None
        if self._closed or image is None or image not in self._viewer.layers:
            return  # the dock closed, or the image went, while the map was computed
        if layer.name not in self._viewer.layers:  # added hidden, drawn a turn later
            QTimer.singleShot(STEP_DELAY_MS, add_unshown(self._viewer, layer, take_selection=False))

    def _failed(self, exc: Exception) -> None:
        self._coming.clear()
        if not self._closed:
            self._say(f"could not make the probability map: {exc}")

    def probe(self, world_position: Any) -> str:
        """The top-5 classes at a world position, interpolated from the kept scores (or '')."""
        last = self._with_scores()
        return "" if last is None else probe_text(last, world_position)


def probe_text(last: PreparedResult, world_position: Any) -> str:
    """'at (y, x): class p%, ...' for the top-5 classes at a world position (or '')."""
    image, result = last.request.image, last.result
    grid = result.scores
    if grid is None:  # the run kept no scores
        return ""
    position = image.world_to_data(world_position)
    starts = [s.start for s in last.request.region]
    coords = [float(p) - a for p, a in zip(position[-len(starts) :], starts, strict=True)]
    *lead, y, x = coords
    plane = tuple(round(v) for v in lead)
    if any(not 0 <= p < n for p, n in zip(plane, grid.leading_shape, strict=True)):
        return ""
    top = grid.top_classes(plane, y, x)
    names = result.class_names
    if not top:
        return ""
    return f"at ({round(y + starts[-2])}, {round(x + starts[-1])}): " + ", ".join(
        f"{short_class_name(names[k]) if k >= 0 else 'unmapped'} {p:.0%}" for k, p in top
    )
