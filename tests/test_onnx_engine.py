import numpy as np

from napari_gluonseg import model_info, segment_image
from napari_gluonseg.core import onnx_engine, weights
from napari_gluonseg.core.network import load_network, native_size
from napari_gluonseg.core.resize import resize
from napari_gluonseg.core.segment import _check_engine

from .conftest import MODEL


def test_onnx_logits_match_mxnet(untrained_params, small_dog):
    resolved = weights.resolve_local_weights(untrained_params)
    x = np.random.default_rng(1).normal(size=(1, 3, 72, 96)).astype(np.float32)
    mx_logits = load_network(MODEL, resolved, 72, 96).logits(x)
    ort_net = onnx_engine.load_onnx_network(MODEL, resolved, 72, 96)
    ort_logits = ort_net.logits(x)
    assert ort_logits.shape == mx_logits.shape == (1, 150, 72, 96)
    np.testing.assert_allclose(ort_logits, mx_logits, atol=1e-3)
    assert "CPUExecutionProvider" in ort_net.providers
    # cached beside the zoo weights, keyed by the weights' sha1 and the input size
    path = onnx_engine.onnx_path(MODEL, resolved, 72, 96)
    assert path == weights.cache_dir() / "onnx" / f"{MODEL}-{resolved.sha1[:12]}-72x96.onnx"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp leftovers


def test_segment_with_onnxruntime_equals_mxnet(untrained_params, small_dog):
    a = segment_image(small_dog, weights=untrained_params, engine="mxnet", probability_classes=[2])
    b = segment_image(
        small_dog, weights=untrained_params, engine="onnxruntime", probability_classes=[2]
    )
    np.testing.assert_allclose(b.probabilities["sky"], a.probabilities["sky"], atol=1e-4)
    np.testing.assert_allclose(b.confidence, a.confidence, atol=1e-4)
    assert (a.labels == b.labels).mean() > 0.99  # only float near-ties may differ
    assert b.provenance["engine"] == "onnxruntime"


def test_auto_engine_prefers_onnxruntime_when_installed():
    assert onnx_engine.onnxruntime_available()
    assert _check_engine("auto", model_info(MODEL)) == "onnxruntime"


def test_native_logits_are_the_networks_own_before_its_final_resize(untrained_params):
    """The native graph stops before the final align-corners resize; doing that resize ourselves
    gives the full network's logits, in MXNet and onnxruntime alike."""
    resolved = weights.resolve_local_weights(untrained_params)
    x = np.random.default_rng(2).normal(size=(1, 3, 50, 70)).astype(np.float32)
    full = load_network(MODEL, resolved, 50, 70).logits(x)[0]
    native = load_network(MODEL, resolved, 50, 70, native=True).logits(x)[0]
    assert native.shape == (150, *native_size(50, 70)) == (150, 7, 9)
    np.testing.assert_allclose(resize(native, 50, 70), full, atol=1e-4)
    ort_native = onnx_engine.load_onnx_network(MODEL, resolved, 50, 70, native=True).logits(x)[0]
    np.testing.assert_allclose(ort_native, native, atol=1e-3)
    assert onnx_engine.onnx_path(MODEL, resolved, 50, 70, True).name.endswith("50x70-native.onnx")


def test_truncated_cached_onnx_is_rebuilt(untrained_params):
    resolved = weights.resolve_local_weights(untrained_params)
    x = np.random.default_rng(3).normal(size=(1, 3, 40, 56)).astype(np.float32)
    expected = onnx_engine.load_onnx_network(MODEL, resolved, 40, 56).logits(x)
    path = onnx_engine.onnx_path(MODEL, resolved, 40, 56)
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])
    onnx_engine._cache.clear()  # a later run, in a new process
    np.testing.assert_allclose(
        onnx_engine.load_onnx_network(MODEL, resolved, 40, 56).logits(x), expected, atol=1e-5
    )
    assert path.stat().st_size == size
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
