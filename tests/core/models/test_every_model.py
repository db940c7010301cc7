"""Every registry model runs at every working size with every engine it offers.

The quick subset (one model per family, a small odd size, onnxruntime with the graph the package
builds: no MXNet) runs in the normal test run on both legs; the whole zoo at photo sizes with
every installed engine runs with ``make test-models`` (marker ``models``).
"""

import numpy as np
import pytest

from napari_gluonseg import OptionError, model_info, model_names, segment_image
from napari_gluonseg.core.models import _mxnet
from napari_gluonseg.core.models.engines import onnx as onnx_engine
from napari_gluonseg.core.models.onnx_build import ONE_PER_FAMILY


def _photo(height: int, width: int) -> np.ndarray:
    rng = np.random.default_rng(height * width)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def _engines(model_name: str) -> list[str]:
    engines = model_info(model_name).engines
    return [e for e in engines if e != "mxnet" or _mxnet.installed()]


def _check(model_name, weights, height, width, engine, **kwargs):
    result = segment_image(
        _photo(height, width), model_name, weights=weights, engine=engine, **kwargs
    )
    info = model_info(model_name)
    assert result.labels.shape == (height, width)
    assert result.labels.min() >= 1 and result.labels.max() <= info.num_classes
    assert result.provenance["engine"] == engine
    return result


@pytest.mark.parametrize("model_name", ONE_PER_FAMILY)
def test_one_model_per_family_at_an_odd_size(model_name, untrained_weights):
    _check(model_name, untrained_weights(model_name), 61, 83, "onnxruntime", scale=1.0)


@pytest.mark.models
@pytest.mark.parametrize("model_name", model_names())
def test_every_model_every_engine_at_odd_sizes(model_name, untrained_weights):
    weights = untrained_weights(model_name)
    for engine in _engines(model_name):
        _check(model_name, weights, 61, 83, engine, scale=1.0)
        for height, width in ((300, 400), (391, 521)):  # default settings: scale "auto"
            _check(model_name, weights, height, width, engine)


def test_auto_engine_is_onnxruntime_for_every_model():
    assert onnx_engine.onnxruntime_available()
    assert all(model_info(n).engines[0] == "onnxruntime" for n in model_names())


def test_mxnet_engine_without_the_extra_says_how_to_get_it(small_dog, monkeypatch):
    monkeypatch.setattr(_mxnet, "installed", lambda: False)
    with pytest.raises(OptionError) as caught:
        segment_image(small_dog, "psp_resnet50_ade", weights="/no/such.params", engine="mxnet")
    message = str(caught.value)
    assert "[mxnet] extra" in message and "onnxruntime" in message
