"""Calibrate ``core/run/estimate.py``'s ENGINE_EFFICIENCY on an idle machine: FCN-ResNet50
(untrained) at 480x480, each engine's warm forward, against the GEMM probe.

    .venv/bin/python benchmarks/calibrate_estimate.py   # both engines (MXNet: Python 3.11)

``--quick``: 64x64, a check that it runs (the test suite's), not a calibration.
"""

import argparse
import time

import numpy as np
from _common import model_home, options, untrained

from napari_gluonseg.core.models import _mxnet
from napari_gluonseg.core.models.engines import Engine, NetworkRequest, load_network
from napari_gluonseg.core.models.weights import resolve_local_weights
from napari_gluonseg.core.run import estimate

MODEL = "fcn_resnet50_ade"
SIZE = 480
QUICK_SIZE = 64


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args = options(parser, argv, quick_help="64x64: a check that it runs")
    size = QUICK_SIZE if args.quick else SIZE
    resolved = resolve_local_weights(untrained(MODEL, model_home()))
    x = np.random.default_rng(0).normal(size=(1, 3, size, size)).astype(np.float32)
    gmac = estimate.model_gmac(MODEL, size, size)
    probe = estimate.machine_gmacs()
    print(f"GEMM probe: {probe:.1f} GMAC/s")
    engines = [Engine.ONNXRUNTIME] + ([Engine.MXNET] if _mxnet.installed() else [])
    for engine in engines:
        net = load_network(engine, NetworkRequest(MODEL, resolved, size, size))
        net.logits(x)  # warm
        start = time.perf_counter()
        net.logits(x)
        seconds = time.perf_counter() - start
        print(f"{engine}: {seconds:.2f} s, efficiency {gmac / seconds / probe:.2f} "
              f"(ENGINE_EFFICIENCY says {estimate.ENGINE_EFFICIENCY[engine]})")  # fmt: skip


if __name__ == "__main__":
    main()
