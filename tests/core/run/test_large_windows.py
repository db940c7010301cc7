"""Grid windows: equal windows at multiples of 8 whose stride-8 logits make the whole image's."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_gluonseg.core.events import Progress
from napari_gluonseg.core.run.estimate import model_gmac
from napari_gluonseg.core.run.large_windows import (
    MARGIN,
    STRIDE,
    GridLayout,
    grid_cells,
    grid_layout,
    iter_grid_logits,
    split_axis,
)
from napari_gluonseg.core.run.layout import WINDOW_PIXELS

from ...conftest import MODEL


@settings(max_examples=300, deadline=None)
@given(length=st.integers(8, 6000), pieces=st.integers(1, 12))
def test_windows_are_equal_aligned_and_cut_inside_their_overlaps(length, pieces):
    # Pieces only where each window still reaches past the margins it needs.
    pieces = min(pieces, max(1, length // (2 * MARGIN + STRIDE)))
    axis = split_axis(length, pieces)
    starts, size, cuts = axis.starts, axis.size, axis.cuts
    assert len(starts) == pieces and len(cuts) == pieces + 1
    assert starts[0] == 0 and starts[-1] + size == length  # covers the axis, never past it
    assert all(s % STRIDE == 0 for s in starts)  # the window's grid is the image's grid
    assert (length - size) % STRIDE == 0
    assert cuts[0] == 0 and cuts[-1] == grid_cells(length)
    assert list(cuts) == sorted(cuts)
    for k, start in enumerate(starts):
        first, end = start // STRIDE, start // STRIDE + grid_cells(size)
        assert first <= cuts[k] <= cuts[k + 1] <= end  # every cell it gives, it computed
        if k > 0:  # context kept before an inner cut
            assert cuts[k] * STRIDE - start >= MARGIN - STRIDE
        if k < pieces - 1:  # and after it
            assert start + size - cuts[k + 1] * STRIDE >= MARGIN - STRIDE


def _top_left_of_each_cell(window: np.ndarray) -> np.ndarray:
    """A translation-equivariant stand-in for a native network: cell (i, j) of the stride-8
    grid is the pixel (8i, 8j) of its input, for two 'classes'."""
    cells = window[:, :1, ::STRIDE, ::STRIDE]
    return np.concatenate([cells, -cells], axis=1)


@pytest.mark.parametrize(
    ("size", "max_pixels"), [((577, 769), 150_000), ((1001, 333), 120_000), ((64, 64), 10**6)]
)
def test_assembled_grid_is_exactly_the_whole_images(size, max_pixels):
    h, w = size
    x = np.random.default_rng(0).random((1, 3, h, w), np.float32)
    layout = grid_layout(h, w, max_pixels)
    ticks = []

    def progress():
        ticks.append(1)
        return Progress("infer", len(ticks), len(layout.windows), "window")

    events = iter_grid_logits(_top_left_of_each_cell, x, layout, progress)
    while True:
        try:
            next(events)
        except StopIteration as stop:
            grid = stop.value
            break
    np.testing.assert_array_equal(grid, _top_left_of_each_cell(x)[0])
    assert len(ticks) == len(layout.windows)  # one event (and cancel point) per window


@pytest.mark.parametrize("shape", [(3000, 4000), (4000, 3000), (2448, 4896), (3464, 3464)])
def test_twelve_megapixels_cost_at_most_1_35x_one_pass(shape):
    layout = grid_layout(*shape, WINDOW_PIXELS[0])
    assert layout.rows.size * layout.cols.size <= WINDOW_PIXELS[0]
    windows = sum(model_gmac(MODEL, wh, ww) for _, _, wh, ww in layout.windows)
    assert windows <= 1.35 * model_gmac(MODEL, *shape)
    assert len(layout.windows) <= 12


def test_an_image_that_fits_is_one_window():
    layout = grid_layout(576, 768, WINDOW_PIXELS[0])
    assert layout == GridLayout(split_axis(576, 1), split_axis(768, 1))
    assert layout.windows == [(0, 0, 576, 768)] and layout.pixel_ratio == 1.0


def test_smaller_budgets_take_more_smaller_windows():
    sizes = [grid_layout(3000, 4000, budget) for budget in WINDOW_PIXELS]
    assert [len(s.windows) for s in sizes] == sorted(len(s.windows) for s in sizes)
    for layout, budget in zip(sizes, WINDOW_PIXELS, strict=True):
        assert layout.rows.size * layout.cols.size <= budget
