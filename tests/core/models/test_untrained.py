"""Untrained weights made without MXNet have exactly GluonCV's names and shapes."""

import numpy as np
import pytest

from napari_gluonseg import model_names
from napari_gluonseg.core.models import untrained
from napari_gluonseg.core.models.onnx_build import ONE_PER_FAMILY

from ...conftest import needs_mxnet


def test_defaults_are_gluons_and_perturbed_norms_move_off_them():
    plain = untrained.untrained_params("fcn_resnet50_ade")
    assert np.all(plain["bn1.running_var"] == 1) and np.all(plain["bn1.running_mean"] == 0)
    moved = untrained.untrained_params("fcn_resnet50_ade", perturb_norms=True)
    assert np.all(moved["bn1.running_var"] != 1) and np.any(moved["head.block.4.bias"] != 0)
    assert all(a.dtype == np.float32 for a in moved.values())


def _gluoncv_shapes(model_name):
    from napari_gluonseg.core.models.engines.mxnet import build_untrained

    net = build_untrained(model_name, 64, 64)
    return {name: p.shape for name, p in net._collect_params_with_prefix().items()}


@needs_mxnet
@pytest.mark.parametrize("model_name", ONE_PER_FAMILY)
def test_shapes_match_gluoncv(model_name):
    assert untrained.param_shapes(model_name) == _gluoncv_shapes(model_name)


@needs_mxnet
@pytest.mark.models
@pytest.mark.parametrize("model_name", model_names())
def test_every_models_shapes_match_gluoncv(model_name):
    assert untrained.param_shapes(model_name) == _gluoncv_shapes(model_name)
