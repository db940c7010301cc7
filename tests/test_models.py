"""Every registry model runs at every working size with every engine it offers.

The quick subset (one model per family, small odd sizes, MXNet) runs in the normal test run; the
whole zoo at the issue's photo sizes runs with ``make test-models`` (marker ``models``).
"""

import numpy as np
import pytest

from napari_gluonseg import OptionError, model_info, model_names, segment_image
from napari_gluonseg.core.engines import onnx as onnx_engine

# One model per family (architecture), the smallest of each.
QUICK = [
    "fcn_resnet50_ade",
    "psp_resnet50_ade",
    "deeplab_resnet50_ade",
    "icnet_resnet50_citys",
    "fastscnn_citys",
    "danet_resnet50_citys",
]


def _photo(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(height * width)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _engines(model_name: str) -> list[str]:
    engines = model_info(model_name).engines
    return [e for e in engines if e != "onnxruntime" or onnx_engine.onnxruntime_available()]


def _check(model_name, weights, height, width, engine, **kwargs):
    result = segment_image(
        _photo(height, width), model_name, weights=weights, engine=engine, **kwargs
    )
    info = model_info(model_name)
    assert result.labels.shape == (height, width)
    assert result.labels.min() >= 1 and result.labels.max() <= info.num_classes
    assert result.provenance["engine"] == engine
    return result


@pytest.mark.parametrize("model_name", QUICK)
def test_one_model_per_family_at_an_odd_size(model_name, untrained_weights):
    _check(model_name, untrained_weights(model_name), 61, 83, "mxnet", scale=1.0)


@pytest.mark.models
@pytest.mark.parametrize("model_name", model_names())
def test_every_model_every_engine_at_odd_sizes(model_name, untrained_weights):
    weights = untrained_weights(model_name)
    for engine in _engines(model_name):
        _check(model_name, weights, 61, 83, engine, scale=1.0)
        for height, width in ((300, 400), (391, 521)):  # default settings: scale "auto"
            _check(model_name, weights, height, width, engine)


def test_auto_engine_runs_what_the_export_can_express():
    assert onnx_engine.onnxruntime_available()
    assert model_info("fcn_resnet50_ade").engines[0] == "onnxruntime"
    assert model_info("deeplab_v3b_plus_wideresnet_citys").engines[0] == "onnxruntime"
    for name in (
        "psp_resnet101_voc",
        "icnet_resnet50_citys",
        "fastscnn_citys",
        "danet_resnet50_citys",
    ):
        assert model_info(name).engines == ("mxnet",)


def test_onnxruntime_for_a_model_it_cannot_run_names_the_model_and_what_works(small_dog):
    with pytest.raises(OptionError) as caught:
        segment_image(
            small_dog, "psp_resnet50_ade", weights="/no/such.params", engine="onnxruntime"
        )
    message = str(caught.value)
    assert "psp_resnet50_ade" in message and "engine='mxnet'" in message
