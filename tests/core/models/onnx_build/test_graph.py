"""Building graphs without MXNet: what a weights file that does not fit is told, and what a
built graph holds."""

import numpy as np
import onnxruntime as ort
import pytest

from napari_gluonseg import WeightsError, model_names
from napari_gluonseg.core.models import untrained
from napari_gluonseg.core.models.onnx_build import architecture, build_model, can_build

from ....conftest import MODEL


def test_every_zoo_model_can_be_built():
    assert [n for n in model_names() if not can_build(n)] == []
    assert architecture("deeplab_v3b_plus_wideresnet_citys") == "deeplab_v3b_plus_wideresnet"


def test_a_graph_takes_any_batch_and_size_and_the_metadata_it_is_given():
    model = build_model(MODEL, untrained.untrained_params(MODEL), 150, {"gluonseg.model": MODEL})
    session = ort.InferenceSession(model.to_bytes(), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map == {"gluonseg.model": MODEL}
    x = np.random.default_rng(0).normal(size=(2, 3, 37, 50)).astype(np.float32)
    native = session.run(None, {"data": x, "out_size": np.array([5, 7])})[0]
    full = session.run(None, {"data": x, "out_size": np.array([37, 50])})[0]
    assert native.shape == (2, 150, 5, 7) and full.shape == (2, 150, 37, 50)
    one = session.run(None, {"data": x[1:], "out_size": np.array([37, 50])})[0]
    np.testing.assert_allclose(one[0], full[1], atol=1e-5)  # images of a batch stay apart


def test_a_missing_array_is_named():
    params = untrained.untrained_params(MODEL)
    del params["layer3.2.bn2.running_var"]
    with pytest.raises(WeightsError, match=r"lacks 'layer3\.2\.bn2\.running_var'"):
        build_model(MODEL, params, 150, {})


def test_extra_arrays_are_named():
    params = untrained.untrained_params(MODEL)
    params["head.extra.weight"] = np.zeros((3, 3), np.float32)
    with pytest.raises(WeightsError, match=r"1 array\(s\) that fcn_resnet50_ade does not have"):
        build_model(MODEL, params, 150, {})


def test_another_class_count_names_the_array_and_both_shapes():
    params = untrained.untrained_params(MODEL)
    params["head.block.4.weight"] = params["head.block.4.weight"][:21]
    with pytest.raises(WeightsError, match=r"head.block.4.weight is 21x512x1x1.*needs 150x512"):
        build_model(MODEL, params, 150, {})
