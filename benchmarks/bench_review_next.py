"""The time from pressing Next in the "Review folder" dock to the image and its labels drawn.

A folder of 12 MP photos (the reference photo enlarged to 3000x4000, JPEG) with labels exports of
150 classes, reviewed in a real viewer (shown, under a display):

    xvfb-run -a -s "-screen 0 1600x1200x24" .venv/bin/python benchmarks/bench_review_next.py \
        [--size 3000x4000] [--images 4] [--think 3] [--quick]

Each Next is timed from the click until the image and its labels are shown and the canvas has
drawn them (the dock reads in a worker and shows the layers a step at a time), and a 10 ms timer
in the GUI thread records the longest gap in its heartbeat meanwhile (how long napari was
frozen). ``cold``: the first image, read when Next is pressed; ``read ahead``: the next ones,
after ``--think`` seconds on the previous image (the person looking at it), during which the
dock reads them in the background. Goals: shown in under 0.5 s read ahead, and no GUI gap over
250 ms.

``--quick``: two 48x64 photos, 0.2 s of thought: a check that it runs (the test suite's), not a
measurement.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import options, size

ROOT = Path(__file__).resolve().parent.parent
TICK_MS = 10
PHOTO = ROOT / "tests" / "data" / "dog.jpg"
QUICK = {"size": "48x64", "images": 2, "think": 0.2}  # two: the cold Next and one read ahead


def make_folder(root: Path, n: int, height: int, width: int) -> tuple[Path, Path]:
    from PIL import Image

    from napari_gluonseg.core.files.export import write_labels
    from napari_gluonseg.core.models.registry import model_info

    info = model_info("fcn_resnet50_ade")
    images, results = root / "images", root / "results"
    images.mkdir()
    photo = Image.open(PHOTO).convert("RGB").resize((width, height), Image.BILINEAR)
    yy, xx = np.mgrid[:height, :width]
    for k in range(n):
        photo.save(images / f"photo{k}.jpg", quality=90)
        labels = ((yy // 150 + xx // 200 + k) % info.num_classes + 1).astype(np.uint8)
        write_labels(labels, info.class_names, info.colors, {}, results, f"photo{k}")
    return images, results


def shown(widget, seen: list[str]) -> bool:
    """Whether the dock shows an image not in ``seen`` with its labels (then added to it)."""
    current, labels = widget.current, widget.labels_layer
    if current is None or current.key in seen or labels is None:
        return False
    if labels.name != f"{Path(current.key).name} classes":
        return False
    seen.append(current.key)
    return True


def drawn() -> None:
    from qtpy.QtWidgets import QApplication

    for _ in range(2):
        QApplication.processEvents()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="3000x4000")
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--think", type=float, default=3.0)
    args = options(parser, argv, QUICK)
    height, width = size(args.size)

    import napari
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    from napari_gluonseg.qt.review_widget import ReviewWidget

    with tempfile.TemporaryDirectory() as tmp:
        images, results = make_folder(Path(tmp), args.images, height, width)
        viewer = napari.Viewer(show=True)
        widget = ReviewWidget(viewer)
        viewer.window.add_dock_widget(widget)
        widget.open_folder(images, results)
        drawn()
        times: list[float] = []
        gaps: list[float] = []
        seen: list[str] = []
        for _ in range(args.images):
            ticks: list[float] = []
            timer = QTimer()
            timer.timeout.connect(lambda beats=ticks: beats.append(time.perf_counter()))
            timer.start(TICK_MS)
            start = time.perf_counter()
            widget._next.clicked.emit()
            while not shown(widget, seen):
                QApplication.processEvents()
                time.sleep(0.002)
            drawn()
            times.append(time.perf_counter() - start)
            timer.stop()
            beats = np.diff([start, *ticks, time.perf_counter()]) * 1000
            gaps.append(float(beats.max()))
            end = time.perf_counter() + args.think
            while time.perf_counter() < end:  # the person looks; the dock reads ahead
                drawn()
                time.sleep(0.02)
        viewer.close()
    print(f"{args.images} photos of {height}x{width}, labels of 150 classes")
    print(f"Next, cold (read when pressed): {times[0]:.2f} s; longest GUI gap {gaps[0]:.0f} ms")
    ahead = times[1:]
    print(
        f"Next, read ahead: median {statistics.median(ahead):.2f} s, max {max(ahead):.2f} s "
        f"({', '.join(f'{t:.2f}' for t in ahead)}); longest GUI gaps "
        f"{', '.join(f'{g:.0f}' for g in gaps[1:])} ms"
    )


if __name__ == "__main__":
    main()
