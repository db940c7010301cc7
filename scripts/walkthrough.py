"""Take the README walk-through screenshots: run, probe and uncertainty; hand edits kept by
fill-unlabeled; a label scheme. Real napari under a display (e.g. Xvfb):

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/walkthrough.py docs \\
        --weights W.params

Without the pretrained weights (no internet) pass an untrained .params file; the README's
captions must then say the classes are noise.
"""

import argparse
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication

from napari_gluonseg._sample_data import load_sample
from napari_gluonseg.core.models.scheme import EXAMPLES
from napari_gluonseg.qt.segment_widget import SegmentWidget


def settle(seconds: float = 1.0) -> None:
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.05)


def run(widget: SegmentWidget) -> None:
    widget._run.clicked.emit()
    deadline = time.time() + 300
    while widget.running and time.time() < deadline:
        QApplication.processEvents()
        time.sleep(0.05)
    settle()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--weights", type=Path)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    viewer = napari.Viewer(title="napari-gluonseg", show=True)
    viewer.window.resize(1500, 950)
    for data, kwargs, _ in load_sample():
        image = viewer.add_image(data, **kwargs)
    widget = SegmentWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Semantic segmentation", area="right")
    widget.controls.weights.value = args.weights
    widget.controls.engine.value = "mxnet"

    # 1. Run with the uncertainty layers; hover to probe a pixel.
    widget.controls.show_margin.value = True
    widget.controls.min_confidence.value = 0.0
    run(widget)
    viewer.layers["chelsea margin"].visible = False
    viewer.reset_view()
    h, w = image.data.shape[:2]
    viewer.cursor.position = (h * 0.45, w * 0.55)
    settle()
    viewer.screenshot(str(args.out / "walkthrough_1_run_and_probe.png"), canvas_only=False)

    # 2. Hand edits in a labels layer of one's own, then fill only what is still unlabeled.
    mine = np.zeros((h, w), np.uint8)
    mine[40:160, 60:260] = 4  # strokes the annotator made first (value 4: 'floor')
    mine[200:280, 300:420] = 3
    layer = viewer.add_labels(mine, name="my labels")
    viewer.layers["chelsea classes"].visible = False
    viewer.layers.selection.active = image
    widget.controls.target.value = layer
    widget.controls.min_confidence.value = 0.0
    run(widget)
    settle()
    viewer.screenshot(str(args.out / "walkthrough_2_fill_unlabeled.png"), canvas_only=False)

    # 3. A label scheme: the street example's labels, names and colours.
    layer.visible = False
    viewer.layers["chelsea classes"].visible = True
    widget.controls.target.value = None
    widget.controls.scheme.value = EXAMPLES / "street_ade20k.csv"
    widget.controls.classes.value = ["vegetation"]
    run(widget)
    viewer.cursor.position = (h * 0.45, w * 0.55)
    settle()
    viewer.screenshot(str(args.out / "walkthrough_3_scheme.png"), canvas_only=False)
    print(f"wrote 3 screenshots into {args.out}; status: {widget._status.value}")
    viewer.close()


if __name__ == "__main__":
    main()
