"""The Correct dock's "Snap to image edges": superpixels of the image under the labels and
which of them touch how different in colour (computed once per image plane, in a worker: SLIC
takes seconds on a large photo), then every cell takes the label holding most of it where the
image shows the edge, as one undoable edit (hand-set pixels stay)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import PushButton
from napari.layers import Image, Labels
from napari.qt.threading import create_worker

from ..core.edits.snap import CellEdges, cell_edges, superpixels
from ..layers.corrections import LayerCorrector, PreparedWrite
from ..layers.data import METADATA_KEY, layer_key, spatial_shape
from .threads import no_threads

if TYPE_CHECKING:
    import napari


Cells = tuple[np.ndarray, CellEdges]  # superpixel ids, and which touch how
Gesture = Callable[
    [LayerCorrector, str, Callable[[], tuple[PreparedWrite | None, Callable[[int], str]]]], None
]


def _cells(pixels: np.ndarray) -> Cells:
    cells = superpixels(pixels)
    return cells, cell_edges(pixels, cells)


class EdgeSnap:
    """The button and its superpixel cache; ``say`` shows a line in the dock."""

    def __init__(
        self, viewer: napari.viewer.Viewer, say: Callable[[str], None], gesture: Gesture
    ) -> None:
        self._viewer = viewer
        self._say = say
        self._gesture = gesture  # the dock's: computes an edit in a worker, then writes it
        self.button = PushButton(
            text="Snap to image edges",
            tooltip="Superpixels of the image (SLIC) follow its edges: each takes the label "
            "holding most of it, so boundaries a few pixels off move onto the edges. Where "
            "neighbouring classes look alike (mean colours under a tenth of the image's range "
            "apart) the boundary stays. Pixels set by hand stay.",
        )
        self._cells: dict[tuple[str, int, tuple[int, ...]], Cells] = {}
        self._worker: Any = None

    def image_under(self, layer: Labels) -> Image | None:
        """The image the labels annotate: the run's source image (named in the labels' metadata)
        where it is still there with their shape; else the topmost image layer of their shape
        that is not one of the plugin's own maps (confidence, margin, P(class))."""
        shaped = [
            candidate for candidate in reversed(self._viewer.layers)
            if isinstance(candidate, Image) and spatial_shape(candidate) == layer.data.shape
        ]  # fmt: skip
        source = layer.metadata.get(METADATA_KEY, {}).get("source_image")
        for candidate in shaped:
            if candidate.name == source:
                return candidate
        for candidate in shaped:
            if METADATA_KEY not in candidate.metadata:
                return candidate
        return None

    def snap(self, corrector: LayerCorrector, plane: tuple[int, ...]) -> None:
        """Snap ``plane`` of the corrector's layer (the cells computed first if need be)."""
        image = self.image_under(corrector.layer)
        if image is None:
            self._say(f"no image layer of the shape of '{corrector.layer.name}' to snap to")
            return
        key = (layer_key(image), id(image.data), plane)
        if key in self._cells:
            self._apply(corrector, plane, self._cells[key], image.name)
            return
        pixels = np.asarray(image.data[plane])

        def done(cells: Cells) -> None:
            self._cells = {key: cells}  # one plane's cells at a time: bounded memory
            self._worker = None
            self._apply(corrector, plane, cells, image.name)

        if no_threads():
            done(_cells(pixels))
            return
        self._say(f"computing the superpixels of '{image.name}'...")
        self._worker = create_worker(_cells, pixels, _connect={"returned": done})

    def _apply(
        self, corrector: LayerCorrector, plane: tuple[int, ...], cells: Cells, image: str
    ) -> None:
        if corrector.layer not in self._viewer.layers:
            return  # removed while the cells were computed

        def compute() -> tuple[PreparedWrite | None, Callable[[int], str]]:
            prepared = corrector.prepare(plane, corrector.snap(plane, *cells))
            return prepared, lambda n: f"snapped to the edges of '{image}': {n} pixels changed"

        self._gesture(corrector, "snap", compute)
