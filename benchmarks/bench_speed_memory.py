"""Speed and peak memory against the reference workflow, each case in a fresh subprocess.

    .venv/bin/python benchmarks/bench_speed_memory.py [--sizes 576x768,1152x1536,3000x4000]
        [--repeat 2] [--reference-12mp] [--only CASE] [--quick]

Untrained weights of the real architecture (timings do not depend on the weights; the pruned
upsampling does a little, see the README). The reference workflow is gluoncv's own steps:
ToTensor + Normalize, ``net.predict`` (not hybridized, aux head included, as ``get_model`` builds
it), softmax over all classes, argmax. Every case returns labels plus one probability map; ours
also return the confidence map.

Time: at 576x768 the best of ``--repeat`` runs after a warm-up; at larger sizes one run after the
networks are loaded (each window shape is loaded once; ONNX exports happen in an earlier process,
as they would on a user's second run). Peak RSS: ``VmHWM`` of the case's own process,
imports and loading included. GMAC: multiply-accumulates of the convolutions and matrix products
the network runs per image (counted on the ONNX graph, summed over windows); GFLOP/s = 2 x GMAC
/ seconds, beside a float32 GEMM measured in the same run.

``--quick``: the 576x768 set of cases on a 48x64 image, one repeat, a small GEMM; without MXNet
(Python 3.13) its cases are left out, saying so: a check that it runs (the test suite's), not a
measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

from _common import parse_args, quick_mode, rerun, temporary_home, untrained

MODEL = "fcn_resnet50_ade"
PROBABILITY_CLASS = 127  # bicycle
SMALL = (576, 768)  # the size of every case, both baselines included, best of --repeat
QUICK_SMALL = (48, 64)
QUICK = {"sizes": "{}x{}".format(*QUICK_SMALL), "repeat": 1}
GEMM = (2048, 5)  # side, repeat
QUICK_GEMM = (256, 1)
NEED_MXNET = ("reference", "mxnet")  # engines


def cases_for(
    h: int, w: int, reference_12mp: bool, small: tuple[int, int] = SMALL
) -> list[tuple[str, object, object]]:
    """(engine, scale, tile_size) per case; engine "reference" / "ort_forward" are the baselines."""
    if (h, w) == small:
        return [
            ("reference", 1.0, None),
            ("ort_forward", 1.0, None),
            ("mxnet", 1.0, "auto"),
            ("onnxruntime", 1.0, "auto"),
            ("onnxruntime", 1.0, 480),
        ]
    cases = [("reference", 1.0, None)] if h * w < 4e6 or reference_12mp else []
    return [
        *cases,
        ("mxnet", "auto", "auto"),
        ("onnxruntime", "auto", "auto"),
        ("mxnet", 1.0, "auto"),
        ("onnxruntime", 1.0, 480),  # GluonCV's windows: what tile_size="auto" ran before grids
        ("onnxruntime", 1.0, "auto"),
    ]


def _image(h: int, w: int):
    import numpy as np

    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _window_shapes(h: int, w: int, scale, tile) -> list[tuple[tuple[int, int, bool], int]]:
    """((window h, w, native), number of windows) of a run of ours."""
    from napari_gluonseg.core.models.registry import model_info
    from napari_gluonseg.core.run.layout import pass_layout
    from napari_gluonseg.core.run.plan import working_size

    info = model_info(MODEL)
    layout = pass_layout(*working_size(h, w, scale, info.base_size), tile, info)
    return [(layout.network_key, len(layout.windows))]


def run_case(
    engine: str, scale, tile, params: str, h: int, w: int, repeat: int, small_size=SMALL
) -> dict:
    from napari_gluonseg import segment_image
    from napari_gluonseg.core.models import _mxnet, weights
    from napari_gluonseg.core.models.engines import NetworkRequest, load_network

    image = _image(h, w)
    resolved = weights.resolve_local_weights(params)
    t0 = time.perf_counter()
    if engine == "reference":
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
            probs = mx.nd.softmax(net.predict(x), axis=1)
            labels = mx.nd.argmax(probs, axis=1)
            return labels.asnumpy(), probs[0, PROBABILITY_CLASS].asnumpy()
    elif engine == "ort_forward":
        from napari_gluonseg.core.run.preprocess import as_image_stack, normalize, to_chw

        net = load_network("onnxruntime", NetworkRequest(MODEL, resolved, h, w))
        x = normalize(to_chw(as_image_stack(image).plane_rgb01(0)))

        def once():
            return net.logits(x)
    else:
        for shape, _ in _window_shapes(h, w, scale, tile):
            load_network(engine, NetworkRequest(MODEL, resolved, *shape))

        def once():
            return segment_image(
                image,
                weights=params,
                engine=engine,
                scale=scale,
                tile_size=tile,
                probability_classes=[PROBABILITY_CLASS],
            )

    small = (h, w) == small_size
    if small:
        once()  # warm-up
    setup = time.perf_counter() - t0
    times = []
    for _ in range(repeat if small else 1):
        t1 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t1)
    return {
        "seconds": min(times),
        "setup_s": setup,
        "peak_rss_mb": peak_rss_mb(),
        "guard_mb": guard_estimate_mb(image, engine, scale, tile),
    }


def guard_estimate_mb(image, engine: str, scale, tile) -> float | None:
    """What the memory guard expected this run to need at its peak."""
    if engine in ("reference", "ort_forward"):
        return None
    from napari_gluonseg.core.models.registry import model_info
    from napari_gluonseg.core.run.layout import WINDOW_PIXELS
    from napari_gluonseg.core.run.plan import peak_bytes
    from napari_gluonseg.core.run.preprocess import as_image_stack

    stack = as_image_stack(image)
    need = peak_bytes(stack, model_info(MODEL), scale, tile, (), 1, WINDOW_PIXELS[0])
    return need / (1 << 20)


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM). Not ru_maxrss: Linux carries that over from the parent
    across fork+exec, so every case would report the launcher's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def network_gmac(params: str, shape: tuple[int, int, bool]) -> float:
    """GMAC of one forward pass at (h, w, native), counted on the exported ONNX graph (which
    also exports it, outside the timed processes)."""
    import numpy as np
    import onnx
    from onnx import numpy_helper, shape_inference

    from napari_gluonseg.core.models import weights
    from napari_gluonseg.core.models.engines import NetworkRequest, load_network

    resolved = weights.resolve_local_weights(params)
    h, w, native = shape
    path = load_network("onnxruntime", NetworkRequest(MODEL, resolved, h, w, native)).model_file
    model = onnx.load(str(path))
    # The dynamic graph's input made concrete, so that every conv's output shape is known.
    size = model.graph.input[0].type.tensor_type.shape.dim
    size[2].dim_value, size[3].dim_value = h, w
    model = shape_inference.infer_shapes(model)
    dims = {}
    for v in [*model.graph.value_info, *model.graph.output, *model.graph.input]:
        dims[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    inits = {i.name: numpy_helper.to_array(i).shape for i in model.graph.initializer}
    macs = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            out = dims.get(node.output[0])
            kernel = inits.get(node.input[1]) or dims.get(node.input[1])
            if out and kernel:
                # out elements x (in channels per group x kh x kw)
                macs += int(np.prod(out)) * int(np.prod(kernel[1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            a, b = dims.get(node.input[0]), inits.get(node.input[1]) or dims.get(node.input[1])
            if a and b:
                macs += int(np.prod(a)) * int(b[-1])
    return macs / 1e9


def gemm_gflops(n: int = 2048, repeat: int = 5) -> float:
    import numpy as np

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeat))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="576x768,1152x1536,3000x4000")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--reference-12mp", action="store_true", help="~6 min and ~16 GB")
    parser.add_argument("--only", help="run only cases whose engine is this")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parse_args(parser, argv)
    small = QUICK_SMALL if args.quick else SMALL
    if args.case:
        engine, scale, tile, size = json.loads(args.case)
        h, w = size
        print(json.dumps(run_case(engine, scale, tile, args.params, h, w, args.repeat, small)))
        return

    from napari_gluonseg.core.models import _mxnet

    left_out: tuple[str, ...] = ()
    if quick_mode(args, QUICK) and not _mxnet.installed():
        left_out = NEED_MXNET
        print(f"left out, as MXNet is not installed: {', '.join(NEED_MXNET)}")
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    gemm_n, gemm_repeat = QUICK_GEMM if args.quick else GEMM
    gemm = gemm_gflops(gemm_n, gemm_repeat)
    print(f"{MODEL}, untrained weights; labels + confidence + 1 probability map")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"float32 GEMM {gemm_n}^3: {gemm:.0f} GFLOP/s"
    )
    header = (
        f"{'size':>10s} {'engine':12s} {'scale':>5s} {'tile':>5s} {'windows':>7s} {'GMAC':>6s} "
        f"{'seconds':>8s} {'GFLOP/s':>8s} {'vs ref':>7s} {'vs fwd':>7s} {'peak RSS':>9s} "
        f"{'guard est.':>10s}"
    )
    print(header)
    with temporary_home() as tmp:
        params = str(untrained(MODEL, tmp))
        env = dict(os.environ)
        gmac_cache: dict[tuple[int, int], float] = {}
        for h, w in sizes:
            ref = floor = None
            for engine, scale, tile in cases_for(h, w, args.reference_12mp, small):
                if args.only and engine not in (args.only, "reference", "ort_forward"):
                    continue
                if engine in left_out:
                    continue
                if engine in ("reference", "ort_forward"):
                    shapes = [((h, w, False), 1)]
                else:
                    shapes = _window_shapes(h, w, scale, tile)
                for shape, _ in shapes:  # GMAC count also exports: done outside the timed process
                    if shape not in gmac_cache:
                        gmac_cache[shape] = network_gmac(params, shape)
                gmac = sum(gmac_cache[s] * n for s, n in shapes)
                r = rerun(
                    __file__,
                    [
                        "--case",
                        json.dumps([engine, scale, tile, [h, w]]),
                        "--params",
                        params,
                        "--repeat",
                        str(args.repeat),
                        *(["--quick"] if args.quick else []),
                    ],
                    env,
                )
                n_windows = sum(n for _, n in shapes)
                shown_tile = "-" if engine in ("reference", "ort_forward") else str(tile)
                lead = (
                    f"{h}x{w:<5d} {engine:12s} {scale!s:>5s} {shown_tile:>5s} {n_windows:7d} "
                    f"{gmac:6.0f}"
                )
                if "error" in r:
                    print(f"{lead} failed: {r['error']}")
                    continue
                s = r["seconds"]
                ref = s if engine == "reference" else ref
                floor = s if engine == "ort_forward" else floor
                vs_ref = f"{ref / s:6.2f}x" if ref else "      -"
                vs_fwd = f"{s / floor:6.2f}x" if floor and engine != "ort_forward" else "      -"
                print(
                    f"{lead} {s:8.2f} {2 * gmac / s:8.1f} {vs_ref:>7s} {vs_fwd:>7s} "
                    f"{r['peak_rss_mb']:6.0f} MB "
                    + (f"{r['guard_mb']:7.0f} MB" if r["guard_mb"] else f"{'-':>10s}"),
                    flush=True,
                )


if __name__ == "__main__":
    main()
