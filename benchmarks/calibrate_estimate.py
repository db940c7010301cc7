"""Calibrate ``core/estimate.py``'s ENGINE_EFFICIENCY on an idle machine: FCN-ResNet50 (untrained)
at 480x480, each engine's warm forward, against the GEMM probe."""

import os
import tempfile
import time

import numpy as np

from napari_gluonseg.core import onnx_engine
from napari_gluonseg.core.models import weights
from napari_gluonseg.core.models.engines import mxnet as network
from napari_gluonseg.core.run import estimate

MODEL = "fcn_resnet50_ade"


def main() -> None:
    os.environ.setdefault("MXNET_HOME", tempfile.mkdtemp())
    path = os.path.join(os.environ["MXNET_HOME"], "untrained.params")
    network.build_untrained(MODEL, 64, 64).save_parameters(path)
    resolved = weights.resolve_local_weights(path)
    x = np.random.default_rng(0).normal(size=(1, 3, 480, 480)).astype(np.float32)
    gmac = estimate.model_gmac(MODEL, 480, 480)
    probe = estimate.machine_gmacs()
    print(f"GEMM probe: {probe:.1f} GMAC/s")
    for engine, loader in (
        ("mxnet", network.load_network),
        ("onnxruntime", onnx_engine.load_onnx_network),
    ):
        net = loader(MODEL, resolved, 480, 480, True)
        net.logits(x)  # warm
        start = time.perf_counter()
        net.logits(x)
        seconds = time.perf_counter() - start
        print(f"{engine}: {seconds:.2f} s, efficiency {gmac / seconds / probe:.2f}")


if __name__ == "__main__":
    main()
