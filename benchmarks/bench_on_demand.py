"""How fast the kept scores answer after a run: another class's probability map, the margin
map and the top-5 probe, on a 12 MP image (untrained weights of the real architecture).

    .venv/bin/python benchmarks/bench_on_demand.py [--size 3000x4000] [--quick]

``--quick``: a 48x64 image, one repeat: a check that it runs (the test suite's).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import options, size, temporary_home, untrained

MODEL = "fcn_resnet50_ade"
QUICK = {"size": "48x64", "repeat": 1, "probes": 10}


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="3000x4000")
    parser.set_defaults(repeat=3, probes=1000)  # of each timing; top-5 probes timed together
    args = options(parser, argv, QUICK)
    h, w = size(args.size)
    with temporary_home() as tmp:
        from napari_gluonseg import segment_image

        params = str(untrained(MODEL, tmp))
        image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
        t = time.perf_counter()
        result = segment_image(image, weights=params)
        run_s = time.perf_counter() - t
    grid = result.scores
    print(f"{MODEL}, {h}x{w}, default settings; the run itself: {run_s:.2f} s (incl. loading)")
    print(f"kept scores: {grid.grid_shape} grid, {grid.probs.nbytes / 1e6:.1f} MB float16")
    n, probes = args.repeat, args.probes
    print(f"probability map on demand: {timed(lambda: grid.probability_map(2), n):.3f} s")
    print(f"margin map:                {timed(grid.margin_map, n):.3f} s")
    probe = timed(
        lambda: [grid.top_classes((), h / 2 + 0.3, w / 2 + 0.7) for _ in range(probes)], n
    )
    print(f"top-5 probe:               {probe / probes * 1e6:.0f} us per call")


if __name__ == "__main__":
    main()
