"""The graphs napari-gluonseg builds from ``.params`` files, against MXNet's exporter.

    .venv/bin/python benchmarks/bench_onnx_build.py [--families] [--speed] [--first-result] [--gil]
    .venv313/bin/python benchmarks/bench_onnx_build.py --first-result   (the MXNet-free leg)
    .venv313/bin/python benchmarks/bench_onnx_build.py --quick   (a check that it runs)

Untrained weights of the real architecture (timings do not depend on the values). Each part runs
in the one process, paired and alternating, so a busy machine moves both sides alike; each part
prints a control beside its figure, a comparison that must come out at ~1.0x:

- ``--families``: preparing one model per family from its ``.params`` file (read, build,
  serialize, open a session) vs MXNet's exporter (``export-onnx --exporter mxnet``, a child
  process, import included: a graph for any size where it can make one, else one for 480x480;
  it fails for PSP/ICNet/Fast-SCNN/DANet); time and file size. Control: the builder timed twice.
- ``--speed``: FCN-ResNet50 at 576x768, scale 1.0: the built graph vs MXNet's export, both run
  by onnxruntime, median of ``--repeat`` alternating runs. Control: the built graph against a
  second session of itself (A/A).
- ``--first-result``: a fresh process, an empty model cache, the ``.params`` file on disk: the
  first labels of a 0.44 MP photo at default settings, vs a second (warm) run in that process.
  Control: the warm run against a third run.

- ``--gil``: the longest the GIL is held (a thread beating every 1 ms stops) while the built
  FCN-ResNet50 model becomes file bytes: joined from pieces (``BuiltModel.to_bytes``, what the
  package does) vs protobuf's ``SerializeToString`` of the same model (what it did: a stall of
  napari's GUI while a run prepares its network). Control: the pieces twice.

``--quick``: the same parts on the fewest inputs (one family, a 48x64 image at scale 1.0, one
repeat; ``--speed`` only where MXNet is installed): a check that it runs (the test suite's), not
a measurement.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import parse_args, quick_mode

from napari_gluonseg.core.models.onnx_build import ONE_PER_FAMILY

SPEED_SIZE = (576, 768)
FIRST_SIZE = (576, 768)  # 0.44 MP, at default settings
# --quick: one family whose MXNet export fails fast (the export of FCN runs in --speed), and
# tiny images at their own size (at scale "auto" they would be enlarged to 520 pixels).
QUICK_FAMILIES = ("fastscnn_citys",)
QUICK_SIZE = (48, 64)
QUICK_OPTIONS = {"scale": 1.0}


def _prepare_builder(model: str, params: Path, out: Path) -> float:
    import onnxruntime as ort

    from napari_gluonseg.core.models.onnx_build import build_model
    from napari_gluonseg.core.models.params_file import read_params
    from napari_gluonseg.core.models.registry import model_info

    start = time.perf_counter()
    classes = model_info(model).num_classes
    model_proto = build_model(model, read_params(params), classes, {})
    out.write_bytes(model_proto.to_bytes())
    ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    return time.perf_counter() - start


_MXNET_EXPORT = """
import sys
from pathlib import Path
from napari_gluonseg.core.models.engines.metadata import ExportSpec
from napari_gluonseg.core.models.engines.onnx import exports_dynamic
from napari_gluonseg.core.models.engines.onnx_export import export_to
model, params, out = sys.argv[1:]
dynamic = exports_dynamic(model, "mxnet")
spec = ExportSpec(model, "0" * 40, dynamic, *((0, 0) if dynamic else (480, 480)), exporter="mxnet")
export_to(spec, Path(params), Path(out))
print("any size" if dynamic else "480x480 only")
"""


def _prepare_mxnet(model: str, params: Path, out: Path) -> tuple[float, str] | str:
    """MXNet's exporter as the engine runs it: a fresh process (import included); a dynamic
    graph where it can make one, else one for 480x480."""
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MXNET_EXPORT, model, str(params), str(out)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["?"]
        return "fails: " + lines[-1][:70]
    return time.perf_counter() - start, done.stdout.strip()


def families(tmp: Path, models: tuple[str, ...] = ONE_PER_FAMILY) -> None:
    from napari_gluonseg.core.models import _mxnet
    from napari_gluonseg.core.models.untrained import save_untrained

    print("model preparation from .params (s, MB): builder | builder again (control) | MXNet")
    for model in models:
        params = tmp / f"{model}.params"
        save_untrained(model, params)
        built = tmp / f"{model}-built.onnx"
        a = _prepare_builder(model, params, built)
        b = _prepare_builder(model, params, built)
        mx_s = "not installed"
        if _mxnet.installed():
            exported = tmp / f"{model}-mxnet.onnx"
            mx = _prepare_mxnet(model, params, exported)
            if isinstance(mx, str):
                mx_s = mx
            else:
                mb = exported.stat().st_size / 1e6
                mx_s = f"{mx[0]:.1f} s {mb:.0f} MB ({mx[0] / a:.1f}x; {mx[1]})"
        print(
            f"  {model:36s} {a:5.2f} s {built.stat().st_size / 1e6:4.0f} MB | {b:5.2f} s "
            f"({b / a:.2f}x) | {mx_s}"
        )


def _median_run(session: Any, x: Any, size: tuple[int, int], repeat: int) -> list[float]:
    import numpy as np

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.run(None, {"data": x, "out_size": np.array(size, np.int64)})
        times.append(time.perf_counter() - start)
    return times


def speed(tmp: Path, repeat: int, size: tuple[int, int] = SPEED_SIZE) -> None:
    import numpy as np
    import onnxruntime as ort

    from napari_gluonseg.core.models.untrained import save_untrained

    model = "fcn_resnet50_ade"
    params = tmp / "fcn.params"
    save_untrained(model, params)
    built = tmp / "built.onnx"
    _prepare_builder(model, params, built)
    exported = tmp / "mxnet.onnx"
    mx = _prepare_mxnet(model, params, exported)
    if isinstance(mx, str):
        sys.exit(f"MXNet's export is needed for --speed (the [mxnet] extra): {mx}")
    x = np.random.default_rng(0).normal(size=(1, 3, *size)).astype(np.float32)
    sessions = {
        name: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for name, path in (("built", built), ("built again", built), ("mxnet", exported))
    }
    for s in sessions.values():
        _median_run(s, x, size, 1)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in sessions}
    for _ in range(repeat):  # alternating: load changes hit every session alike
        for name, s in sessions.items():
            times[name] += _median_run(s, x, size, 1)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"{size[0]}x{size[1]}, scale 1.0, onnxruntime {ort.__version__}, median of {repeat}:")
    print(
        f"  built graph {med['built']:.3f} s, MXNet's export {med['mxnet']:.3f} s: "
        f"built/export = {med['built'] / med['mxnet']:.2f}x"
    )
    print(
        f"  control, built graph vs a second session of it: "
        f"{med['built again'] / med['built']:.2f}x"
    )


_FIRST = """
import json, sys, time
import numpy as np
from napari_gluonseg import segment_image
(h, w), options = json.loads(sys.argv[2])
photo = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
runs = []
for _ in range(3):
    t = time.perf_counter()
    segment_image(photo, weights=sys.argv[1], **options)
    runs.append(time.perf_counter() - t)
print(json.dumps({"runs": runs}))
"""


def first_result(
    tmp: Path, size: tuple[int, int] = FIRST_SIZE, options: dict | None = None
) -> None:
    from napari_gluonseg.core.models.untrained import save_untrained

    params = tmp / "fcn.params"
    save_untrained("fcn_resnet50_ade", params)
    env = {**os.environ, "MXNET_HOME": str(tmp / "empty-home")}
    photo = json.dumps([size, options or {}])
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _FIRST, str(params), photo], capture_output=True, text=True, env=env
    )
    total = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(out.stderr)
    runs = json.loads(out.stdout.strip().splitlines()[-1])["runs"]
    shown = f"{size[0] * size[1] / 1e6:.2g} MP, " + (f"{options}" if options else "defaults")
    print(
        f"Python {sys.version.split()[0]}: first result in a fresh process ({shown}, "
        "empty cache, .params on disk)"
    )
    print(
        f"  first run {runs[0]:.2f} s (graph built), warm run {runs[1]:.2f} s: "
        f"{runs[0] / runs[1]:.2f}x (goal <= 3x); whole process {total:.1f} s"
    )
    print(f"  control, warm run vs a third run: {runs[2] / runs[1]:.2f}x")


def _longest_hold_ms(work: Any) -> float:
    """The longest gap in a 1 ms heartbeat thread while ``work()`` runs here: how long the GIL
    was held without a switch (what a GUI thread would wait)."""
    import threading

    beats: list[float] = []
    stop = threading.Event()

    def beat() -> None:
        while not stop.is_set():
            beats.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=beat)
    thread.start()
    time.sleep(0.05)
    start = time.perf_counter()
    work()
    end = time.perf_counter()
    stop.set()
    thread.join()
    inside = [start, *(b for b in beats if start < b < end), end]
    return 1000 * max(b - a for a, b in itertools.pairwise(inside))


def gil(tmp: Path, model: str = "fcn_resnet50_ade") -> None:
    import numpy as np
    from onnx import ModelProto, helper

    from napari_gluonseg.core.models.onnx_build import build_model
    from napari_gluonseg.core.models.params_file import read_params
    from napari_gluonseg.core.models.registry import model_info
    from napari_gluonseg.core.models.untrained import save_untrained

    params = tmp / f"{model}.params"
    save_untrained(model, params)
    built = build_model(model, read_params(params), model_info(model).num_classes, {})
    whole = ModelProto()  # the model as the package built it before: weights in the proto
    whole.CopyFrom(built.head)
    for name, array in built.weights:
        tensor = whole.graph.initializer.add()
        tensor.name, tensor.data_type = name, helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        tensor.raw_data = np.ascontiguousarray(array).tobytes()
    pieces = _longest_hold_ms(built.to_bytes)
    protobuf = _longest_hold_ms(whole.SerializeToString)
    again = _longest_hold_ms(built.to_bytes)
    mb = whole.ByteSize() / 1e6
    print(f"{model} ({mb:.0f} MB) to file bytes, longest GIL hold: joined from pieces "
          f"{pieces:.0f} ms, protobuf's SerializeToString {protobuf:.0f} ms "
          f"({protobuf / pieces:.1f}x); control, the pieces again: "
          f"{again / pieces:.2f}x")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", action="store_true")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--first-result", action="store_true")
    parser.add_argument("--gil", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    args = parse_args(parser, argv)
    if quick_mode(args):
        quick(args)
        return
    everything = not (args.families or args.speed or args.first_result or args.gil)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.gil or everything:
            gil(tmp)
        if args.first_result or everything:
            first_result(tmp)
        if args.families or everything:
            families(tmp)
        if args.speed or everything:
            speed(tmp, args.repeat)


def quick(args: argparse.Namespace) -> None:
    """The parts ``args`` asks for (all by default) on the fewest inputs."""
    from napari_gluonseg.core.models import _mxnet

    everything = not (args.families or args.speed or args.first_result or args.gil)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if args.gil or everything:
            gil(tmp, QUICK_FAMILIES[0])
        if args.first_result or everything:
            first_result(tmp, QUICK_SIZE, QUICK_OPTIONS)
        if args.families or everything:
            families(tmp, QUICK_FAMILIES)
        if (args.speed or everything) and not _mxnet.installed():
            print("--speed not run: MXNet's export to compare with needs the [mxnet] extra")
        elif args.speed or everything:
            speed(tmp, 1, QUICK_SIZE)


if __name__ == "__main__":
    main()
