"""Folder throughput: the batch runner against a plain loop over segment_image, and on Dask.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_batch.py [--images 40] [--engine mxnet]
        [--quick]

A folder of generated photos of mixed sizes and three aspect ratios (4:3, 3:4, 16:9; at scale
"auto" each ratio is one working size, so one network per ratio, as a real folder of camera
photos has). Untrained weights of the real architecture. Each case runs in a fresh process
after its imports:

- ``loop``: for each file, read_image + segment_image + write_result (the same outputs);
- ``batch``: segment_folder here (no Dask): its overhead against the loop is the runner's
  (hashing, provenance, resume checks, summary);
- ``dask-1``, ``dask-2``: segment_folder on a LocalCluster of 1 and 2 workers, cluster start
  included. Peak memory: ``ru_maxrss`` of the process (the loop) or of each worker process.

``--quick``: every case on three tiny photos (one per ratio) at scale 1.0 with onnxruntime (no
MXNet needed): a check that it runs (the test suite's), not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_args, quick_mode

MODEL = "fcn_resnet50_ade"
RATIOS = ((3, 4), (4, 3), (9, 16))
SIDES = (480, 640, 800, 1024)
QUICK = {"images": 3, "engine": "onnxruntime"}
QUICK_SIDES = (48, 64)
QUICK_OPTIONS = {"scale": 1.0}  # the photos at their own tiny size, not enlarged to 520 pixels


def make_folder(root: Path, n: int, sides: tuple[int, ...] = SIDES) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for k in range(n):
        rh, rw = RATIOS[k * len(RATIOS) // n]  # grouped by ratio, as photos of one camera are
        long_side = sides[k % len(sides)]
        h, w = (long_side * rh // max(rh, rw), long_side * rw // max(rh, rw))
        pixels = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / f"img{k:03d}.jpg", quality=90)


def run_case(
    case: str, folder: Path, out: Path, weights: Path, engine: str, options: dict | None = None
) -> dict:
    from napari_gluonseg.core.batch.folder import segment_folder

    kwargs = {"weights": weights, "engine": engine, **(options or {})}
    started = time.perf_counter()
    if case == "loop":
        from napari_gluonseg.core.files.export import write_result
        from napari_gluonseg.core.files.images import read_image
        from napari_gluonseg.core.run.segment import segment_image

        files = sorted(folder.glob("*.jpg"))
        for path in files:
            image = read_image(path)
            result = segment_image(image, MODEL, **kwargs)
            write_result(result, out, path.stem, probability_maps=True)
        n = len(files)
    else:
        workers = None if case == "batch" else int(case.split("-")[1])
        summary = segment_folder(folder, out, workers=workers, model_name=MODEL, **kwargs)
        assert summary.count("done") == summary.total, summary.reports
        n = summary.total
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    # The local cluster's workers are this process's children, reaped when it closes.
    workers_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return {
        "case": case,
        "images": n,
        "seconds": round(seconds, 1),
        "images_per_s": round(n / seconds, 3),
        "peak_rss_mb": round(peak / 2**20),
        "largest_worker_rss_mb": round(workers_peak / 2**20) if case.startswith("dask") else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--engine", default="mxnet")
    parser.add_argument("--cases", default="loop,batch,dask-1,dask-2")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parse_args(parser, argv)
    options = QUICK_OPTIONS if args.quick else {}
    if args.case:
        d = args.dir
        w = d / "w.params"
        result = run_case(args.case, d / "in", d / args.case, w, args.engine, options)
        print(json.dumps(result))
        return
    quick_mode(args, QUICK)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "in").mkdir()
        make_folder(d / "in", args.images, QUICK_SIDES if args.quick else SIDES)
        from napari_gluonseg.core.models.untrained import save_untrained

        save_untrained(MODEL, d / "w.params")
        results = {}
        for case in args.cases.split(","):
            cmd = [sys.executable, __file__, "--case", case, "--dir", str(d)]
            cmd += ["--engine", args.engine] + (["--quick"] if args.quick else [])
            line = subprocess.run(cmd, capture_output=True, text=True, env=os.environ)
            if line.returncode != 0:  # its traceback, not only an exit status
                sys.exit(f"case {case} failed:\n{line.stderr}")
            results[case] = json.loads(line.stdout.strip().splitlines()[-1])
            print(json.dumps(results[case]), flush=True)
        if "loop" in results and "batch" in results:
            overhead = results["batch"]["seconds"] / results["loop"]["seconds"] - 1
            print(f"batch runner overhead against the loop: {overhead:+.1%}")


if __name__ == "__main__":
    main()
