"""The final classifier of each family's graph: a features model gives its input, and a learned
head computes in its place, so that a learned model's logits are ``resize(W . features + b)``
(issue 32)."""

import numpy as np
import onnxruntime as ort
import pytest

from napari_gluonseg import WeightsError, model_info
from napari_gluonseg.core.errors import EngineError
from napari_gluonseg.core.learn.samples import neighbourhood_mean
from napari_gluonseg.core.models import untrained
from napari_gluonseg.core.models.card import model_row
from napari_gluonseg.core.models.onnx_build import (
    ONE_PER_FAMILY,
    build_features_model,
    build_model,
)
from napari_gluonseg.core.models.onnx_build.graph import Graph
from napari_gluonseg.core.models.onnx_build.head import final_classifier
from napari_gluonseg.core.models.padding import padded_size
from napari_gluonseg.core.run.resize import resize

from ....conftest import MODEL

# Each family's final classifier in its .params file (None: a conv without bias).
CLASSIFIERS = {
    "fcn": ("head.block.4.weight", "head.block.4.bias"),
    "psp": ("head.block.4.weight", "head.block.4.bias"),
    "deeplab": ("head.block.4.weight", "head.block.4.bias"),
    "deeplab_resnest": ("head.block.4.weight", "head.block.4.bias"),
    "deeplab_v3b_plus": ("head.block.6.weight", None),
    "icnet": ("head.conv_cls.weight", None),
    "fastscnn": ("classifier.conv.weight", "classifier.conv.bias"),
    "danet": ("head.conv8.0.weight", "head.conv8.0.bias"),
}


def session(model) -> ort.InferenceSession:
    return ort.InferenceSession(model.to_bytes(), providers=["CPUExecutionProvider"])


def own_head(model_name: str, params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The file's own final classifier as (weight (K, C), bias (K,))."""
    weight_name, bias_name = CLASSIFIERS[model_row(model_name).family]
    weight = params[weight_name][:, :, 0, 0]
    bias = params[bias_name] if bias_name else np.zeros(len(weight), np.float32)
    return weight, bias


def expected_logits(features, head, size) -> np.ndarray:
    """``resize(W . features + b)``, align corners, in float64."""
    weight, bias = (np.asarray(a, np.float64) for a in head)
    scores = np.einsum("kc,chw->khw", weight, features[0].astype(np.float64)) + bias[:, None, None]
    return resize(scores.astype(np.float32), *size)


# FCN (any size as it is) and PSP (padded to its multiple) in every run; the other families in
# make test-models (10 s each on 2 cores).
EVERY_RUN = ("fcn_resnet50_ade", "psp_resnet50_ade")


@pytest.mark.parametrize(
    "model_name",
    [m if m in EVERY_RUN else pytest.param(m, marks=pytest.mark.models) for m in ONE_PER_FAMILY],
)
def test_logits_are_the_head_applied_to_the_features_then_resized(model_name):
    info = model_info(model_name)
    params = untrained.untrained_params(model_name, seed=2, perturb_norms=True)
    # 75x101 as the run pads it for the family (FCN and DANet: as it is).
    size = padded_size(info, 75, 101)
    x = np.random.default_rng(0).normal(size=(1, 3, *size)).astype(np.float32)
    features_model = build_features_model(model_name, params, info.num_classes, {"k": "v"})
    features_session = session(features_model)
    assert [i.name for i in features_session.get_inputs()] == ["data"]
    assert features_session.get_modelmeta().custom_metadata_map == {"k": "v"}
    features = features_session.run(["features"], {"data": x})[0]
    assert features.ndim == 4 and features.shape[0] == 1

    out_size = {"out_size": np.array(size, np.int64)}
    logits = session(build_model(model_name, params, info.num_classes, {})).run(
        None, {"data": x, **out_size}
    )[0]
    mine = own_head(model_name, params)
    assert mine[0].shape[1] == features.shape[1]
    expected = expected_logits(features, mine, size)
    np.testing.assert_allclose(logits[0], expected, atol=1e-4 * np.abs(expected).max())

    rng = np.random.default_rng(1)
    head = (
        rng.normal(size=(3, features.shape[1])).astype(np.float32),
        rng.normal(size=3).astype(np.float32),
    )
    learned = build_model(model_name, params, info.num_classes, {}, head=head)
    learned_session = session(learned)
    assert learned_session.get_outputs()[0].shape[1] == 3
    got = learned_session.run(None, {"data": x, **out_size})[0]
    expected = expected_logits(features, head, size)
    assert got.shape == (1, 3, *size)
    np.testing.assert_allclose(got[0], expected, atol=1e-4 * np.abs(expected).max())

    # With a neighbourhood: the head on each cell's features averaged over the 3x3 cells of the
    # (padded) grid around it, as learning averages them (core/learn/samples.py).
    pooled = build_model(model_name, params, info.num_classes, {}, head=(*head, 3))
    got = session(pooled).run(None, {"data": x, **out_size})[0]
    averaged = neighbourhood_mean(features[0], 3)[None]
    expected = expected_logits(averaged, head, size)
    np.testing.assert_allclose(got[0], expected, atol=1e-4 * np.abs(expected).max())


def test_a_head_that_does_not_fit_the_features_is_refused():
    params = untrained.untrained_params(MODEL)
    head = (np.zeros((3, 256), np.float32), np.zeros(3, np.float32))
    with pytest.raises(WeightsError, match=r"weight 3x256 .* reads 512 features"):
        build_model(MODEL, params, 150, {}, head=head)
    head = (np.zeros((3, 512), np.float32), np.zeros(4, np.float32))
    with pytest.raises(WeightsError, match=r"bias 4 does not fit"):
        build_model(MODEL, params, 150, {}, head=head)


def test_a_graph_that_ends_in_anything_but_a_plain_1x1_conv_is_refused_by_name():
    params = {"c.weight": np.zeros((4, 3, 3, 3), np.float32)}
    g = Graph(params, "some_model")
    with pytest.raises(EngineError, match=r"some_model's graph ends in a Conv node, not in a"):
        final_classifier(g, g.conv("data", "c", kernel=3, padding=1))
    g = Graph({"c.weight": np.zeros((4, 3, 1, 1), np.float32)}, "some_model")
    with pytest.raises(EngineError, match=r"some_model's graph ends in a Relu node"):
        final_classifier(g, g.conv("data", "c", kernel=1, relu=True))
    with pytest.raises(EngineError, match=r"ends in an input"):
        final_classifier(g, "data")
