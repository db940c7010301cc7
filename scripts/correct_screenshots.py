"""Take the README screenshots of the "Correct labels" dock: the likely-classes menu of a
Ctrl+clicked region, then the layer after choosing one and cleaning speckles. Real napari under
a display (e.g. Xvfb), the mouse and keys driven as a person does:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/correct_screenshots.py \\
        docs --weights W.params

Without the pretrained weights (no internet) pass an untrained .params file; the README's
captions must then say the classes are noise.
"""

import argparse
import time
from pathlib import Path

import napari
from qtpy.QtCore import QPoint, Qt
from qtpy.QtGui import QCursor
from qtpy.QtTest import QTest
from qtpy.QtWidgets import QApplication

from napari_gluonseg._sample_data import load_sample
from napari_gluonseg.qt.correct_widget import CorrectWidget
from napari_gluonseg.qt.segment_widget import SegmentWidget


def settle(seconds: float = 1.0) -> None:
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.05)


def grab(viewer: napari.Viewer, path: Path) -> None:
    """The whole window with any popup menu over it (a screen grab, not napari's canvas)."""
    settle(0.5)
    window = viewer.window._qt_window
    geometry = window.frameGeometry()
    screen = QApplication.primaryScreen()
    screen.grabWindow(0, geometry.x(), geometry.y(), geometry.width(), geometry.height()).save(
        str(path)
    )
    print("wrote", path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--weights", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    viewer = napari.Viewer(title="napari-gluonseg", show=True)
    viewer.window.resize(1500, 950)
    viewer.window._qt_window.move(0, 0)
    for data, kwargs, _ in load_sample():
        viewer.add_image(data, **kwargs)
    segment = SegmentWidget(viewer)
    segment_dock = viewer.window.add_dock_widget(segment, name="Semantic segmentation")
    segment.controls.weights.value = args.weights
    segment.controls.engine.value = "mxnet"
    segment.controls.min_confidence.value = 0.0
    segment._run.clicked.emit()
    while segment.running:
        settle(0.2)
    settle()
    labels = viewer.layers["chelsea classes"]
    viewer.window.remove_dock_widget(segment_dock)  # room for the Correct dock
    correct = CorrectWidget(viewer)
    viewer.window.add_dock_widget(correct, name="Correct labels", area="right")
    viewer.layers.selection.active = labels
    labels.mode = "pan_zoom"
    settle()

    # 1. Ctrl+click a region: its five likely classes.
    canvas = viewer.window._qt_viewer.canvas.native
    at = QPoint(canvas.width() // 2 - 60, canvas.height() // 2 + 40)
    QCursor.setPos(canvas.mapToGlobal(at))
    QTest.mouseClick(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, at)
    settle()
    grab(viewer, args.out / "correct_1_likely_classes.png")

    # 2. The key of the first class that is not the region's own; then clean speckles.
    menu = correct.menu
    pick = next(i for i, a in enumerate(menu.actions()) if "(now)" not in a.text())
    QTest.keyClick(menu, getattr(Qt.Key, f"Key_{pick + 1}"))
    correct._min_size.value = 200
    settle()
    correct._clean.native.click()
    settle()
    grab(viewer, args.out / "correct_2_relabelled_and_cleaned.png")
    viewer.close()


if __name__ == "__main__":
    main()
