"""How one pass of the network covers its working image: whole, large grid windows, or tiles.

- ``WHOLE``: one forward pass over the image: the reference result.
- ``GRID``: equal windows as large as the memory budget allows, assembled on the network's own
  stride-8 grid (:mod:`.grid`): full resolution of large images at ~1.2x the work of one pass.
- ``TILES``: GluonCV's own evaluation, ``tile``-pixel windows at 2/3 stride averaged at full
  resolution (:mod:`.tiling`): what ``tile_size=480`` asks for, and the fallback for models
  that cannot give their logits on the grid at the window's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..models.padding import runs_native
from ..models.registry import ModelInfo
from .large_windows import GridLayout, grid_layout
from .tiling import default_stride, tile_windows

# Largest window of tile_size="auto", in pixels, tried in this order: the first whose run fits the
# memory guard's estimate. 2 MP of FCN-ResNet50 activations are ~1.6 GB; a 12 MP photo at scale
# 1.0 then takes 8 windows and 1.22x the work of one pass.
WINDOW_PIXELS = (2_000_000, 1_000_000, 500_000)
# Models that cannot run on the grid at a size: tile_size="auto" runs the whole image up to this
# many pixels (the 576x768 reference photo fits), beyond it the model's crop-size tiles.
WHOLE_IMAGE_PIXELS = 600_000


class Coverage(StrEnum):
    WHOLE = "whole"
    GRID = "grid"
    TILES = "tiles"


@dataclass(frozen=True)
class PassLayout:
    """The windows (y, x, h, w) of one pass over a (height, width) working image.

    ``native``: the network gives its logits on its stride-8 grid (whole and grid passes of the
    models that can); ``tile``/``stride``: GluonCV's windows (``TILES`` only).
    """

    height: int
    width: int
    coverage: Coverage
    windows: tuple[tuple[int, int, int, int], ...]
    native: bool
    grid: GridLayout | None = None
    tile: int | None = None
    stride: int | None = None

    @property
    def window(self) -> tuple[int, int]:
        """Every window's (h, w): one network shape per pass."""
        return self.windows[0][2], self.windows[0][3]

    @property
    def network_key(self) -> tuple[int, int, bool]:
        """What the network is loaded for: (h, w, native)."""
        return (*self.window, self.native)

    def provenance(self) -> dict:
        return {
            "coverage": str(self.coverage),
            "windows": len(self.windows),
            "window_size": list(self.window),
            "tile_size": self.tile,
            "tile_stride": self.stride,
        }


def whole(height: int, width: int, info: ModelInfo) -> PassLayout:
    native = runs_native(info, height, width)
    return PassLayout(height, width, Coverage.WHOLE, ((0, 0, height, width),), native)


def tiles(height: int, width: int, tile: int) -> PassLayout:
    stride = default_stride(tile)
    windows = tuple(tile_windows(height, width, tile, stride))
    return PassLayout(height, width, Coverage.TILES, windows, False, tile=tile, stride=stride)


def pass_layout(
    height: int,
    width: int,
    tile: int | str | None,
    info: ModelInfo,
    max_window: int = WINDOW_PIXELS[0],
) -> PassLayout:
    """How a pass over a (height, width) working image runs.

    ``tile``: ``None`` the whole image; an int GluonCV's windows of that size (the whole image
    when it fits one); ``"auto"`` the whole image or grid windows of at most ``max_window``
    pixels, where the model allows (else the whole image up to WHOLE_IMAGE_PIXELS, then tiles
    of the model's crop size).
    """
    if tile is None:
        return whole(height, width, info)
    if tile == "auto":
        layout = grid_layout(height, width, max_window)
        if runs_native(info, *layout.window):
            if len(layout.windows) == 1:
                return whole(height, width, info)
            return PassLayout(
                height, width, Coverage.GRID, tuple(layout.windows), True, grid=layout
            )
        tile = None if height * width <= WHOLE_IMAGE_PIXELS else info.crop_size
        if tile is None:
            return whole(height, width, info)
    assert isinstance(tile, int)
    if max(height, width) <= tile:  # one window is the whole image: the same result
        return whole(height, width, info)
    return tiles(height, width, tile)


def largest_window(layouts: tuple[PassLayout, ...] | list[PassLayout]) -> tuple[int, int]:
    return max((layout.window for layout in layouts), key=lambda hw: hw[0] * hw[1])
