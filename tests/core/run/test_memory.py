"""The memory guard's estimate follows the model's depth; the network cache stays bounded."""

import numpy as np

from napari_gluonseg.core.models.registry import model_info
from napari_gluonseg.core.run.layout import WINDOW_PIXELS
from napari_gluonseg.core.run.plan import check_memory, peak_bytes
from napari_gluonseg.core.run.preprocess import as_image_stack


def test_deeper_models_are_estimated_to_need_more_and_get_smaller_windows():
    photo = as_image_stack(np.zeros((1536, 2048, 3), np.uint8))
    fcn, psp = model_info("fcn_resnet50_ade"), model_info("psp_resnet101_ade")
    light = peak_bytes(photo, fcn, 1.0, "auto", (), 0)
    heavy = peak_bytes(photo, psp, 1.0, "auto", (), 0)
    assert heavy > light + (1 << 30)  # ~1.8x the activations of 2 MP windows
    # With memory for FCN's 2 MP windows only, the ResNet101 PSP takes smaller ones.
    assert check_memory(photo, fcn, 1.0, "auto", (), 0, available=light) == WINDOW_PIXELS[0]
    assert check_memory(photo, psp, 1.0, "auto", (), 0, available=light) < WINDOW_PIXELS[0]
