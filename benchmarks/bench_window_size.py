"""Which largest window makes a 12 MP photo at full resolution cheapest: the forward pass's time
per megapixel at each window size of ``layout.WINDOW_PIXELS``, times the pixels the windows of
the 3000x4000 grid add up to, against one 576x768 pass (the reference photo's size).

    .venv313/bin/python benchmarks/bench_window_size.py [--repeat 2]

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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    os.environ.setdefault("MXNET_HOME", tempfile.mkdtemp())
    from napari_gluonseg.core.models.engines import Engine, load_network
    from napari_gluonseg.core.models.untrained import save_untrained
    from napari_gluonseg.core.models.weights import resolve_local_weights
    from napari_gluonseg.core.run.large_windows import grid_layout
    from napari_gluonseg.core.run.layout import WINDOW_PIXELS

    params = Path(os.environ["MXNET_HOME"]) / "untrained.params"
    save_untrained(MODEL, params)
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
