"""Full-resolution outputs from working-resolution scores, TTA and the memory guard."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_gluonseg import InsufficientMemoryError, segment_image
from napari_gluonseg.core.models.registry import model_info
from napari_gluonseg.core.run.plan import check_memory, peak_bytes
from napari_gluonseg.core.run.postprocess import (
    PlaneOutputs,
    candidate_classes,
    softmax_rows,
    write_upsampled,
)
from napari_gluonseg.core.run.preprocess import as_image_stack, to_chw
from napari_gluonseg.core.run.resize import resize

from ...conftest import MODEL


def upsample_everything(probs, out_h, out_w):
    """The plain way: interpolate every class at full resolution, then argmax."""
    full = resize(probs, out_h, out_w)
    return full.argmax(0) + 1, full.max(0), full


def outputs(shape, maps=(0,)):
    return PlaneOutputs(
        np.zeros(shape, np.uint8),
        np.zeros(shape, np.float32),
        {k: np.zeros(shape, np.float32) for k in maps},
    )


@settings(max_examples=60, deadline=None)
@given(
    c=st.integers(2, 12),
    h=st.integers(2, 20),
    w=st.integers(2, 20),
    out_h=st.integers(1, 90),
    out_w=st.integers(1, 90),
    spread=st.sampled_from([0.0, 0.01, 1.0, 8.0]),
    seed=st.integers(0, 2**16),
)
def test_pruned_upsampling_equals_interpolating_every_class(c, h, w, out_h, out_w, spread, seed):
    logits = np.random.default_rng(seed).normal(size=(c, h, w)).astype(np.float32) * spread
    probs = softmax_rows(logits)
    out = outputs((out_h, out_w), maps=(c - 1,))
    write_upsampled(probs, out)
    labels, confidence, full = upsample_everything(probs, out_h, out_w)
    np.testing.assert_array_equal(out.labels, labels)  # exact, ties included
    np.testing.assert_array_equal(out.confidence, confidence)
    np.testing.assert_array_equal(out.probabilities[c - 1], full[c - 1])


def test_candidate_lists_are_sorted_and_hold_the_argmax(small_dog, untrained_params):
    # (How few candidates remain on a real network's output is measured, not asserted: README.)
    result = segment_image(small_dog, weights=untrained_params, scale=1.0, engine="onnxruntime")
    assert result.labels.shape == small_dog.shape[:2]
    probs = softmax_rows(np.random.default_rng(0).normal(size=(150, 40, 50)).astype(np.float32))
    cand, count = candidate_classes(probs)
    assert count.min() >= 1 and cand.shape[0] == count.max()
    for i, j in [(0, 0), (13, 27), (39, 49)]:
        k = cand[: count[i, j], i, j]
        assert list(k) == sorted(k) and probs[:, i, j].argmax() in k


def test_plane_resized_while_reading_equals_resizing_the_whole_plane(dog):
    stack = as_image_stack(dog)
    expected = resize(to_chw(stack.plane_rgb01(0)), 390, 520)
    np.testing.assert_array_equal(stack.plane_chw01(0, 390, 520), expected)
    np.testing.assert_array_equal(stack.plane_chw01(0, 576, 768), to_chw(stack.plane_rgb01(0)))
    grey = as_image_stack(dog[..., 1].astype(np.uint16) * 200)
    np.testing.assert_array_equal(
        grey.plane_chw01(0, 100, 70), resize(to_chw(grey.plane_rgb01(0)), 100, 70)
    )


@pytest.mark.usefixtures("use_onnx_home")  # the session's export of these weights
def test_default_run_outputs_full_resolution(small_dog, untrained_params):
    result = segment_image(small_dog, weights=untrained_params, probability_classes=["sky"])
    assert result.provenance["engine"] == "onnxruntime" and result.provenance["scale"] == "auto"
    assert result.provenance["working_size"] == [390, 520]  # long side at ADE20K's base size
    assert result.provenance["tile_size"] is None  # "auto": small enough for one window
    assert result.labels.shape == result.confidence.shape == small_dog.shape[:2]
    assert result.labels.min() >= 1
    sky = result.probabilities["sky"]
    assert (sky >= 0).all() and (sky <= result.confidence + 1e-6).all()


def test_flip_is_mirror_symmetric(small_dog, untrained_params):
    kwargs = {"weights": untrained_params, "scale": 1.0, "tile_size": None, "engine": "onnxruntime"}
    a = segment_image(small_dog, flip=True, probability_classes=[5], **kwargs)
    b = segment_image(np.ascontiguousarray(small_dog[:, ::-1]), flip=True, **kwargs)
    np.testing.assert_allclose(a.confidence[:, ::-1], b.confidence, atol=1e-6)
    plain = segment_image(small_dog, probability_classes=[5], **kwargs)
    assert not np.allclose(a.confidence, plain.confidence)  # the mirror pass did count
    assert a.provenance["flip"] is True


def test_multi_scale_averages_probabilities(small_dog, untrained_params):
    kwargs = {"weights": untrained_params, "scale": 1.0, "engine": "onnxruntime", "tile_size": None}
    single = segment_image(small_dog, tta_scales=[1.0], **kwargs)
    plain = segment_image(small_dog, **kwargs)
    np.testing.assert_array_equal(single.labels, plain.labels)
    multi = segment_image(small_dog, tta_scales=[0.5, 1.5], probability_classes=[0, 1], **kwargs)
    assert multi.provenance["tta_scales"] == [1.0, 0.5, 1.5]
    p = multi.probabilities
    assert (p["wall"] + p["building, edifice"] <= 1 + 1e-5).all()
    assert (multi.confidence > 0).all() and (multi.confidence <= 1 + 1e-6).all()
    with pytest.raises(ValueError, match="tta_scales"):
        segment_image(small_dog, tta_scales=[0], **kwargs)


def test_memory_guard_refuses_with_a_setting_that_fits():
    info = model_info(MODEL)
    photo = as_image_stack(np.zeros((3000, 4000, 3), np.uint8))
    whole = peak_bytes(photo, info, 1.0, None, (), 1)
    tiled = peak_bytes(photo, info, 1.0, 480, (), 1)
    small_grid = peak_bytes(photo, info, 1.0, "auto", (), 1, max_window=500_000)
    default = peak_bytes(photo, info, "auto", 480, (), 1)
    assert whole > 10 * 2**30 > 3 * 2**30 > tiled > small_grid > default
    with pytest.raises(InsufficientMemoryError, match=r"scale=1.0, tile_size='auto' \(~"):
        check_memory(photo, info, 1.0, None, (), 1, available=tiled + 1)
    with pytest.raises(InsufficientMemoryError, match="scale='auto'"):
        check_memory(photo, info, 1.0, 480, (), 1, available=default + 1)
    with pytest.raises(InsufficientMemoryError, match="smaller image"):
        check_memory(photo, info, "auto", 480, (), 1, available=10 << 20)


def test_memory_guard_runs_before_any_work(small_dog, monkeypatch):
    monkeypatch.setattr("napari_gluonseg.core.run.plan.available_bytes", lambda: 1 << 20)
    with pytest.raises(InsufficientMemoryError, match="would need about"):
        segment_image(small_dog, weights="/does/not/exist.params")


def test_class_subset_and_confidence_threshold(small_dog, untrained_params):
    kwargs = {"weights": untrained_params, "engine": "onnxruntime", "scale": 1.0}
    subset = ["wall", "sky", "floor, flooring"]
    for tile in (None, 64):  # the upsampled path and the tiled full-resolution path
        r = segment_image(
            small_dog, tile_size=tile, classes=subset, probability_classes=["sky"], **kwargs
        )
        assert set(np.unique(r.labels)) <= {1, 3, 4}  # label = class index + 1
        assert r.provenance["classes"] == subset
        assert r.scores.class_ids == (0, 2, 3)
        total = sum(r.scores.probability_map(k) for k in (0, 2, 3))
        np.testing.assert_allclose(total, 1, atol=2e-3)  # renormalized over the subset (float16)
        assert (r.confidence >= 1 / 3 - 1e-5).all()
    plain = segment_image(small_dog, **kwargs)
    cut = float(np.median(plain.confidence))
    r = segment_image(small_dog, min_confidence=cut, **kwargs)
    unsure = plain.confidence < cut
    assert unsure.any() and (r.labels[unsure] == 0).all()
    np.testing.assert_array_equal(r.labels[~unsure], plain.labels[~unsure])
    with pytest.raises(ValueError, match="outside the chosen classes"):
        segment_image(small_dog, classes=["wall"], probability_classes=["sky"], **kwargs)
    with pytest.raises(ValueError, match="min_confidence"):
        segment_image(small_dog, min_confidence=1.5, **kwargs)


def test_score_grid_answers_without_another_run(small_dog, untrained_params):
    kwargs = {"weights": untrained_params, "engine": "onnxruntime", "scale": 1.0}
    for tile in (None, 64):
        r = segment_image(small_dog, tile_size=tile, probability_classes=["sky"], **kwargs)
        grid = r.scores
        assert grid.probs.dtype == np.float16 and grid.grid_shape == (9, 12)
        # On demand: the same map as asked for in the run, up to float16 and the grid.
        np.testing.assert_allclose(grid.probability_map(2), r.probabilities["sky"], atol=2e-3)
        top = grid.top_classes((), 40.0, 50.0)
        assert len(top) == 5 and [p for _, p in top] == sorted((p for _, p in top), reverse=True)
        assert top[0][0] == r.labels[40, 50] - 1 or top[0][1] - top[1][1] < 2e-3
        margin = grid.margin_map()
        assert margin.shape == r.labels.shape and (margin >= 0).all() and (margin <= 1).all()
        assert grid.top_classes((), -1.0, 3.0) == []  # outside the image: nothing


def test_score_grid_of_a_tiled_downscaled_run_is_kept_coarse(small_dog, untrained_params):
    big = np.ascontiguousarray(np.repeat(np.repeat(small_dog, 4, axis=0), 4, axis=1))  # 288x384
    r = segment_image(
        big,
        weights=untrained_params,
        engine="onnxruntime",
        scale=0.5,
        tile_size=64,
        probability_classes=[2],
    )
    assert r.provenance["working_size"] == [144, 192] and r.provenance["tile_size"] == 64
    assert r.scores.grid_shape == (18, 24)  # stride 8 of the working size, not 144x192
    np.testing.assert_allclose(r.scores.probability_map(2), r.probabilities["sky"], atol=0.05)


def test_extra_passes_are_added_strip_by_strip_as_a_whole_resize_would(monkeypatch):
    from napari_gluonseg.core.run import execute as run
    from napari_gluonseg.core.run import postprocess

    rng = np.random.default_rng(5)
    grid = rng.random((4, 37, 53), dtype=np.float32)
    probs = rng.random((4, 20, 31), dtype=np.float32)
    expected = grid + resize(probs, 37, 53)
    monkeypatch.setattr(postprocess, "STRIP_BYTES", 4 * 4 * 53 * 5)  # 5-row strips
    run._add_resized(grid, probs)
    np.testing.assert_allclose(grid, expected, rtol=1e-6)
