"""Take the README screenshot: napari with the widget docked, after a run on the sample photo.

Run under a display (e.g. ``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python
scripts/screenshot.py docs/screenshot.png --weights W.params``). Without the pretrained weights
(no internet), pass an untrained .params file: the caption must then say the result is noise.
"""

import argparse
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from napari_gluonseg._sample_data import load_sample


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--prob", action="append", default=[])
    args = parser.parse_args()

    viewer = napari.Viewer(title="napari-gluonseg", show=True)
    viewer.window.resize(1280, 720)  # the smallest window the dock must fit
    for data, kwargs, _ in load_sample():
        viewer.add_image(data, **kwargs)
    # As a person opens it: Plugins > GluonCV Segmentation.
    _, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Semantic segmentation")
    widget.controls.weights.value = args.weights
    picker = widget.controls.classes
    picker.value = [n for n in picker._all if n.split(",")[0] in set(args.prob)]
    widget._run.clicked.emit()
    deadline = time.time() + 300
    while widget.running and time.time() < deadline:
        QApplication.processEvents()
        time.sleep(0.05)
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.05)
    viewer.reset_view()
    QApplication.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(args.out), canvas_only=False)
    print(f"wrote {args.out}; status: {widget._status.value}")
    viewer.close()


if __name__ == "__main__":
    main()
