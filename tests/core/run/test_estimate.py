import numpy as np
import pytest

from napari_gluonseg import estimate_run, iter_segment_image, model_names
from napari_gluonseg.core.run import estimate


@pytest.fixture
def steady_machine(monkeypatch):
    """A machine of 20 GMAC/s: estimates independent of the load on the test machine."""
    monkeypatch.setattr(estimate, "machine_gmacs", lambda: 20.0)


def test_cityscapes_at_auto_scale_says_working_size_and_minutes(steady_machine):
    photo = np.zeros((300, 400, 3), np.uint8)
    got = estimate_run(photo, "psp_resnet101_citys")
    # tile_size "auto" over 2 MP: two grid windows of 1536x1120 (1024 columns each + margins)
    assert got.work_size == (1536, 2048) and got.windows == 2
    gmac = 2 * estimate.model_gmac("psp_resnet101_citys", 1536, 1120)
    assert gmac > 2000 and got.gmac == pytest.approx(gmac)
    # engine auto: onnxruntime, with the graph the package builds; outputs at the photo's size
    network = gmac / (20.0 * estimate.ENGINE_EFFICIENCY["onnxruntime"])
    outputs = 300 * 400 * estimate.OUTPUT_SECONDS_PER_PIXEL
    assert got.seconds == pytest.approx(network + outputs)
    assert got.long
    assert got.message.startswith("working size 1536x2048 (26.2x the image's pixels), 2 windows")
    assert got.message.endswith("min on this machine")


def test_windows_flips_and_padding_are_counted(steady_machine):
    image = np.zeros((61, 83), np.uint8)
    one = estimate_run(image, "deeplab_resnet50_ade", scale=1.0)
    assert one.gmac == pytest.approx(estimate.model_gmac("deeplab_resnet50_ade", 64, 88))
    tiled = estimate_run(image, "fcn_resnet50_ade", scale=1.0, tile_size=64, flip=True)
    assert tiled.windows == 2 * 2  # two 61x64 windows, each also mirrored
    assert tiled.gmac == pytest.approx(4 * estimate.model_gmac("fcn_resnet50_ade", 61, 64))
    assert not one.long and one.seconds < 1


def test_every_model_has_a_count():
    for name in model_names():
        assert estimate.model_gmac(name, 480, 480) > 0


def test_long_run_announces_itself_first_and_short_run_does_not(steady_machine, tmp_path):
    photo = np.zeros((300, 400, 3), np.uint8)
    missing = tmp_path / "missing.params"  # the plan comes before the weights are looked at
    first = next(iter_segment_image(photo, "psp_resnet101_citys", weights=missing))
    assert first.stage == "plan" and "working size 1536x2048" in first.message
    first = next(iter_segment_image(photo, "fcn_resnet50_ade", weights=missing, scale=1.0))
    assert first.stage == "weights"


def test_machine_speed_is_measured_once():
    estimate.machine_gmacs.cache_clear()
    assert estimate.machine_gmacs() > 0.1
    assert estimate.machine_gmacs.cache_info().misses == 1
    estimate.machine_gmacs()
    assert estimate.machine_gmacs.cache_info().hits == 1


def test_a_huge_image_at_the_models_size_counts_its_full_resolution_outputs(steady_machine):
    """A 40000x40000 view: one small window, but 1.6 GP of labels and probabilities (185 s
    measured, where the window alone estimates ~6 s)."""
    view = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (40000, 40000, 3))
    got = estimate_run(view, "fcn_resnet50_ade")
    assert got.windows == 1 and got.pixel_ratio < 0.01
    assert got.seconds >= 40000 * 40000 * estimate.OUTPUT_SECONDS_PER_PIXEL > 60
    assert got.long and "min on this machine" in got.message
