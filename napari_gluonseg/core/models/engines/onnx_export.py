"""Exporting a GluonCV network to ONNX, in a child process that Cancel can end at once.

:func:`iter_export` starts a Python child running :func:`_main` and yields progress until it
is done; closing the generator terminates the child, and a child whose parent
died ends by itself, so closing napari never leaves an export running. The child writes into a
scratch folder of the parent's; only a finished, complete file is moved to its final name.

Where the graph allows it (FCN models) the export has dynamic height and width: a second input
``out_size`` (int64 [2]) sets the size the logits are resized to (align corners, as MXNet's
``BilinearResize2D``), so one file gives logits at the network's own resolution (pass
``native_size``) or at the input size. Models whose graphs fix their pooling sizes when built
(PSP, DeepLab, ...) are exported per input size.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ...atomic import TEMP_MARK, remove_stale_temps, sync_file, temp_dir
from ...errors import EngineError, WeightsError
from ...events import Progress, Stage
from .metadata import ExportSpec, metadata_for

if TYPE_CHECKING:  # onnx loads only when a model is exported
    from onnx import GraphProto

EXPORT_PREFIX = ".export-"
OUT_SIZE_INPUT = "out_size"
# The dynamic graph is traced at this size; any other size runs the same graph.
TRACE_SIZE = 64
# Measured for fcn_resnet50_ade (133 MB of weights) on 2 busy cores: ~10 s, most of it mxnet's
# import and exporter; used only to tell the user what to expect.
_EXPORT_BASE_S = 4.0
_EXPORT_S_PER_MB = 0.05
_POLL_S = 0.25
# The child's first lines, before any import of the package (seconds under load): on Linux the
# kernel kills it when its parent dies (PR_SET_PDEATHSIG = 1), which needs no GIL, while mxnet's
# import holds the GIL for seconds at a time.
_CHILD = """
import os, sys
if sys.platform.startswith("linux"):
    import ctypes, signal
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)
if os.getppid() != {parent}:
    os._exit(1)
from napari_gluonseg.core.models.engines.onnx_export import _main
sys.exit(_main(sys.argv[1:]))
"""
_KILL_WAIT_S = 2.0


def estimated_seconds(weights_path: Path) -> int:
    """About how long the one-time export of ``weights_path`` takes."""
    mb = weights_path.stat().st_size / 1e6
    return max(1, round(_EXPORT_BASE_S + _EXPORT_S_PER_MB * mb))


def iter_export(
    spec: ExportSpec, weights_path: Path, dest: Path
) -> Generator[Progress, None, Path]:
    """Export in a child process to ``dest`` (replaced atomically), yielding progress.

    Raises :class:`WeightsError` when the weights do not fit the model and
    :class:`EngineError` when the exporter cannot express the graph.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(dest.parent, f"{EXPORT_PREFIX}*")
    remove_stale_temps(dest.parent, f".*{TEMP_MARK}*")
    estimate = estimated_seconds(weights_path)
    message = f"one-time preparation of the weights for onnxruntime (about {estimate} s)"
    with temp_dir(dest.parent, EXPORT_PREFIX) as tmp:
        out = Path(tmp) / "model.onnx"
        request = {
            "spec": spec.to_json(),
            "weights": str(weights_path),
            "out": str(out),
        }
        with open(Path(tmp) / "child.log", "wb") as log:
            child = subprocess.Popen(
                [sys.executable, "-c", _CHILD.format(parent=os.getpid()), json.dumps(request)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_child_env(),
            )
        start = time.monotonic()
        try:
            while child.poll() is None:
                elapsed = min(int(time.monotonic() - start), estimate - 1)
                yield Progress(Stage.LOAD, elapsed, estimate, message, notice=True)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(_POLL_S)
        finally:
            _end(child)  # Cancel, an error in the consumer, or closing napari
        _raise_child_error(child.returncode, Path(tmp), spec)
        sync_file(out)
        os.replace(out, dest)
    yield Progress(Stage.LOAD, estimate, estimate, message, notice=True)
    return dest


def _end(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(_KILL_WAIT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _child_env() -> dict[str, str]:
    """This process's environment, with this copy of the package first on the child's path."""
    package_root = str(Path(__file__).resolve().parents[4])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    return env


def _raise_child_error(returncode: int, tmp: Path, spec: ExportSpec) -> None:
    if returncode == 0 and (tmp / "model.onnx").is_file():
        return
    error_file = tmp / "error.json"
    if error_file.is_file():
        error = json.loads(error_file.read_text())
        if error["kind"] == "weights":
            raise WeightsError(error["message"])
        detail = error["message"]
    else:
        log = (tmp / "child.log").read_text(errors="replace").strip().splitlines()
        detail = log[-1] if log else f"the export process ended with code {returncode}"
    raise EngineError(
        f"Cannot export {spec.model} to ONNX for onnxruntime: {detail}\n"
        "Run with engine='mxnet' (command line: --engine mxnet)."
    )


def export_to(spec: ExportSpec, weights_path: Path, out: Path) -> None:
    """Export in this process (the child's work): MXNet graph -> ONNX file ``out`` with
    ``spec``'s metadata; imports mxnet."""
    import onnx

    from .. import _mxnet
    from .mxnet import SegmentationNetwork, build_network

    mx = _mxnet.mxnet()
    h, w = (TRACE_SIZE, TRACE_SIZE) if spec.dynamic else (spec.height, spec.width)
    net = build_network(spec.model, weights_path, h, w, spec.native)
    if spec.dynamic:
        # An identity resize whose size follows the input: rewired to ``out_size`` below.
        net._up_kwargs = {"scale_height": 1.0, "scale_width": 1.0}
    SegmentationNetwork(spec.model, net, h, w, model_file=weights_path).logits(
        np.zeros((1, 3, h, w), np.float32)
    )
    prefix = str(out.parent / "net")
    net.export(prefix)
    raw = out.parent / "raw.onnx"
    mx.onnx.export_model(
        f"{prefix}-symbol.json",
        f"{prefix}-0000.params",
        in_shapes=[(1, 3, h, w)],
        in_types=[np.float32],
        onnx_file_path=str(raw),
        dynamic=spec.dynamic,
        dynamic_input_shapes=[(1, 3, None, None)] if spec.dynamic else None,
    )
    model = onnx.load(str(raw))
    _weights_not_inputs(model.graph)
    if spec.dynamic:
        _resize_to_out_size(model.graph)
    for key, value in metadata_for(spec).items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    with open(out, "xb") as f:
        f.write(model.SerializeToString())


def _weights_not_inputs(graph: GraphProto) -> None:
    """Weights listed as graph inputs stop onnxruntime from folding BatchNorm into the convs."""
    constants = {init.name for init in graph.initializer}
    inputs = [i for i in graph.input if i.name not in constants]
    del graph.input[:]
    graph.input.extend(inputs)


def _resize_to_out_size(graph: GraphProto) -> None:
    """Make the final Resize take its spatial size from a new ``out_size`` input."""
    from onnx import TensorProto, helper

    final = next(n for n in graph.node if n.output[0] == graph.output[0].name)
    if final.op_type != "Resize":
        raise EngineError(f"the graph ends in {final.op_type}, not in the expected Resize")
    graph.input.append(helper.make_tensor_value_info(OUT_SIZE_INPUT, TensorProto.INT64, [2]))
    graph.initializer.extend(
        [
            helper.make_tensor("gluonseg_0", TensorProto.INT64, [1], [0]),
            helper.make_tensor("gluonseg_2", TensorProto.INT64, [1], [2]),
        ]
    )
    at = list(graph.node).index(final)
    nodes = [
        helper.make_node("Shape", [final.input[0]], ["gluonseg_shape"]),
        helper.make_node("Slice", ["gluonseg_shape", "gluonseg_0", "gluonseg_2"], ["gluonseg_nc"]),
        helper.make_node("Concat", ["gluonseg_nc", OUT_SIZE_INPUT], ["gluonseg_sizes"], axis=0),
    ]
    for k, node in enumerate(nodes):
        graph.node.insert(at + k, node)
    final.input[3] = "gluonseg_sizes"
    _remove_unused(graph)


def _remove_unused(graph: GraphProto) -> None:
    """Drop the nodes and constants that computed the old, fixed-scale size."""
    while True:
        used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(o in used for o in n.output)]
        if not dead:
            break
        for node in dead:
            graph.node.remove(node)
    used = {i for n in graph.node for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _exit_with_parent() -> None:
    """End this child when its parent is gone, where the kernel cannot (not Linux)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _main(argv: list[str]) -> int:
    _exit_with_parent()
    request = json.loads(argv[0])
    out = Path(request["out"])
    try:
        export_to(ExportSpec.from_json(request["spec"]), Path(request["weights"]), out)
    except Exception as exc:  # reported to the parent, which raises the package's error
        kind = "weights" if isinstance(exc, WeightsError) else "export"
        lines = [line for line in str(exc).splitlines() if line.strip()]
        message = str(exc) if kind == "weights" else (lines[-1] if lines else type(exc).__name__)
        (out.parent / "error.json").write_text(json.dumps({"kind": kind, "message": message}))
        return 1
    return 0
