import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
import psutil
import pytest

from napari_gluonseg import WeightsError, model_info, segment_image
from napari_gluonseg.core.learn.features import FEATURES_SUFFIX
from napari_gluonseg.core.models import engines, weights
from napari_gluonseg.core.models.engines import (
    Network,
    NetworkRequest,
    iter_load_network,
    load_network,
    onnx,
)
from napari_gluonseg.core.models.engines.metadata import EXPORT_FORMAT, read_metadata
from napari_gluonseg.core.models.engines.mxnet import native_size
from napari_gluonseg.core.models.engines.onnx import ExportSpec, onnx_path
from napari_gluonseg.core.run.plan import _check_engine
from napari_gluonseg.core.run.resize import resize

from ....conftest import MODEL, needs_mxnet


@pytest.fixture
def _mxnet_exporter(monkeypatch):
    """The export by MXNet's exporter in a child process (GLUONSEG_ONNX_EXPORTER=mxnet)."""
    monkeypatch.setenv(onnx.EXPORTER_VARIABLE, "mxnet")


def _no_export(*args, **kwargs):
    raise AssertionError("exported again")


# Odd and even sides (390x520, the default working size of a small photo, runs through both engines
# in test_segment_with_onnxruntime_equals_mxnet).
@needs_mxnet
@pytest.mark.parametrize("size", [(61, 83), (200, 150)])
def test_one_dynamic_export_matches_mxnet_at_odd_sizes(
    size, untrained_params, use_onnx_home, monkeypatch
):
    monkeypatch.setattr(onnx, "iter_build_graph_file", _no_export)  # the session's one serves all
    resolved = weights.resolve_local_weights(untrained_params)
    h, w = size
    x = np.random.default_rng(h).normal(size=(1, 3, h, w)).astype(np.float32)
    mx_full = load_network("mxnet", NetworkRequest(MODEL, resolved, h, w)).logits(x)
    ort_full = load_network("onnxruntime", NetworkRequest(MODEL, resolved, h, w)).logits(x)
    assert ort_full.shape == mx_full.shape == (1, 150, h, w)
    np.testing.assert_allclose(ort_full, mx_full, atol=1e-4)
    ort_native = load_network(
        "onnxruntime", NetworkRequest(MODEL, resolved, h, w, native=True)
    ).logits(x)[0]
    assert ort_native.shape == (150, *native_size(h, w))
    np.testing.assert_allclose(resize(ort_native, h, w), mx_full[0], atol=1e-4)
    spec = ExportSpec(MODEL, resolved.sha1, dynamic=True)
    prefix = f"{MODEL}-{resolved.sha1[:12]}"  # the session's cache also holds other weights'
    exports = [  # and learning's features graphs, which are no logits export
        p.name
        for p in onnx_path(spec).parent.iterdir()
        if p.name.startswith(prefix) and not p.name.endswith(FEATURES_SUFFIX)
    ]
    assert exports == [f"{prefix}.onnx"]


@needs_mxnet
def test_both_engines_satisfy_the_network_protocol(untrained_params, use_onnx_home):
    resolved = weights.resolve_local_weights(untrained_params)
    mx_net = load_network("mxnet", NetworkRequest(MODEL, resolved, 40, 56))
    ort_net = load_network("onnxruntime", NetworkRequest(MODEL, resolved, 40, 56, threads=1))
    assert isinstance(mx_net, Network) and isinstance(ort_net, Network)
    assert (mx_net.engine, ort_net.engine) == ("mxnet", "onnxruntime")
    assert mx_net.model_file == resolved.path
    assert ort_net.model_file == onnx_path(ExportSpec(MODEL, resolved.sha1, True))
    assert "CPUExecutionProvider" in ort_net.providers
    # one session, shared by every size and by both output resolutions
    other = load_network(
        "onnxruntime", NetworkRequest(MODEL, resolved, 90, 33, native=True, threads=1)
    )
    assert other._session is ort_net._session
    assert not hasattr(ort_net._session, "_lock")  # InferenceSession.run is thread-safe


def test_export_metadata_says_what_the_file_holds(exported_onnx, untrained_params):
    session = ort.InferenceSession(str(exported_onnx), providers=["CPUExecutionProvider"])
    meta = read_metadata(session.get_modelmeta().custom_metadata_map)
    assert meta["format"] == EXPORT_FORMAT and meta["model"] == MODEL
    assert meta["dataset"] == "ade20k" and meta["num_classes"] == "150"
    assert "bicycle, bike, wheel, cycle" in meta["class_names"]
    assert meta["weights_sha1"] == weights.file_sha1(untrained_params)
    assert meta["input_size"] == "dynamic"
    assert meta["mean"] == "[0.485, 0.456, 0.406]" and meta["std"] == "[0.229, 0.224, 0.225]"
    assert meta["built_by"] == "builder"
    assert '"napari-gluonseg": ' in meta["exporter"] and '"onnx": ' in meta["exporter"]


def _damage_truncated(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _damage_emptied(path):  # onnxruntime: InvalidArgument, "No graph was found"
    path.write_bytes(b"")


def _damage_stale(path):
    import onnx as onnx_lib

    model = onnx_lib.load(str(path))
    for prop in model.metadata_props:
        if prop.key == "gluonseg.format":
            prop.value = "0"  # an older exporter's file
    path.write_bytes(model.SerializeToString())


def _recording_build(made: list):
    """The builder, noting each file it makes."""
    build = onnx.iter_build_graph_file

    def recorded(spec, weights_path, dest):
        made.append(dest)
        return (yield from build(spec, weights_path, dest))

    return recorded


@pytest.mark.usefixtures("fresh_model_cache")
@pytest.mark.parametrize("damage", [_damage_truncated, _damage_emptied, _damage_stale])
def test_damaged_or_stale_cached_export_is_rebuilt(
    damage, untrained_params, exported_onnx, monkeypatch
):
    resolved = weights.resolve_local_weights(untrained_params)
    path = onnx_path(ExportSpec(MODEL, resolved.sha1, True))
    path.parent.mkdir(parents=True)
    path.write_bytes(exported_onnx.read_bytes())
    damage(path)
    exports = []
    monkeypatch.setattr(onnx, "iter_build_graph_file", _recording_build(exports))
    x = np.random.default_rng(3).normal(size=(1, 3, 40, 56)).astype(np.float32)
    net = load_network("onnxruntime", NetworkRequest(MODEL, resolved, 40, 56))
    reference = ort.InferenceSession(str(exported_onnx), providers=["CPUExecutionProvider"])
    expected = reference.run(None, {"data": x, "out_size": np.array([40, 56])})[0]
    np.testing.assert_allclose(net.logits(x), expected, atol=1e-5)
    assert exports == [path]
    assert path.read_bytes() == exported_onnx.read_bytes()  # the damaged file was rebuilt
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def _children() -> list[psutil.Process]:
    return psutil.Process().children(recursive=True)


@pytest.mark.usefixtures("fresh_model_cache")
@needs_mxnet
@pytest.mark.usefixtures("_mxnet_exporter")
def test_closing_the_run_during_the_export_ends_the_child_at_once(untrained_params):
    resolved = weights.resolve_local_weights(untrained_params)
    before = {p.pid for p in _children()}
    events = iter_load_network("onnxruntime", NetworkRequest(MODEL, resolved, 40, 56))
    event = next(events)
    assert event.message.startswith("one-time preparation of the weights for onnxruntime (about ")
    child = next(p for p in _children() if p.pid not in before)
    time.sleep(1.0)  # the child is busy importing mxnet or exporting
    start = time.monotonic()
    events.close()  # what Cancel does
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    assert time.monotonic() - start < 2.0
    folder = onnx.onnx_dir()
    assert list(folder.iterdir()) == []  # no partial export, no scratch folder


@pytest.mark.usefixtures("fresh_model_cache")
def test_fixed_size_exports_keep_the_last_four(tmp_path):
    spec = ExportSpec("psp_resnet101_voc", "ab" * 20, False, 64, 64)
    folder = onnx.onnx_dir()
    folder.mkdir(parents=True)
    paths = []
    for k in range(6):
        p = onnx_path(ExportSpec(spec.model, spec.weights_sha1, False, 64 + 8 * k, 64))
        p.write_bytes(b"x")
        os.utime(p, (1000 + k, 1000 + k))
        paths.append(p)
    os.utime(paths[0], (5000, 5000))  # the oldest size was used again just now
    onnx._keep_recent_fixed(paths[1], spec)  # a run at the second size
    assert sorted(folder.iterdir()) == sorted([paths[0], paths[1], paths[4], paths[5]])


@needs_mxnet
def test_segment_with_onnxruntime_equals_mxnet(untrained_params, small_dog, use_onnx_home):
    a = segment_image(small_dog, weights=untrained_params, engine="mxnet", probability_classes=[2])
    b = segment_image(
        small_dog,
        weights=untrained_params,
        engine="onnxruntime",
        probability_classes=[2],
        threads=1,
    )
    np.testing.assert_allclose(b.probabilities["sky"], a.probabilities["sky"], atol=1e-4)
    np.testing.assert_allclose(b.confidence, a.confidence, atol=1e-4)
    assert (a.labels == b.labels).mean() > 0.99  # only float near-ties may differ
    prov = b.provenance
    assert prov["engine"] == "onnxruntime" and prov["threads"] == 1
    assert prov["providers"] == ["CPUExecutionProvider"]
    assert prov["model_file"].endswith(".onnx") and a.provenance["model_file"] == str(
        untrained_params
    )


def test_threads_set_onnxruntimes_intra_op_threads(untrained_params, use_onnx_home):
    resolved = weights.resolve_local_weights(untrained_params)
    net = load_network("onnxruntime", NetworkRequest(MODEL, resolved, 40, 56, threads=1))
    assert net._session.session.get_session_options().intra_op_num_threads == 1
    assert net.threads == 1


def test_cuda_is_preferred_where_present():
    assert onnx.preferred_providers(["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert onnx.preferred_providers(["CPUExecutionProvider"]) == ["CPUExecutionProvider"]


def test_auto_engine_prefers_onnxruntime_when_installed():
    assert onnx.onnxruntime_available()
    assert _check_engine("auto", model_info(MODEL)) == "onnxruntime"


def test_onnx_file_runs_without_mxnet(exported_onnx, tmp_path):
    code = (
        "import sys, numpy as np\n"
        "from napari_gluonseg import segment_image\n"
        "img = np.random.default_rng(0).integers(0, 256, (45, 61, 3), dtype=np.uint8)\n"
        f"r = segment_image(img, weights={str(exported_onnx)!r}, scale=1.0)\n"
        "print(r.labels.shape, r.provenance['engine'], r.provenance['model_file'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('mxnet', 'gluoncv', 'onnx')))\n"
    )
    env = {**os.environ, "MXNET_HOME": str(tmp_path / "empty")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    first, modules = out.stdout.strip().splitlines()
    assert first == f"(45, 61) onnxruntime {exported_onnx}"
    assert modules == "[]"


def test_onnx_file_of_another_model_is_refused_naming_it(exported_onnx, small_dog):
    with pytest.raises(WeightsError, match=f"{exported_onnx}.*fcn_resnet50_ade with 150 classes"):
        segment_image(small_dog, "fcn_resnet101_voc", weights=exported_onnx, scale=1.0)


def test_onnx_file_not_made_by_us_is_refused_naming_it(tmp_path, small_dog):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, None, None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, None, None])],
    )
    path = tmp_path / "other.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    with pytest.raises(WeightsError, match=f"{path} is not an ONNX file exported by napari"):
        segment_image(small_dog, weights=path, scale=1.0)
    engines.forget_loaded_networks()


@needs_mxnet
def test_the_export_ends_when_its_parent_process_dies(untrained_params, tmp_path):
    """Closing napari (or killing it) never leaves an export running."""
    code = (
        "import sys\n"
        "from napari_gluonseg.core.models import weights\n"
        "from napari_gluonseg.core.models.engines import NetworkRequest, iter_load_network\n"
        f"w = weights.resolve_local_weights({str(untrained_params)!r})\n"
        "events = iter_load_network('onnxruntime', NetworkRequest('fcn_resnet50_ade', w, 40, 56))\n"
        "print(next(events).message, flush=True)\n"
        "sys.stdin.read()\n"
    )
    env = {**os.environ, "MXNET_HOME": str(tmp_path / "home"), onnx.EXPORTER_VARIABLE: "mxnet"}
    with subprocess.Popen(  # the with closes its pipes (they were left to the collector)
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    ) as parent:
        assert b"one-time preparation" in parent.stdout.readline()
        (child,) = psutil.Process(parent.pid).children()
        parent.kill()
        parent.wait()
    gone, _ = psutil.wait_procs([child], timeout=2.0)
    assert gone == [child]


def test_a_process_given_a_share_of_the_cores_keeps_onnxruntime_to_it(monkeypatch):
    from napari_gluonseg.core.models.engines import onnx

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # a batch worker's share
    assert onnx._omp_threads() == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert onnx._omp_threads() == 0  # onnxruntime's default: all cores


def test_a_cache_that_cannot_be_written_runs_the_graph_from_memory(
    fresh_model_cache, untrained_params, small_dog, caplog
):
    """A read-only or shared cache: the graph runs from memory, no raw OSError."""
    models = fresh_model_cache / "models"
    models.mkdir(parents=True)
    (models / "onnx").write_text("a file where the folder would be")
    result = segment_image(small_dog, weights=untrained_params, scale=1.0, engine="onnxruntime")
    assert result.labels.shape == small_dog.shape[:2]
    assert "runs from memory this time" in caplog.text
    engines.forget_loaded_networks()
