"""The scores a run kept for a labels layer: attached and forgotten through the layer's
metadata, and where they lie in the layer (a run on a region keeps scores for it alone)."""

import numpy as np
from napari.layers import Labels

from napari_gluonseg.core.run.scores import ScoreGrid
from napari_gluonseg.layers.kept_scores import KeptScores, attach_scores, kept_scores


def _grid(leading=(), image=(20, 20)) -> ScoreGrid:
    n = int(np.prod(leading)) if leading else 1
    return ScoreGrid(np.full((n, 2, 5, 5), 0.5, np.float16), leading, image, (0, 1))


def test_scores_are_attached_to_the_layer_and_forgotten_without_its_other_metadata():
    layer = Labels(np.zeros((20, 30), np.int32), metadata={"mine": 1})
    attach_scores(layer, _grid(), (0, 10))
    kept = kept_scores(layer)
    assert kept is not None and kept.origin == (0, 10) and layer.metadata["mine"] == 1
    attach_scores(layer, None, (0, 0))
    assert kept_scores(layer) is None and layer.metadata == {"mine": 1}


def test_scores_of_a_region_cover_only_that_region_and_its_planes():
    kept = KeptScores(_grid((2,)), (1, 0, 10))  # planes 1-2 of 4, columns 10-29
    assert not kept.whole((4, 20, 30)) and KeptScores(_grid((2,)), (0, 0, 0)).whole((2, 20, 20))
    box = (slice(5, 15), slice(0, 15))
    assert kept.covers((2,), box) == ((1,), (slice(5, 15), slice(0, 5)))  # cut to the region
    assert kept.covers((0,), box) is None  # a plane the run did not see
    assert kept.covers((1,), (slice(0, 20), slice(0, 10))) is None  # left of the region
