"""Sliding windows: coverage, count map, streamed rows, equality with the whole-image path."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_gluonseg import segment_image
from napari_gluonseg.core.events import Progress
from napari_gluonseg.core.run.segment import iter_segment_image
from napari_gluonseg.core.run.tiling import (
    default_stride,
    iter_tiled_logits,
    tile_windows,
    window_starts,
)


def run_tiled(forward, x, tile, stride=None):
    """Logits (C, h, w) assembled from the emitted rows, and the row bands emitted."""
    stride = stride or (default_stride(tile) if tile else 1)
    out, bands = {}, []

    def emit(row0, rows):
        bands.append((row0, rows.shape[1]))
        out[row0] = rows.copy()

    for event in iter_tiled_logits(
        forward, x, tile, stride, lambda: Progress("infer", 0, 0, ""), emit
    ):
        assert isinstance(event, Progress)
    return np.concatenate([out[r] for r in sorted(out)], axis=1), bands


def naive_tiled(forward, x, tile, stride):
    """GluonCV's accumulation over the whole image at once (what the streaming must equal)."""
    _, _, h, w = x.shape
    total, count = None, np.zeros((h, w), np.float32)
    for y, x0, wh, ww in tile_windows(h, w, tile, stride):
        out = forward(x[:, :, y : y + wh, x0 : x0 + ww])[0]
        if total is None:
            total = np.zeros((out.shape[0], h, w), np.float32)
        total[:, y : y + wh, x0 : x0 + ww] += out
        count[y : y + wh, x0 : x0 + ww] += 1
    return total / count, count


def position_dependent(x):
    """Not translation-equivariant: the output depends on where in the window a pixel is."""
    _, _, h, w = x.shape
    ramp = np.linspace(-1, 1, h * w, dtype=np.float32).reshape(h, w)
    return np.stack([x[0, 0] * ramp, x[0, 1] + ramp, x[0, 2] - 2 * ramp])[None]


WEIGHTS = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)


def per_pixel(x):
    """A 1x1 convolution: translation-equivariant by construction, blind to window borders."""
    return (np.einsum("kc,nchw->nkhw", WEIGHTS, x) + 0.5).astype(np.float32)


@settings(max_examples=200, deadline=None)
@given(
    h=st.integers(1, 300),
    w=st.integers(1, 300),
    tile=st.integers(8, 128),
    stride_frac=st.floats(0.2, 1.0),
)
def test_windows_cover_every_pixel_and_stay_inside(h, w, tile, stride_frac):
    stride = max(1, int(tile * stride_frac))
    count = np.zeros((h, w), int)
    windows = tile_windows(h, w, tile, stride)
    for y, x, wh, ww in windows:
        assert (wh, ww) == (min(tile, h), min(tile, w))  # one shape: one network
        assert y >= 0 and y + wh <= h and x >= 0 and x + ww <= w
        count[y : y + wh, x : x + ww] += 1
    assert count.min() >= 1
    starts = window_starts(h, min(tile, h), stride)
    assert starts == sorted(set(starts)) and starts[0] == 0
    assert all(b - a <= stride for a, b in itertools.pairwise(starts))


def test_count_map_matches_gluoncv_layout():
    # 480-pixel windows, stride 320 over 1000 pixels: starts 0, 320, 520 -> overlaps counted twice.
    assert window_starts(1000, 480, 320) == [0, 320, 520]
    _, count = naive_tiled(per_pixel, np.zeros((1, 3, 1000, 100), np.float32), 480, 320)
    expected = np.ones(1000)
    expected[320:480] = 2
    expected[520:800] = 2
    np.testing.assert_array_equal(count[:, 0], expected)


@pytest.mark.parametrize(
    ("h", "w", "tile"), [(100, 130, 48), (97, 61, 40), (64, 64, 64), (30, 200, 48)]
)
def test_streamed_rows_equal_whole_image_accumulation(h, w, tile):
    x = np.random.default_rng(0).normal(size=(1, 3, h, w)).astype(np.float32)
    streamed, bands = run_tiled(position_dependent, x, tile)
    expected, _ = naive_tiled(position_dependent, x, tile, default_stride(tile))
    np.testing.assert_allclose(streamed, expected, rtol=1e-6, atol=1e-6)
    # Bands come top to bottom and hand on every row exactly once.
    assert [b[0] for b in bands] == sorted(b[0] for b in bands)
    assert sum(n for _, n in bands) == h and bands[0][0] == 0
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(bands))


def test_translation_equivariant_network_gives_whole_image_logits():
    x = np.random.default_rng(2).normal(size=(1, 3, 150, 210)).astype(np.float32)
    whole = per_pixel(x)[0]
    tiled, bands = run_tiled(per_pixel, x, 64)
    assert len(bands) > 2
    np.testing.assert_allclose(tiled, whole, rtol=1e-6, atol=1e-6)


def test_single_window_equals_whole_image_exactly():
    x = np.random.default_rng(3).normal(size=(1, 3, 50, 70)).astype(np.float32)
    tiled, bands = run_tiled(position_dependent, x, 480)  # the window shrinks to the image
    np.testing.assert_array_equal(tiled, position_dependent(x)[0])
    assert bands == [(0, 50)]


def test_tiled_path_equals_whole_image_path_when_one_tile_fits(small_dog, untrained_params):
    kwargs = {
        "weights": untrained_params,
        "scale": 1.0,
        "engine": "onnxruntime",
        "probability_classes": [2],
    }
    whole = segment_image(small_dog, tile_size=None, **kwargs)
    tiled = segment_image(small_dog, tile_size=480, **kwargs)
    np.testing.assert_array_equal(tiled.labels, whole.labels)
    np.testing.assert_array_equal(tiled.confidence, whole.confidence)
    np.testing.assert_array_equal(tiled.probabilities["sky"], whole.probabilities["sky"])


def test_tiled_real_network_close_to_whole_image(small_dog, untrained_params):
    # Windows see less context than the whole image, so they differ near window borders only.
    kwargs = {"weights": untrained_params, "scale": 1.0, "engine": "onnxruntime"}
    whole = segment_image(small_dog, tile_size=None, **kwargs)
    tiled = segment_image(small_dog, tile_size=64, **kwargs)
    assert tiled.provenance["tile_size"] == 64 and tiled.provenance["tile_stride"] == 42
    assert tiled.labels.min() >= 1
    assert (tiled.labels == whole.labels).mean() > 0.5


def test_progress_per_plane_and_window(small_dog, untrained_params):
    stack = np.stack([small_dog] * 2)
    events = list(
        iter_segment_image(
            stack, weights=untrained_params, scale=1.0, tile_size=64, engine="onnxruntime"
        )
    )
    infer = [e for e in events if e.stage == "infer"]
    per_plane = len(tile_windows(72, 96, 64, 42))
    assert per_plane == 4
    # A first event before any window runs; each message names the window running next.
    assert [e.done for e in infer] == list(range(0, 2 * per_plane + 1))
    assert infer[0].message == "segmenting plane 1/2, window 1/4"
    assert infer[-2].message == "segmenting plane 2/2, window 4/4"
    assert infer[-1].message == "finishing"
