"""Take the README screenshot of the "Review folder" dock on a pre-annotated folder.

Run under a display (e.g. ``xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python
scripts/review_screenshot.py docs/review.png --weights W.params --work /tmp/review_demo``).
The folder is made from the test photo and the sample, and pre-annotated with ``--weights``;
without the pretrained weights (no internet), an untrained file: the caption must then say the
labels are noise.
"""

import argparse
import time
from pathlib import Path

import napari
import numpy as np
from PIL import Image
from qtpy.QtWidgets import QApplication

from napari_gluonseg._sample_data import load_sample
from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.qt.review_widget import ReviewWidget

DOG = Path(__file__).resolve().parents[1] / "tests" / "data" / "dog.jpg"


def make_folder(images: Path) -> None:
    """Four photos of mixed sizes: the dog, the cat, and a crop of each."""
    images.mkdir(parents=True, exist_ok=True)
    dog = np.asarray(Image.open(DOG))[::2, ::2]
    cat = load_sample()[0][0]
    for name, pixels in {"dog": dog, "dog_crop": dog[:160, 40:280], "cat": cat,
                         "cat_crop": cat[40:240, 100:350]}.items():  # fmt: skip
        Image.fromarray(np.ascontiguousarray(pixels)).save(images / f"{name}.jpg", quality=92)


def settle(seconds: float = 1.0) -> None:
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--weights", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    images, results = args.work / "images", args.work / "results"
    make_folder(images)
    segment_folder(images, results, weights=args.weights, engine="mxnet")

    viewer = napari.Viewer(title="napari-gluonseg", show=True)
    viewer.window.resize(1280, 720)
    widget = ReviewWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Review folder", area="right")
    widget.open_folder(images, results)
    widget._next.clicked.emit()
    settle()
    widget._region.clicked.emit()
    settle()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    viewer.screenshot(str(args.out), canvas_only=False)
    print(f"wrote {args.out}; status: {widget._status.value}")
    viewer.close()


if __name__ == "__main__":
    main()
