"""A learned model file: the base network with a learned head, written whole, read by
onnxruntime with the head's classes and the base model's metadata (issue 32)."""

import json

import numpy as np
import onnxruntime as ort
import pytest

from napari_gluonseg import OptionError, WeightsError
from napari_gluonseg.core.learn.features import image_features
from napari_gluonseg.core.learn.head import LinearHead
from napari_gluonseg.core.learn.learned_file import learned_metadata, write_learned_model
from napari_gluonseg.core.models.engines.metadata import read_metadata
from napari_gluonseg.core.models.engines.mxnet import native_size
from napari_gluonseg.core.models.weights import resolve_local_weights
from napari_gluonseg.core.run.preprocess import as_image_stack, normalize_inplace
from napari_gluonseg.core.run.resize import resize

from ...conftest import MODEL

HEAD = (
    np.random.default_rng(3).normal(size=(3, 512)).astype(np.float32),
    np.array([0.5, -0.5, 0.0], np.float32),
)


def test_a_learned_file_gives_the_heads_classes_on_the_features(
    untrained_params, small_dog, tmp_path
):
    weights = resolve_local_weights(untrained_params)
    learned = json.dumps({"images": 2})
    names = json.dumps(["cell", "nucleus", "background"])
    path = write_learned_model(
        tmp_path / "learned.onnx", MODEL, weights, HEAD, {"learned": learned, "class_names": names}
    )
    assert [p.name for p in tmp_path.iterdir()] == ["learned.onnx"]  # no temporary left
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = read_metadata(session.get_modelmeta().custom_metadata_map)
    assert (meta["model"], meta["weights_sha1"], meta["input_size"]) == (
        MODEL,
        weights.sha1,
        "dynamic",
    )
    assert (meta["num_classes"], meta["class_names"], meta["learned"]) == ("3", names, learned)
    assert session.get_outputs()[0].shape[1] == 3

    # On the run's input for small_dog, its logits are the head on the features, resized.
    got = image_features(small_dog, MODEL, weights)
    x = normalize_inplace(as_image_stack(small_dog).plane_chw01(0, *got.work))
    size = native_size(*got.work)
    logits = session.run(None, {"data": x, "out_size": np.array(size, np.int64)})[0][0]
    expected = np.einsum("kc,chw->khw", HEAD[0], got.features) + HEAD[1][:, None, None]
    np.testing.assert_allclose(logits, resize(expected, *size), atol=1e-3)


def test_a_learned_file_averages_its_logits_over_the_heads_neighbourhood(
    untrained_params, small_dog, tmp_path
):
    weights = resolve_local_weights(untrained_params)
    head = LinearHead(*HEAD, neighbourhood=3)
    path = write_learned_model(tmp_path / "learned.onnx", MODEL, weights, (*HEAD, 3), {})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = image_features(small_dog, MODEL, weights)
    x = normalize_inplace(as_image_stack(small_dog).plane_chw01(0, *got.work))
    size = native_size(*got.work)
    logits = session.run(None, {"data": x, "out_size": np.array(size, np.int64)})[0][0]
    expected = head.grid_logits(got.features)  # the cells' features averaged, then the head
    np.testing.assert_allclose(logits, resize(expected, *size), atol=1e-3)
    alone = np.einsum("kc,chw->khw", HEAD[0], got.features) + HEAD[1][:, None, None]
    assert np.abs(expected - alone).max() > 0.1  # the average changes the logits
    with pytest.raises(WeightsError, match="odd cell count, not 2"):
        write_learned_model(tmp_path / "even.onnx", MODEL, weights, (*HEAD, 2), {})
    assert not (tmp_path / "even.onnx").exists()


def test_the_heads_class_count_and_the_base_models_keys_are_kept(untrained_params):
    meta = read_metadata(learned_metadata(MODEL, "ab" * 20, 2, {"gluonseg.learned": "{}"}))
    assert meta["num_classes"] == "2" and json.loads(meta["class_names"]) == ["class 1", "class 2"]
    assert meta["learned"] == "{}" and meta["dataset"] == "ade20k"
    with pytest.raises(OptionError, match="num_classes '3' and 2 class names"):
        learned_metadata(MODEL, "ab" * 20, 2, {"num_classes": "3"})
    with pytest.raises(OptionError, match="keeps the base model's model, weights_sha1"):
        learned_metadata(MODEL, "ab" * 20, 2, {"model": "x", "weights_sha1": "y"})


def test_a_head_of_other_features_or_onnx_weights_are_refused(
    untrained_params, exported_onnx, tmp_path
):
    weights = resolve_local_weights(untrained_params)
    head = (np.zeros((2, 256), np.float32), np.zeros(2, np.float32))
    with pytest.raises(WeightsError, match="reads 512 features"):
        write_learned_model(tmp_path / "x.onnx", MODEL, weights, head, {})
    with pytest.raises(WeightsError, match="an ONNX model file"):
        write_learned_model(
            tmp_path / "x.onnx", MODEL, resolve_local_weights(exported_onnx), HEAD, {}
        )
    assert list(tmp_path.iterdir()) == []
