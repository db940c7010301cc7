"""Speed and peak memory against the reference workflow, each case in a fresh subprocess.

    .venv/bin/python benchmarks/bench_speed_memory.py [--size 576x768] [--repeat 2]

Untrained weights of the real architecture (timings do not depend on the weights). The
reference workflow is gluoncv's own steps: ToTensor + Normalize, ``net.predict`` (not
hybridized, aux head included, as ``get_model`` builds it), softmax over all classes, argmax.
Time: best of ``--repeat`` runs after one warm-up (model loading and the one-off ONNX export are
reported apart). Peak RSS: ``ru_maxrss`` of the case's own process, loading included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL = "fcn_resnet50_ade"
CASES = ("reference", "mxnet", "onnxruntime", "ort_forward_only")


def run_case(case: str, params: str, h: int, w: int, repeat: int) -> dict:
    import numpy as np

    from napari_gluonseg import segment_image
    from napari_gluonseg.core import _mxnet

    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    t0 = time.perf_counter()
    if case == "reference":
        mx = _mxnet.mxnet()
        gcv = _mxnet.gluoncv()
        from mxnet.gluon.data.vision import transforms

        net = gcv.model_zoo.get_model(MODEL, pretrained=False, pretrained_base=False)
        net.load_parameters(params)
        t = transforms.Compose(
            [
                transforms.ToTensor(),
                transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            ]
        )

        def once():
            x = t(mx.nd.array(image, dtype="uint8")).expand_dims(0)
            logits = net.predict(x)
            probs = mx.nd.softmax(logits, axis=1)
            labels = mx.nd.argmax(probs, axis=1)
            return labels.asnumpy(), probs[0, 127].asnumpy()
    elif case in ("mxnet", "onnxruntime"):

        def once():
            return segment_image(image, weights=params, engine=case, probability_classes=[127])
    else:
        from napari_gluonseg.core import onnx_engine, weights
        from napari_gluonseg.core.preprocess import as_image_stack, normalize, to_chw

        net = onnx_engine.load_onnx_network(MODEL, weights.resolve_local_weights(params), h, w)
        x = normalize(to_chw(as_image_stack(image).plane_rgb01(0)))

        def once():
            return net.logits(x)

    once()  # warm-up: builds/loads/exports the network
    setup = time.perf_counter() - t0
    times = []
    for _ in range(repeat):
        t1 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "seconds": min(times), "setup_s": setup, "peak_rss_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="576x768")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parser.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    if args.case:
        print(json.dumps(run_case(args.case, args.params, h, w, args.repeat)))
        return

    from napari_gluonseg.core.network import build_untrained

    with tempfile.TemporaryDirectory() as tmp:
        params = str(Path(tmp) / "untrained.params")
        build_untrained(MODEL, 64, 64).save_parameters(params)
        env = {**os.environ, "MXNET_HOME": str(Path(tmp) / "mxnet_home")}
        rows = []
        for case in CASES:
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--case",
                    case,
                    "--params",
                    params,
                    "--size",
                    args.size,
                    "--repeat",
                    str(args.repeat),
                ],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            )
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    ref = rows[0]["seconds"]
    floor = rows[-1]["seconds"]
    print(f"{MODEL}, {h}x{w}, scale=1.0, whole image, labels + 1 probability map")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    print(
        f"{'case':18s} {'seconds':>8s} {'vs ref':>7s} {'vs ORT fwd':>10s} "
        f"{'setup s':>8s} {'peak RSS MB':>12s}"
    )
    for r in rows:
        print(
            f"{r['case']:18s} {r['seconds']:8.2f} {ref / r['seconds']:6.2f}x "
            f"{r['seconds'] / floor:9.2f}x {r['setup_s']:8.1f} {r['peak_rss_mb']:12.0f}"
        )


if __name__ == "__main__":
    main()
