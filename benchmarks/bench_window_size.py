"""Which largest window makes a 12 MP photo at full resolution cheapest: the forward pass's time
per megapixel at each window size of ``layout.WINDOW_PIXELS``, times the pixels the windows of
the 3000x4000 grid add up to, against one 576x768 pass (the reference photo's size).

    .venv313/bin/python benchmarks/bench_window_size.py [--repeat 2] [--end-to-end] [--quick]

``--end-to-end``: whole runs instead (segment_image at scale 1.0, the dog photo enlarged to
3000x4000 against itself at 576x768), once per largest window of 2 and 1 MP.

FCN-ResNet50 (untrained, built graph, onnxruntime, native stride-8 logits as the grid passes
run). Control: the 576x768 pass timed twice (A/A), printed beside: a ratio that differs from 1
by more than that is noise, not a difference.

``--quick``: a 384x512 "photo" cut by windows of 0.15, 0.12 and 0.1 MP (2, 3 and 5 windows: with
their 96-pixel margins they cannot be much smaller) against a 48x64 pass, one repeat: a check
that it runs (the test suite's), not a measurement.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import model_home, options, untrained

MODEL = "fcn_resnet50_ade"
PHOTO = (3000, 4000)
REFERENCE = (576, 768)
QUICK_PHOTO = (384, 512)
QUICK_REFERENCE = (48, 64)
QUICK_WINDOWS = (150_000, 120_000, 100_000)


def forward_seconds(net, size: tuple[int, int], repeat: int) -> float:
    x = np.random.default_rng(0).random((1, 3, *size), np.float32)
    net.logits(x)  # warm: memory, threads
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        net.logits(x)
        best = min(best, time.perf_counter() - start)
    return best


def end_to_end(
    params: Path,
    repeat: int,
    photo: tuple[int, int] = PHOTO,
    reference_size: tuple[int, int] = REFERENCE,
    windows: tuple[int, ...] = (2_000_000, 1_000_000, 500_000),
) -> None:
    """Whole runs: a 12 MP photo at full resolution against the 576x768 one, per largest
    window of the first two (the layouts' first choice patched in this process)."""
    from PIL import Image

    from napari_gluonseg import segment_image
    from napari_gluonseg.core.run import layout, plan

    photo_file = Image.open(Path(__file__).parents[1] / "tests/data/dog.jpg").convert("RGB")
    dog = np.asarray(photo_file.resize(reference_size[::-1]))  # 576x768: its own size
    big = np.asarray(photo_file.resize(photo[::-1]))
    options = {"weights": params, "scale": 1.0, "engine": "onnxruntime"}
    segment_image(dog[:64, :64], **options)  # the graph built once

    def seconds(image: np.ndarray) -> float:
        start = time.perf_counter()
        segment_image(image, **options)
        return time.perf_counter() - start

    reference = min(seconds(dog) for _ in range(repeat))
    print(f"{reference_size[0]}x{reference_size[1]} at full resolution: {reference:.2f} s")
    for first in windows[:2]:
        layout.WINDOW_PIXELS = plan.WINDOW_PIXELS = tuple(w for w in windows if w <= first)
        took = seconds(big)
        print(f"{photo[0]}x{photo[1]}, largest window {first / 1e6:.2g} MP: {took:.1f} s = "
              f"{took / reference:.1f}x")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--end-to-end", action="store_true")
    args = options(parser, argv, {"repeat": 1})
    from napari_gluonseg.core.models.engines import Engine, NetworkRequest, load_network
    from napari_gluonseg.core.models.weights import resolve_local_weights
    from napari_gluonseg.core.run.large_windows import grid_layout
    from napari_gluonseg.core.run.layout import WINDOW_PIXELS

    params = untrained(MODEL, model_home())
    photo, reference_size = (QUICK_PHOTO, QUICK_REFERENCE) if args.quick else (PHOTO, REFERENCE)
    windows = QUICK_WINDOWS if args.quick else WINDOW_PIXELS
    if args.end_to_end:
        end_to_end(params, args.repeat, photo, reference_size, windows)
        return
    weights = resolve_local_weights(params)

    def timed(size: tuple[int, int]) -> float:
        net = load_network(Engine.ONNXRUNTIME, NetworkRequest(MODEL, weights, *size, native=True))
        return forward_seconds(net, size, args.repeat)

    reference = timed(reference_size)
    control = timed(reference_size)
    print(f"{MODEL}, onnxruntime; {reference_size[0]}x{reference_size[1]} pass {reference:.2f} s "
          f"(control, again: {control / reference:.2f}x)")  # fmt: skip
    print("max window | windows | window size | pixels seen | s/MP at that size | 12 MP / ref")
    for max_window in windows:
        layout = grid_layout(*photo, max_window)
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
