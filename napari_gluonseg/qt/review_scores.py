"""What the batch's kept scores show over the review's open image: one class's probability as
a layer, and the uncertain regions, visited largest first."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import ComboBox, PushButton
from napari.layers import Layer

from ..core.edits.uncertain import UncertainRegions
from ..core.files.read_export import LabelsExport
from ..core.run.scores import ScoreGrid
from ..layers.data import probability_layer_data
from ..layers.reuse import remove_layers, show_map
from .regions import _canvas_size

if TYPE_CHECKING:
    import napari

# How much of the view an uncertain region fills when the view is zoomed onto it.
REGION_FILL = 0.5


class ScoresView:
    """The probability chooser and the "Next uncertain region" button of the review dock.

    Parameters
    ----------
    viewer : napari.viewer.Viewer
        Where the probability layer is added and the view is moved.
    say : callable
        Shows a line in the dock's status.
    """

    def __init__(self, viewer: napari.viewer.Viewer, say: Callable[[str], None]) -> None:
        self._viewer = viewer
        self._say = say
        self._export: LabelsExport | None = None  # the labels as opened (class table)
        self._scores: ScoreGrid | None = None  # kept by the batch, if it was asked to
        self._image_name = ""
        self._labels: Layer | None = None
        self._regions: UncertainRegions | None = None
        self._prob_layer: Layer | None = None
        self._choosing = False  # the list is being set by the dock, not by the person
        # Choices from a callable: napari resets a dock's combo boxes whenever a layer is added.
        self.probability = ComboBox(
            label="probability",
            choices=self._probability_choices,
            nullable=True,
            tooltip="Show the model's probability of a class over the image, from the scores "
            "the batch kept (--keep-scores).",
        )
        self.region = PushButton(text="Next uncertain region")
        self.probability.changed.connect(self._on_probability)
        self.region.changed.connect(self.next_region)

    @property
    def regions(self) -> UncertainRegions | None:
        """The open labels' uncertain regions, once asked for."""
        return self._regions

    def show(
        self, image_name: str, labels: Layer, export: LabelsExport, scores: ScoreGrid | None
    ) -> None:
        """Show what ``scores`` (None: not kept) tell about the labels just opened."""
        self._image_name, self._labels = image_name, labels
        self._export, self._scores = export, scores
        self._show_choices()

    def clear(self) -> None:
        """The image is closed: its probability layer goes, the chooser empties."""
        self._remove_probability_layer()
        self._labels, self._regions = None, None
        self._export, self._scores = None, None
        self._show_choices()

    # -- uncertain regions ----------------------------------------------------------------------

    def next_region(self, _value: Any = None) -> None:
        """Centre and zoom the view on the next uncertain region you have not edited, largest
        first: unlabeled pixels, and small margins where the batch kept its scores."""
        layer = self._labels
        if layer is None or self._export is None:
            self._say("No labels open.")
            return
        if self._regions is None:
            self._regions = UncertainRegions(self._export.labels, self._scores)
        if not len(self._regions):
            self._say(
                "No uncertain region: these labels were made without --min-confidence"
                + (" or --keep-scores." if self._scores is None else ".")
            )
            return
        found = self._regions.next_unedited(np.asarray(layer.data))
        if found is None:
            self._say("You have edited every uncertain region of this image.")
            return
        rank, box, size = found
        show_region(self._viewer, layer, box)
        self._say(f"Uncertain region {rank + 1} of {len(self._regions)} ({size} pixels).")

    # -- probabilities ----------------------------------------------------------------------------

    def _probability_choices(self, _widget: Any = None) -> list[tuple[str, int]]:
        """The classes whose probability the kept scores can show (none without scores)."""
        export, scores = getattr(self, "_export", None), getattr(self, "_scores", None)
        if export is None or scores is None:
            return []
        names = export.class_names
        return [(names[k], k) for k in scores.class_ids if 0 <= k < len(names)]

    def _show_choices(self) -> None:
        self._choosing = True
        try:
            self.probability.reset_choices()
            self.probability.value = None
        finally:
            self._choosing = False
        self.probability.enabled = self._scores is not None

    def _on_probability(self, class_index: int | None) -> None:
        if self._choosing or self._scores is None or self._labels is None:
            return
        if class_index is None:
            self._remove_probability_layer()
            return
        class_name = self._export.class_names[class_index] if self._export else str(class_index)
        data = probability_layer_data(
            self._scores.probability_map(class_index), self._image_name, class_name, {}
        )
        self._prob_layer = show_map(self._viewer, data, self._prob_layer)

    def _remove_probability_layer(self) -> None:
        remove_layers(self._viewer, [self._prob_layer])
        self._prob_layer = None


def show_region(viewer: napari.viewer.Viewer, layer: Layer, box: tuple[slice, ...]) -> None:
    """Centre the 2D view on ``box`` (data slices of ``layer``), zoomed so that it fills about
    REGION_FILL of the canvas."""
    start = np.array([s.start for s in box], float)
    stop = np.array([s.stop for s in box], float)
    corners = [np.asarray(layer.data_to_world(p))[-2:] for p in (start, stop)]
    extent = np.maximum(np.abs(corners[1] - corners[0]), 1e-9)
    # napari >= 0.9 keeps the camera in viewer.scene; older versions in viewer.camera.
    camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
    centre = layer.data_to_world((start + stop - 1) / 2)
    camera.center = tuple(centre[-2:])
    camera.zoom = float(min(np.asarray(_canvas_size(viewer), float) / extent) * REGION_FILL)
