"""Export of a labels layer for training: as it is now, hand edits counted in its provenance,
the file stem from its name, the kept scores only where asked and they cover the layer."""

import json

import numpy as np
from napari.layers import Labels

from napari_gluonseg.core.run.scores import ScoreGrid
from napari_gluonseg.layers.export import export_layer, export_stem_of
from napari_gluonseg.layers.hand_edits import hand_tracker
from napari_gluonseg.layers.kept_scores import attach_scores


def test_an_export_writes_the_layer_as_it_is_with_what_was_set_by_hand(tmp_path):
    layer = Labels(np.ones((8, 10), np.uint8), name="dog classes")
    assert export_stem_of(layer) == "dog"
    grid = ScoreGrid(np.full((1, 2, 2, 2), 0.5, np.float16), (), (8, 10), (0, 1))
    attach_scores(layer, grid, (0, 0))
    hand_tracker(layer)
    layer.data_setitem((np.array([2, 2]), np.array([3, 4])), 2)  # by hand
    paths = export_layer(layer, tmp_path, "png")
    assert paths["labels"].name.startswith("dog") and "scores" not in paths
    provenance = json.loads(paths["provenance"].read_text())
    assert provenance["pixels_set_by_hand"] == 2 and provenance["edited_by_hand"] is True
    assert "scores" in export_layer(layer, tmp_path / "kept", "png", keep_scores=True)
