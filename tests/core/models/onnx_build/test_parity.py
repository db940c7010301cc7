"""The graphs the package builds agree with GluonCV's own networks (the ``[mxnet]`` leg).

Weights: untrained networks of the real architecture, written by the package's own writer with
BatchNorm statistics and biases moved off their defaults (so a BatchNorm or epsilon mistake
shows), loaded into GluonCV by ``load_parameters`` (which also proves the writer). One model per
family runs here at two sizes; ``make test-models`` runs all 26.
"""

import numpy as np
import pytest

from napari_gluonseg import model_info, model_names
from napari_gluonseg.core.models import untrained
from napari_gluonseg.core.models.onnx_build import ONE_PER_FAMILY, build_model
from napari_gluonseg.core.models.params_file import read_params

from ....conftest import needs_mxnet

pytestmark = needs_mxnet


def sizes(model_name: str) -> list[tuple[int, int]]:
    """Two sizes GluonCV's network accepts, neither square, each side a different multiple."""
    k = model_info(model_name).family.size_multiple
    if k == 1:
        return [(61, 83), (45, 38)]
    least = max(model_info(model_name).family.least_side, k)
    return [(least + 3 * k, least + k), (least + k, least + 5 * k)]


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def check_parity(model_name: str, tmp_path) -> None:
    import onnxruntime as ort

    from napari_gluonseg.core.models.engines.mxnet import SegmentationNetwork, build_network

    path = tmp_path / f"{model_name}.params"
    untrained.save_untrained(model_name, path, seed=1, perturb_norms=True)
    graph = build_model(model_name, read_params(path), model_info(model_name).num_classes, {})
    session = ort.InferenceSession(graph.to_bytes(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for h, w in sizes(model_name):  # one graph, every size
        x = rng.normal(size=(1, 3, h, w)).astype(np.float32)
        net = build_network(model_name, path, h, w)  # GluonCV's network, main head
        expected = SegmentationNetwork(model_name, net, h, w, model_file=path).logits(x)
        got = session.run(None, {"data": x, "out_size": np.array([h, w], np.int64)})[0]
        assert got.shape == expected.shape == (1, model_info(model_name).num_classes, h, w)
        np.testing.assert_allclose(softmax(got), softmax(expected), atol=1e-4)
        ordered = np.sort(expected, axis=1)
        clear = ordered[:, -1] - ordered[:, -2] > 1e-4  # float noise may flip only near-ties
        agree = got.argmax(1) == expected.argmax(1)
        assert agree[clear].mean() >= 0.999 and agree.mean() >= 0.99, (h, w, agree.mean())
        # The part that varies over the image, where a bias alone picks one class everywhere
        # (labels then agree without proving much).
        varying = expected - expected.mean(axis=(2, 3), keepdims=True)
        np.testing.assert_allclose(
            got - got.mean(axis=(2, 3), keepdims=True), varying, atol=1e-4 * np.abs(expected).max()
        )


@pytest.mark.parametrize("model_name", ONE_PER_FAMILY)
def test_one_model_per_family_matches_gluoncv(model_name, tmp_path):
    check_parity(model_name, tmp_path)


@pytest.mark.models
@pytest.mark.parametrize("model_name", model_names())
def test_every_model_matches_gluoncv(model_name, tmp_path):
    check_parity(model_name, tmp_path)
