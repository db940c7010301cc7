"""Which coverage a pass gets (whole, grid windows, GluonCV tiles), and what each gives."""

import numpy as np
import pytest
from PIL import Image

from napari_gluonseg import segment_image
from napari_gluonseg.core.models.registry import model_info
from napari_gluonseg.core.run import plan
from napari_gluonseg.core.run.layout import WINDOW_PIXELS, Coverage, pass_layout
from napari_gluonseg.core.run.memory import estimate_peak_bytes
from napari_gluonseg.core.run.preprocess import as_image_stack

from ...conftest import MODEL, needs_mxnet


def test_auto_runs_whole_images_up_to_the_window_budget_then_grid_windows():
    info = model_info(MODEL)
    for size in [(576, 768), (390, 520), (1152, 1536)]:  # 1.8 MP: still one pass
        layout = pass_layout(*size, "auto", info)
        assert layout.coverage is Coverage.WHOLE and layout.native
    big = pass_layout(3000, 4000, "auto", info)
    assert big.coverage is Coverage.GRID and big.native and len(big.windows) == 8
    assert big.window[0] * big.window[1] <= WINDOW_PIXELS[0]


def test_explicit_tiles_keep_gluoncv_windows_and_none_the_whole_image():
    info = model_info(MODEL)
    tiles = pass_layout(1152, 1536, 480, info)
    assert (tiles.coverage, tiles.tile, tiles.stride, tiles.window) == (
        Coverage.TILES,
        480,
        320,
        (480, 480),
    )
    assert not tiles.native
    assert pass_layout(3000, 4000, None, info).coverage is Coverage.WHOLE
    assert pass_layout(100, 100, 128, info).coverage is Coverage.WHOLE  # one window: whole


def test_models_that_cannot_run_on_the_grid_at_a_size_keep_crop_size_tiles():
    psp = model_info("psp_resnet101_ade")  # pooling fixed to side // 8: needs multiples of 8
    odd = pass_layout(1001, 1501, "auto", psp)
    assert odd.coverage is Coverage.TILES and odd.tile == psp.crop_size
    assert pass_layout(577, 769, "auto", psp).coverage is Coverage.WHOLE  # under 0.6 MP
    even = pass_layout(3000, 4000, "auto", psp)  # windows congruent to multiples of 8
    assert even.coverage is Coverage.GRID and even.window[0] % 8 == even.window[1] % 8 == 0


def test_the_memory_guard_takes_smaller_windows_before_refusing():
    stack = as_image_stack(np.zeros((3000, 4000, 3), np.uint8))
    info = model_info(MODEL)

    def window_for(available):
        return plan.check_memory(stack, info, 1.0, "auto", (), 0, available=available)

    def need(window):
        shape = plan._run_shape(stack, info, 1.0, "auto", (), 0, window)
        return estimate_peak_bytes(shape)

    needs = [need(window) for window in WINDOW_PIXELS]
    assert needs == sorted(needs, reverse=True)  # smaller windows, less memory
    assert window_for(needs[0]) == WINDOW_PIXELS[0]
    assert window_for(needs[1]) == WINDOW_PIXELS[1]
    assert window_for(needs[2]) == WINDOW_PIXELS[2]
    with pytest.raises(plan.InsufficientMemoryError, match="scale='auto'"):
        window_for(needs[2] - 1)


# The onnxruntime case asks for the session's export when it runs: grouped with the other tests
# that use it by hand (tests/conftest.py groups those that name the fixtures).
@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("onnxruntime", marks=pytest.mark.xdist_group("onnx")),
        pytest.param("mxnet", marks=needs_mxnet),
    ],
)
def test_grid_windows_agree_with_the_whole_image(engine, dog, untrained_params, request):
    if engine == "onnxruntime":
        request.getfixturevalue("use_onnx_home")
    # The whole photo at 2/3 size, cut to odd sides: windows of odd length, last ones at the edges.
    image = np.asarray(Image.fromarray(dog).resize((512, 384), Image.BILINEAR))[:379, :507]
    kwargs = {"weights": untrained_params, "scale": 1.0, "engine": engine}
    whole = segment_image(image, tile_size=None, **kwargs)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plan, "WINDOW_PIXELS", (90_000,))  # 2 x 3 windows of 291x299: a middle one
        grid = segment_image(image, tile_size="auto", **kwargs)
    assert grid.provenance["coverage"] == "grid" and grid.provenance["windows"] == 6
    assert grid.provenance["window_size"] == [291, 299]
    assert whole.provenance["coverage"] == "whole"
    assert (grid.labels == whole.labels).mean() >= 0.995
    assert np.abs(grid.confidence - whole.confidence).mean() < 1e-3
