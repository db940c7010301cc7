"""How long writing a batch's results as a dataset takes, per format, against writing the same
labels as this package's own export (labels PNG + class table + provenance: what a batch
writes today). The issue's goal: no format over 2x.

    .venv313/bin/python benchmarks/bench_dataset_export.py [--count 100] [--size 3000x4000]
        [--formats coco,voc,cityscapes,cvat,yolo] [--quick]

Labels: smooth regions of 8 classes (ADE20K's names and colours) as a run upsamples them from
the network's grid, a few hundred stray blobs and thin lines, the kind a pre-annotation holds;
four distinct label images repeated over ``--count`` results; one JPEG photo of the size copied
for each. Printed per format: seconds, seconds per image and
the ratio to the package's own export, timed in the same run. The control writes the package's
own export a second time: its ratio must come out near 1.0 (0.75-1.33), else the machine was
too busy for the ratios to mean anything and the run exits 1; the run also exits 1 where a
format is over the goal (neither in quick mode, whose tiny images time nothing).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import options, size

from napari_gluonseg.core.datasets.export import DatasetFormat, export_dataset
from napari_gluonseg.core.files.export import write_labels
from napari_gluonseg.core.models.registry import model_info

GOAL = 2.0
CONTROL_BAND = (0.75, 1.33)
QUICK = {"count": 3, "size": "120x160"}


def labels_image(seed: int, shape: tuple[int, int]) -> np.ndarray:
    """What a pre-annotation of a photo looks like: 8 classes in smooth regions (a field on the
    network's grid, 1/64 of the photo's side, upsampled bilinearly as a run's scores are),
    a few hundred small stray blobs, thin lines."""
    h, w = shape
    rng = np.random.default_rng(seed)
    coarse = ndimage.gaussian_filter(rng.random((max(h // 64, 4), max(w // 64, 4))), 1.5)
    field = ndimage.zoom(coarse, (h / coarse.shape[0], w / coarse.shape[1]), order=1)[:h, :w]
    field = np.pad(field, ((0, h - field.shape[0]), (0, w - field.shape[1])), mode="edge")
    edges = np.quantile(coarse, np.linspace(0, 1, 9)[1:-1])
    labels = (np.digitize(field, edges) + 1).astype(np.uint8)
    for _ in range(h * w // 40000):  # stray blobs of 3-12 px radius
        r = int(rng.integers(3, 13))
        y, x = int(rng.integers(r, h - r)), int(rng.integers(r, w - r))
        disc = np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= r
        labels[y - r : y + r + 1, x - r : x + r + 1][disc] = rng.integers(1, 9)
    for k in range(6):  # thin lines of one class across others
        labels[(k + 1) * h // 7, w // 10 : w - w // 10] = 1 + k % 8
    return labels


def own_export(labels: list[np.ndarray], names, colors, out: Path, count: int) -> float:
    started = time.perf_counter()
    for n in range(count):
        write_labels(labels[n % len(labels)], names, colors, {}, out, f"photo{n:03d}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--size", default="3000x4000")
    parser.add_argument("--formats", default=",".join(f.value for f in DatasetFormat))
    args = options(parser, argv, QUICK)
    shape = size(args.size)
    info = model_info("fcn_resnet50_ade")
    names, colors = info.class_names[:8], info.colors[:8]
    labels = [labels_image(seed, shape) for seed in range(4)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        images = root / "images"
        images.mkdir()
        photo = np.random.default_rng(0).integers(0, 255, (*shape, 3), np.uint8)
        Image.fromarray(photo).save(images / "photo000.jpg", quality=90)
        for n in range(1, args.count):
            shutil.copyfile(images / "photo000.jpg", images / f"photo{n:03d}.jpg")
        own_export(labels, names, colors, root / "warm-up", 1)  # imports, first-call costs
        base = own_export(labels, names, colors, root / "results", args.count)
        control = own_export(labels, names, colors, root / "again", args.count)
        print(f"{args.count} results of {shape[0]}x{shape[1]} ({shape[0] * shape[1] / 1e6:.1f} "
              f"MP), 8 classes: the package's own export {base:.1f} s "
              f"({base / args.count:.2f} s per image)")  # fmt: skip
        print("| format | seconds | per image | vs own export (goal <= 2.0x) |")
        print("|---|---|---|---|")
        over = []
        for fmt in args.formats.split(","):
            started = time.perf_counter()
            short = fmt == DatasetFormat.CITYSCAPES
            export_dataset(images, root / "results", root / fmt, fmt, short_names=short)
            took = time.perf_counter() - started
            ratio = took / base
            over += [fmt] if ratio > GOAL else []
            print(f"| {fmt} | {took:.1f} | {took / args.count:.2f} | {ratio:.2f}x |")
            shutil.rmtree(root / fmt)
        control_ratio = control / base
        print(f"| control: own export again | {control:.1f} | {control / args.count:.2f} | "
              f"{control_ratio:.2f}x |")  # fmt: skip
    failed = False
    if not args.quick and not CONTROL_BAND[0] <= control_ratio <= CONTROL_BAND[1]:
        print(f"FAILED: the control came out at {control_ratio:.2f}x, outside "
              f"{CONTROL_BAND}: the machine was too busy to compare", file=sys.stderr)  # fmt: skip
        failed = True
    if over and not args.quick:
        print(f"FAILED: over {GOAL}x: {', '.join(over)}", file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
