"""The network's features of an image, as a run preprocesses it: their grid, their agreement
with a run's own scores, and the features graph built once per weights (issue 32)."""

import time

import numpy as np
import pytest

from napari_gluonseg import ImageError, WeightsError, model_info, segment_image
from napari_gluonseg.core.learn.features import (
    features_path,
    image_features,
    iter_image_features,
)
from napari_gluonseg.core.models import onnx_build, untrained
from napari_gluonseg.core.models.engines import forget_loaded_networks
from napari_gluonseg.core.models.engines.mxnet import native_size
from napari_gluonseg.core.models.params_file import read_params
from napari_gluonseg.core.models.weights import resolve_local_weights
from napari_gluonseg.core.run.plan import working_size

from ...conftest import MODEL


@pytest.fixture
def counted_builds(monkeypatch) -> list[str]:
    """The names of the models whose features graph is built during the test."""
    built: list[str] = []
    real = onnx_build.build_features_model

    def counting(model_name, *args, **kwargs):
        built.append(model_name)
        return real(model_name, *args, **kwargs)

    monkeypatch.setattr(onnx_build, "build_features_model", counting)
    return built


def image(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(height).integers(0, 256, (height, width, 3), np.uint8)


@pytest.mark.parametrize("shape", [(576, 768), (301, 457)])
def test_the_features_lie_on_the_stride_8_grid_of_the_working_size(shape, untrained_params):
    got = image_features(image(*shape), MODEL, resolve_local_weights(untrained_params))
    work = working_size(*shape, "auto", model_info(MODEL).base_size)
    assert (got.shape, got.work, got.padded) == (shape, work, work)
    assert got.features.shape == (512, *native_size(*work)) and got.features.dtype == np.float32
    assert np.isfinite(got.features).all() and got.features.std() > 0
    rows, cols = got.grid_pixels()  # the grid's corners are the image's corners
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (0, shape[0] - 1, 0, shape[1] - 1)


def test_the_head_on_the_features_gives_the_runs_own_scores(untrained_params, small_dog):
    """The run's preprocessing exactly: softmax(W . features + b) is the run's score grid."""
    weights = resolve_local_weights(untrained_params)
    got = image_features(small_dog, MODEL, weights)
    run = segment_image(small_dog, MODEL, weights=untrained_params, engine="onnxruntime")
    params = read_params(untrained_params)
    weight, bias = params["head.block.4.weight"][:, :, 0, 0], params["head.block.4.bias"]
    logits = np.einsum("kc,chw->khw", weight, got.features) + bias[:, None, None]
    probs = np.exp(logits - logits.max(0))
    probs /= probs.sum(0)
    assert run.scores is not None and run.scores.probs.shape[2:] == got.features.shape[1:]
    np.testing.assert_allclose(run.scores.probs[0], probs, atol=2e-3)  # float16 scores


def test_the_features_graph_is_built_once_then_read_from_memory_or_disk(
    fresh_model_cache, untrained_params, counted_builds
):
    weights = resolve_local_weights(untrained_params)
    photo = image(576, 768)
    start = time.perf_counter()
    events = []
    generator = iter_image_features(photo, MODEL, weights)
    while True:
        try:
            events.append(next(generator))
        except StopIteration as done:
            first = done.value
            break
    first_s = time.perf_counter() - start
    assert counted_builds == [MODEL]
    assert any(e.notice and "once per weights" in e.message for e in events)
    path = features_path(MODEL, weights.sha1)
    assert path.is_file() and path.name.endswith(".features.onnx")
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no logits export
    start = time.perf_counter()
    again = image_features(photo, MODEL, weights)
    cached_s = time.perf_counter() - start
    forget_loaded_networks()  # as a new process: opened from the disk, not built
    from_disk = image_features(photo, MODEL, weights)
    assert counted_builds == [MODEL]
    np.testing.assert_array_equal(again.features, first.features)
    np.testing.assert_array_equal(from_disk.features, first.features)
    print(f"576x768 features: first {first_s:.2f} s, cached {cached_s:.2f} s")  # not asserted:
    # times belong in benchmarks; the counted builds say the cache works


def test_a_damaged_or_stale_features_graph_is_built_again(
    fresh_model_cache, untrained_params, tmp_path, counted_builds
):
    weights = resolve_local_weights(untrained_params)
    path = features_path(MODEL, weights.sha1)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a graph")
    image_features(image(64, 64), MODEL, weights)
    assert counted_builds == [MODEL]
    # Another weights file's graph under this name (its sha1 in the metadata differs).
    other = tmp_path / "other.params"
    untrained.save_untrained(MODEL, other, seed=5)
    other_weights = resolve_local_weights(other)
    image_features(image(64, 64), MODEL, other_weights)
    features_path(MODEL, other_weights.sha1).replace(path)
    forget_loaded_networks()
    image_features(image(64, 64), MODEL, weights)
    assert counted_builds == [MODEL, MODEL, MODEL]


def test_a_padded_family_gives_the_grid_of_its_padded_size(untrained_weights):
    """PSP runs on the working size padded to a multiple of 8: the grid spans the padding,
    whose rows and columns have no pixel of the image."""
    name = "psp_resnet50_ade"
    got = image_features(image(301, 457), name, resolve_local_weights(untrained_weights(name)))
    assert got.work == (342, 520) and got.padded == (344, 520)
    assert got.features.shape == (512, 43, 65)
    rows, cols = got.grid_pixels()
    assert rows[-1] == -1 and rows[-2] > 290 and cols[-1] == 456  # the last row is padding


def test_a_stack_and_an_onnx_file_are_refused(untrained_params, exported_onnx):
    weights = resolve_local_weights(untrained_params)
    with pytest.raises(ImageError, match="a stack of 2 planes"):
        image_features(np.zeros((2, 64, 64), np.uint8), MODEL, weights)
    with pytest.raises(WeightsError, match="an ONNX model file"):
        image_features(image(64, 64), MODEL, resolve_local_weights(exported_onnx))


def test_the_intensity_window_reaches_the_preprocessing(untrained_params):
    """As in a run: values of a window (0, 2) map to [0, 1], so the image halved with no
    window gives the same features."""
    weights = resolve_local_weights(untrained_params)
    bright = np.random.default_rng(4).uniform(0, 2, (48, 64)).astype(np.float32)
    windowed = image_features(bright, MODEL, weights, intensity_range=(0.0, 2.0), rgb=False)
    halved = image_features(bright / 2, MODEL, weights)
    np.testing.assert_allclose(windowed.features, halved.features, atol=1e-4)
