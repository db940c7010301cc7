"""A run's class probabilities kept on its coarse grid, for answers without another forward pass.

The grid is the one the run upsampled from (the network's own stride-8 output for one window, the
working image otherwise); its corners are the image's corners (align corners). Stored as float16
(~2 MB for 150 classes at 49x65), so another class's probability map, the top classes under the
cursor or the margin between the two best classes cost milliseconds, not a run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import OptionError
from .resize import resize_rows

# Full-resolution strips in which on-demand maps are upsampled.
_STRIP_PIXELS = 1 << 21


@dataclass
class ScoreGrid:
    """Probabilities (n_planes, classes, gh, gw) float16 of a run, and the image they map onto.

    ``class_ids[k]`` is the model class index of row ``k`` (all classes, or a subset).
    """

    probs: np.ndarray
    leading_shape: tuple[int, ...]
    image_shape: tuple[int, int]
    class_ids: tuple[int, ...]

    @property
    def grid_shape(self) -> tuple[int, int]:
        return int(self.probs.shape[2]), int(self.probs.shape[3])

    def row(self, class_index: int) -> int:
        """The row of ``probs`` holding ``class_index``; OptionError where the run kept none."""
        try:
            return self.class_ids.index(class_index)
        except ValueError:
            raise OptionError(
                f"Class {class_index} was not among the classes of this run."
            ) from None

    def probability_map(self, class_index: int) -> np.ndarray:
        """P(class) at full resolution, float32 shaped like the labels (bilinear upsampling)."""
        row = self.row(class_index)
        out = np.empty((*self.leading_shape, *self.image_shape), np.float32)
        flat = out.reshape(-1, *self.image_shape)
        for i in range(self.probs.shape[0]):
            flat[i] = _upsample(self.probs[i, row : row + 1], self.image_shape)
        return out

    def margin_map(self) -> np.ndarray:
        """Top probability minus the runner-up's, upsampled from the grid (float32, [0, 1]).

        Low values mark pixels where the model hesitates between two classes.
        """
        out = np.empty((*self.leading_shape, *self.image_shape), np.float32)
        flat = out.reshape(-1, *self.image_shape)
        for i in range(self.probs.shape[0]):
            p = self.probs[i].astype(np.float32)
            top2 = np.partition(p, p.shape[0] - 2, axis=0)[-2:] if p.shape[0] > 1 else None
            margin = (top2[1] - top2[0]) if top2 is not None else np.ones(p.shape[1:], np.float32)
            flat[i] = _upsample(margin[None], self.image_shape)
        return out

    def top_classes(
        self, plane: tuple[int, ...], y: float, x: float, k: int = 5
    ) -> list[tuple[int, float]]:
        """The ``k`` most probable classes at image pixel (y, x) of ``plane``, bilinearly
        interpolated from the grid: [(class index, probability)], best first."""
        h, w = self.image_shape
        if not (0 <= y <= h - 1 and 0 <= x <= w - 1):
            return []
        index = int(np.ravel_multi_index(plane, self.leading_shape)) if plane else 0
        p = self.probs[index]
        gh, gw = self.grid_shape
        fy = y * (gh - 1) / (h - 1) if h > 1 and gh > 1 else 0.0
        fx = x * (gw - 1) / (w - 1) if w > 1 and gw > 1 else 0.0
        y0, x0 = min(int(fy), gh - 1), min(int(fx), gw - 1)
        y1, x1 = min(y0 + 1, gh - 1), min(x0 + 1, gw - 1)
        wy, wx = fy - y0, fx - x0
        top = p[:, y0, x0].astype(np.float32) * (1 - wy) + p[:, y1, x0] * wy
        bottom = p[:, y0, x1].astype(np.float32) * (1 - wy) + p[:, y1, x1] * wy
        values = top * (1 - wx) + bottom * wx
        best = np.argsort(-values, kind="stable")[:k]
        return [(self.class_ids[int(j)], float(values[j])) for j in best]


def _upsample(grid: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(1, gh, gw) -> (H, W) float32, strip by strip."""
    out_h, out_w = shape
    out = np.empty(shape, np.float32)
    grid = grid.astype(np.float32)
    step = max(1, _STRIP_PIXELS // out_w)
    for r0 in range(0, out_h, step):
        r1 = min(out_h, r0 + step)
        out[r0:r1] = resize_rows(grid, out_h, out_w, r0, r1)[0]
    return out


def grid_positions(n: int, points: int) -> np.ndarray:
    """The image pixels (of ``n``) nearest to ``points`` grid points whose ends are the image's."""
    return np.round(np.linspace(0, n - 1, points)).astype(int)


def sample_grid_rows(
    probs: np.ndarray, row0: int, image_shape: tuple[int, int], grid_shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """For full-resolution rows ``row0 ..`` of probabilities (C, n, W): the grid rows that fall
    on them (nearest image row of each grid row) and their values at the grid's columns.

    Used by tiled full-resolution runs, which never hold the probabilities whole, to keep the
    coarse grid for later answers.
    """
    h, w = image_shape
    gh, gw = grid_shape
    grid_rows, cols = grid_positions(h, gh), grid_positions(w, gw)
    hit = np.nonzero((grid_rows >= row0) & (grid_rows < row0 + probs.shape[1]))[0]
    values = probs[:, grid_rows[hit] - row0][:, :, cols]
    return hit, values
