"""Which largest window makes a 12 MP photo at full resolution cheapest: the forward pass's time
per megapixel at each window size of ``layout.WINDOW_PIXELS``, times the pixels the windows of
the 3000x4000 grid add up to, against one 576x768 pass (the reference photo's size).

    .venv313/bin/python benchmarks/bench_window_size.py [--repeat 2] [--end-to-end]

``--end-to-end``: whole runs instead (segment_image at scale 1.0, the dog photo enlarged to
3000x4000 against itself at 576x768), once per largest window of 2 and 1 MP.

FCN-ResNet50 (untrained, built graph, onnxruntime, native stride-8 logits as the grid passes
run). Control: the 576x768 pass timed twice (A/A), printed beside: a ratio that differs from 1
by more than that is noise, not a difference.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

MODEL = "fcn_resnet50_ade"
PHOTO = (3000, 4000)
REFERENCE = (576, 768)


def forward_seconds(net, size: tuple[int, int], repeat: int) -> float:
    x = np.random.default_rng(0).random((1, 3, *size), np.float32)
    net.logits(x)  # warm: memory, threads
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        net.logits(x)
        best = min(best, time.perf_counter() - start)
    return best


def end_to_end(params: Path, repeat: int) -> None:
    """Whole runs: a 12 MP photo at full resolution against the 576x768 one, per largest
    window (the layouts' first choice patched in this process)."""
    from PIL import Image

    from napari_gluonseg import segment_image
    from napari_gluonseg.core.run import layout, plan

    dog = np.asarray(Image.open(Path(__file__).parents[1] / "tests/data/dog.jpg").convert("RGB"))
    big = np.asarray(Image.fromarray(dog).resize(PHOTO[::-1]))
    options = {"weights": params, "scale": 1.0, "engine": "onnxruntime"}
    segment_image(dog[:64, :64], **options)  # the graph built once

    def seconds(image: np.ndarray) -> float:
        start = time.perf_counter()
        segment_image(image, **options)
        return time.perf_counter() - start

    reference = min(seconds(dog) for _ in range(repeat))
    print(f"{REFERENCE[0]}x{REFERENCE[1]} at full resolution: {reference:.2f} s")
    for first in (2_000_000, 1_000_000):
        windows = tuple(w for w in (2_000_000, 1_000_000, 500_000) if w <= first)
        layout.WINDOW_PIXELS = plan.WINDOW_PIXELS = windows
        took = seconds(big)
        print(f"{PHOTO[0]}x{PHOTO[1]}, largest window {first / 1e6:.0f} MP: {took:.1f} s = "
              f"{took / reference:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--end-to-end", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("MXNET_HOME", tempfile.mkdtemp())
    from napari_gluonseg.core.models.engines import Engine, load_network
    from napari_gluonseg.core.models.untrained import save_untrained
    from napari_gluonseg.core.models.weights import resolve_local_weights
    from napari_gluonseg.core.run.large_windows import grid_layout
    from napari_gluonseg.core.run.layout import WINDOW_PIXELS

    params = Path(os.environ["MXNET_HOME"]) / "untrained.params"
    save_untrained(MODEL, params)
    if args.end_to_end:
        end_to_end(params, args.repeat)
        return
    weights = resolve_local_weights(params)

    def timed(size: tuple[int, int]) -> float:
        net = load_network(Engine.ONNXRUNTIME, MODEL, weights, *size, native=True)
        return forward_seconds(net, size, args.repeat)

    reference = timed(REFERENCE)
    control = timed(REFERENCE)
    print(f"{MODEL}, onnxruntime; {REFERENCE[0]}x{REFERENCE[1]} pass {reference:.2f} s "
          f"(control, again: {control / reference:.2f}x)")  # fmt: skip
    print("max window | windows | window size | pixels seen | s/MP at that size | 12 MP / ref")
    for max_window in WINDOW_PIXELS:
        layout = grid_layout(*PHOTO, max_window)
        size = layout.window
        n = len(layout.windows)
        seconds = timed(size)
        total = n * seconds
        print(
            f"{max_window / 1e6:.1f} MP | {n} | {size[0]}x{size[1]} | "
            f"{n * size[0] * size[1] / 1e6:.1f} MP | {seconds / (size[0] * size[1] / 1e6):.2f} | "
            f"{total / reference:.1f}x"
        )


if __name__ == "__main__":
    main()
