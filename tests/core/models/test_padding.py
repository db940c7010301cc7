import warnings
from functools import partial

import numpy as np
import pytest

from napari_gluonseg import NetworkError, model_info
from napari_gluonseg.core.models import _mxnet, engines, padding, weights
from napari_gluonseg.core.models.padding import PAD_VALUES, iter_load_sized, pad_batch, padded_size
from napari_gluonseg.core.run.segment import run_to_end

from ...conftest import needs_mxnet


def test_padded_sizes_per_family():
    assert padded_size(model_info("fcn_resnet50_ade"), 61, 83) == (61, 83)
    assert padded_size(model_info("danet_resnet50_citys"), 61, 83) == (61, 83)
    assert padded_size(model_info("psp_resnet101_voc"), 390, 520) == (392, 520)
    assert padded_size(model_info("deeplab_v3b_plus_wideresnet_citys"), 61, 83) == (64, 88)
    assert padded_size(model_info("icnet_resnet50_citys"), 16, 83) == (32, 96)
    assert padded_size(model_info("fastscnn_citys"), 1537, 2048) == (1568, 2048)


def test_pad_is_normalized_black_at_the_bottom_and_right():
    batch = np.arange(2 * 3 * 2 * 3, dtype=np.float32).reshape(2, 3, 2, 3)
    out = pad_batch(batch, 4, 5)
    np.testing.assert_array_equal(out[:, :, :2, :3], batch)
    for c in range(3):
        assert np.all(out[:, c, 2:] == PAD_VALUES[c]) and np.all(out[:, c, :, 3:] == PAD_VALUES[c])
    # black after ToTensor + Normalize
    np.testing.assert_allclose(PAD_VALUES, -np.array([0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225])


@needs_mxnet
def test_padded_logits_are_gluoncvs_padded_prediction_cropped(untrained_weights):
    """What GluonCV's evaluation does (pad with black, predict, crop) is what we return."""
    name = "psp_resnet50_ade"
    path = untrained_weights(name)
    x = np.random.default_rng(0).normal(size=(1, 3, 61, 83)).astype(np.float32)
    net = load_sized(model_info(name), weights.resolve_local_weights(path), 61, 83)
    got = net.logits(x)
    gcv, mx = _mxnet.gluoncv(), _mxnet.mxnet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_net = gcv.model_zoo.get_model(name, pretrained=False, pretrained_base=False)
    ref_net.load_parameters(str(path))
    expected = ref_net.predict(mx.nd.array(pad_batch(x, 64, 88))).asnumpy()[:, :, :61, :83]
    assert got.shape == (1, 150, 61, 83) and not net.native
    np.testing.assert_allclose(got, expected, atol=1e-4)


@needs_mxnet
def test_an_mxnet_error_becomes_a_network_error_naming_model_and_size(
    untrained_weights, monkeypatch
):
    """Without the padding, PSP at 61x83 fails inside mxnet: the user sees our error."""
    name = "psp_resnet50_ade"
    resolved = weights.resolve_local_weights(untrained_weights(name))
    monkeypatch.setattr(padding, "padded_size", lambda info, h, w: (h, w))
    net = load_sized(model_info(name), resolved, 61, 83)
    with pytest.raises(NetworkError) as caught:
        net.logits(np.zeros((1, 3, 61, 83), np.float32))
    assert "psp_resnet50_ade cannot run at 61x83 pixels" in str(caught.value)
    assert isinstance(caught.value.__cause__, _mxnet.mxnet().base.MXNetError)


def load_sized(info, resolved, height, width):
    """The MXNet network of ``info``'s model for (height, width), padded as a run pads it."""
    loader = partial(engines.iter_load_network, "mxnet")
    request = engines.NetworkRequest(info.name, resolved, height, width)
    return run_to_end(iter_load_sized(loader, request))
