"""What the widget tests share: across napari versions, the set-up of the segmentation dock's
runs, and the labels and mouse gestures of the correct dock's tests."""

from __future__ import annotations

import numpy as np
from napari.layers import Labels
from qtpy.QtCore import QPoint, Qt

from napari_gluonseg.core.run.scores import ScoreGrid
from napari_gluonseg.layers.data import class_features, label_colormap
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.layers.kept_scores import attach_scores
from napari_gluonseg.qt.review_widget import ReviewWidget
from napari_gluonseg.qt.segment_widget import SegmentWidget


def camera_of(viewer):
    """The viewer's camera: in ``viewer.scene`` from napari 0.9, on the viewer before."""
    return viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera


def canvas_size(viewer):
    """(height, width) of the canvas, as the widget reads it on every napari version."""
    from napari_gluonseg.qt.regions import _canvas_size

    return _canvas_size(viewer)


def open_dock(viewer, name: str):
    """The dock ``name`` as napari's *Plugins* menu opens it: built with a ``PublicOnlyProxy``
    of the viewer (its layers proxies too, a new one at each access), docked in the window."""
    _, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", name)
    return widget


# -- the segmentation dock ----------------------------------------------------------------------

BICYCLE_NAME = "bicycle, bike, wheel, cycle"


def fast_widget(viewer) -> SegmentWidget:
    """A dock for runs that are not about the engine or the resolution: at the image's own size
    (72x96), not at 390x520 (the default: see the tests marked threads)."""
    from napari_gluonseg.qt.controls import Resolution

    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.engine.value = "onnxruntime"
    widget.controls.resolution.value = Resolution.FULL
    return widget


def run_and_wait(qtbot, widget: SegmentWidget, timeout_ms: int = 120_000) -> None:
    widget._status.value = ""
    widget._run.clicked.emit()
    # The click started a run (no pre-run refusal): it is going, or (computed in the GUI
    # thread) already said how it ended.
    assert widget.running or widget._status.value
    qtbot.waitUntil(lambda: not widget.running, timeout=timeout_ms)


def run_on_dog(qtbot, viewer, weights) -> tuple[SegmentWidget, Labels]:
    """A fast dock (``dog_layer`` added) that has run ``weights``, and the labels it wrote."""
    widget = fast_widget(viewer)
    widget.controls.weights.value = weights
    run_and_wait(qtbot, widget)
    return widget, viewer.layers["dog classes"]


def errors_since(start: int) -> list[str]:
    """The notifications since the ``start``-th."""
    from napari.utils.notifications import notification_manager

    return [str(n.message) for n in notification_manager.records[start:]]


def widget_info():
    """The class names and colours of the dock's default model."""
    from napari_gluonseg import model_info

    return model_info("fcn_resnet50_ade")


# -- the correct dock ----------------------------------------------------------------------------

NAMES = ["wall", "building", "sky", "floor", "tree"]


COLORS = [(120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3)]


SHAPE = (40, 60)


def scores(leading=()) -> ScoreGrid:
    """Five classes on an 11x16 grid: left half sky 60% > building 30%; right half tree 70%."""
    p = np.full((max(1, int(np.prod(leading))), 5, 11, 16), 0.025, np.float32)
    p[:, 2, :, :8], p[:, 1, :, :8] = 0.6, 0.3
    p[:, 4, :, 8:] = 0.7
    p /= p.sum(axis=1, keepdims=True)
    return ScoreGrid(p.astype(np.float16), tuple(leading), SHAPE, tuple(range(5)))


def plugin_labels(viewer, data: np.ndarray, grid: ScoreGrid | None) -> Labels:
    """A labels layer as a run leaves it: class names, colours, kept scores, tracked edits."""
    layer = viewer.add_labels(
        data, name="photo classes", features=class_features(NAMES),
        colormap=_colormap(), opacity=0.6,
    )  # fmt: skip
    attach_scores(layer, grid, (0,) * data.ndim)
    hand_tracker(layer)
    return layer


def _colormap():
    from napari.utils.colormaps import DirectLabelColormap

    return DirectLabelColormap(color_dict=label_colormap(COLORS))


def canvas(viewer):
    return viewer.window._qt_viewer.canvas.native


def look_at(viewer, y: float, x: float, zoom: float = 8.0) -> QPoint:
    """Centre the view on data pixel (y, x): the canvas' centre is then that pixel."""
    camera = camera_of(viewer)
    camera.center = (0, y, x)  # (z, y, x) on every napari version
    camera.zoom = zoom
    native = canvas(viewer)
    return QPoint(native.width() // 2, native.height() // 2)


def drag_to(native, at: QPoint) -> None:
    """A mouse move with the left button held (qtbot's mouseMove holds none)."""
    from qtpy.QtCore import QEvent, QPointF
    from qtpy.QtGui import QMouseEvent
    from qtpy.QtWidgets import QApplication

    event = QMouseEvent(
        QEvent.Type.MouseMove, QPointF(at), QPointF(native.mapToGlobal(at)),
        Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(native, event)


def ctrl_click(qtbot, viewer, y: int, x: int) -> None:
    at = look_at(viewer, y, x)
    qtbot.mouseClick(
        canvas(viewer), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, at
    )


# -- the review dock ---------------------------------------------------------------------------

RUN = {"scale": 1.0, "engine": "onnxruntime"}  # a batch's settings: at the images' size, quick


def first_image_open(viewer, folder) -> ReviewWidget:
    """The review dock, ``folder`` (images, results) open, its first image shown."""
    widget = open_dock(viewer, "Review folder")
    widget.open_folder(*folder)
    widget._next.clicked.emit()
    return widget
