"""New image sizes with onnxruntime: the one-time preparation, first runs, cache and memory.

    .venv/bin/python benchmarks/bench_new_sizes.py [--repeat 3] [--quick]

Untrained fcn_resnet50_ade weights of the real architecture, a fresh ``MXNET_HOME``; each part
runs in its own process:

- ``prepare``: the one-time ONNX export of the weights (a cold process, child export included),
  then opening the prepared file in another cold process.
- ``aspects``: five photos of different aspect ratios at default settings: the first run of a
  new size against the best of its next two (warm) runs, each and all five together, after one
  warm-up run that opens the session; then the process's resident memory (VmRSS) and peak
  (VmHWM).
- ``cache``: ten image sizes and five rectangle regions at scale 1.0: files in the ONNX cache.
- ``forward``: 576x768 at scale 1.0 (best of ``--repeat``) against the bare onnxruntime forward of
  the same dynamic graph, and against a fixed-size export of that size.

``--quick``: every part on the fewest inputs (two aspects, one warm run, two sizes and one
region for the cache, a 48x64 forward, one repeat): a check that it runs (the test suite's), not
a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import parse_args, quick_mode, rerun, untrained

MODEL = "fcn_resnet50_ade"
ASPECTS = [(480, 640), (600, 640), (640, 480), (1000, 1500), (300, 400)]
SIZES = [(100 + 17 * k, 300 - 11 * k) for k in range(10)]
REGIONS = [
    (0, 0, 200, 300),
    (50, 80, 161, 257),
    (100, 10, 333, 190),
    (7, 7, 64, 480),
    (0, 0, 390, 521),
]
FORWARD = (576, 768)
# --quick: each part's fewest inputs, as keyword arguments of its function (tiny aspects at
# scale 1.0: at "auto" they would be enlarged to the 520-pixel working size).
QUICK: dict[str, dict[str, Any]] = {
    "aspects": {"aspects": [(48, 64), (64, 48)], "warm_runs": 1, "options": {"scale": 1.0}},
    "cache": {"sizes": SIZES[:2], "regions": REGIONS[:1]},
    "forward": {"size": (48, 64)},
}


def _image(h: int, w: int, seed: int = 0):
    import numpy as np

    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _status(key: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {key} in /proc/self/status (Linux only)")


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def part_prepare(params: str) -> dict:
    from napari_gluonseg.core.models import weights
    from napari_gluonseg.core.models.engines import NetworkRequest, load_network

    resolved = weights.resolve_local_weights(params)
    seconds = _timed(lambda: load_network("onnxruntime", NetworkRequest(MODEL, resolved, 64, 64)))
    return {"prepare_s": seconds}


def part_open(params: str) -> dict:
    from napari_gluonseg.core.models import weights
    from napari_gluonseg.core.models.engines import NetworkRequest, load_network

    resolved = weights.resolve_local_weights(params)
    return {
        "open_prepared_s": _timed(
            lambda: load_network("onnxruntime", NetworkRequest(MODEL, resolved, 64, 64))
        )
    }


def part_aspects(params: str, aspects=ASPECTS, warm_runs: int = 2, options=None) -> dict:
    from napari_gluonseg import segment_image

    def run(h, w):
        image = _image(h, w)
        return segment_image(image, weights=params, probability_classes=[127], **(options or {}))

    run(64, 64)  # opens the session: once per process, not per size
    rows = []
    for h, w in aspects:
        first = _timed(lambda h=h, w=w: run(h, w))
        # The best of two warm runs: single runs swing by +-20% on a shared 2-core machine.
        warm = min(_timed(lambda h=h, w=w: run(h, w)) for _ in range(warm_runs))
        work = run(h, w).provenance["working_size"]
        rows.append(
            {
                "image": f"{h}x{w}",
                "working": "x".join(map(str, work)),
                "first_s": first,
                "warm_s": warm,
                "ratio": first / warm,
            }
        )
    return {
        "aspects": rows,
        "all_first_vs_warm": sum(r["first_s"] for r in rows) / sum(r["warm_s"] for r in rows),
        "rss_mb": _status("VmRSS"),
        "peak_rss_mb": _status("VmHWM"),
    }


def part_cache(params: str, sizes=SIZES, regions=REGIONS) -> dict:
    from napari_gluonseg import segment_image
    from napari_gluonseg.core.models.cache import cached_files

    photo = _image(600, 800, seed=1)
    for h, w in sizes:
        segment_image(_image(h, w), weights=params, scale=1.0)
    for y, x, h, w in regions:
        segment_image(photo[y : y + h, x : x + w], weights=params, scale=1.0)
    files = [f for f in cached_files() if f.kind == "onnx export"]
    return {"cache_files": len(files), "cache_mb": sum(f.size for f in files) / 1e6}


def _fixed_network(resolved, h: int, w: int):
    """An export for exactly h x w, or None: MXNet's exporter makes it (the [mxnet] extra)."""
    from napari_gluonseg.core.models import _mxnet
    from napari_gluonseg.core.models.engines import onnx
    from napari_gluonseg.core.models.engines.onnx_export import iter_export

    if not _mxnet.installed():
        return None
    fixed_path = Path(tempfile.mkdtemp()) / "fixed.onnx"
    spec = onnx.ExportSpec(MODEL, resolved.sha1, False, h, w)
    for _ in iter_export(spec, resolved.path, fixed_path):
        pass
    return onnx.OnnxNetwork(onnx.OnnxSession(fixed_path), False, h, w)


def part_forward(params: str, repeat: int, size: tuple[int, int] = FORWARD) -> dict:
    import numpy as np

    from napari_gluonseg import segment_image
    from napari_gluonseg.core.models import weights
    from napari_gluonseg.core.models.engines import NetworkRequest, load_network
    from napari_gluonseg.core.models.registry import IMAGENET_MEAN, IMAGENET_STD

    h, w = size
    image = _image(h, w)
    resolved = weights.resolve_local_weights(params)
    x = (
        (image.transpose(2, 0, 1) / 255 - IMAGENET_MEAN[:, None, None])
        / IMAGENET_STD[:, None, None]
    )[None].astype(np.float32)
    dynamic = load_network("onnxruntime", NetworkRequest(MODEL, resolved, h, w))
    fixed = _fixed_network(resolved, h, w)

    def best(fn):
        fn()
        return min(_timed(fn) for _ in range(repeat))

    ours = best(lambda: segment_image(image, weights=params, scale=1.0, probability_classes=[127]))
    bare = best(lambda: dynamic.logits(x))
    if fixed is None:
        return {"ours_s": ours, "bare_dynamic_s": bare, "ours_vs_bare": ours / bare,
                "fixed": "not run: a fixed-size export needs the [mxnet] extra"}  # fmt: skip
    bare_fixed = best(lambda: fixed.logits(x))
    return {
        "ours_s": ours,
        "bare_dynamic_s": bare,
        "bare_fixed_s": bare_fixed,
        "ours_vs_bare": ours / bare,
        "dynamic_vs_fixed": bare / bare_fixed,
    }


PARTS: dict[str, Callable[..., dict]] = {
    "prepare": part_prepare,
    "open": part_open,
    "aspects": part_aspects,
    "cache": part_cache,
    "forward": part_forward,
}


def run_part(part: str, params: str, repeat: int, quick: bool) -> dict:
    """One part, in this process; ``quick``: on its fewest inputs."""
    kwargs: dict = dict(QUICK.get(part, {})) if quick else {}
    if part == "forward":
        kwargs["repeat"] = repeat
    return PARTS[part](params, **kwargs)


def _subprocess(part: str, params: str, env: dict, repeat: int, quick: bool) -> dict:
    args = ["--part", part, "--params", params, "--repeat", str(repeat)]
    return rerun(__file__, args + (["--quick"] if quick else []), env)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part")
    parser.add_argument("--params")
    parser.add_argument("--repeat", type=int, default=3)
    args = parse_args(parser, argv)
    if args.part:
        print(json.dumps(run_part(args.part, args.params, args.repeat, args.quick)))
        return
    quick_mode(args, {"repeat": 1})
    with tempfile.TemporaryDirectory(prefix="bench-new-sizes-") as d:
        tmp = Path(d)
        params = str(untrained(MODEL, tmp))
        # The parts' exports (~130 MB each) and temporary files go, with this folder, at the end.
        env = {**os.environ, "MXNET_HOME": str(tmp / "mxnet_home"), "TMPDIR": d}
        results = {"cpus": os.cpu_count()}
        for part in PARTS:
            results[part] = _subprocess(part, params, env, args.repeat, args.quick)
            print(part, json.dumps(results[part]), flush=True)


if __name__ == "__main__":
    main()
