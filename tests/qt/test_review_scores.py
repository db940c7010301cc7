"""Tests of qt/review_scores.py in the "Review folder" dock (needs an X server): a class's
probability and the uncertain regions, from the scores the batch kept."""

from __future__ import annotations

import numpy as np

from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.files.read_export import read_export

from ..core.batch.test_review import make_folder
from .helpers import RUN, first_image_open


def test_probabilities_and_doubtful_places_from_the_kept_scores(viewer, tmp_path, untrained_params):
    from napari_gluonseg.core.files.read_export import read_scores

    images = make_folder(tmp_path / "images")
    results = tmp_path / "results"
    segment_folder(images, results, weights=untrained_params, keep_scores=True, **RUN)
    widget = first_image_open(viewer, (images, results))
    image, labels = viewer.layers
    export = read_export(widget.current.labels)
    scores = read_scores(widget.current.labels, export.labels.shape)
    assert widget._probability.choices == (None, *range(150)) and widget._probability.enabled
    viewer.add_points()  # napari resets a dock's lists when a layer is added: they must hold
    assert widget._probability.choices == (None, *range(150))
    assert len(widget._images.choices) == 1 + 3
    viewer.layers.remove(viewer.layers[-1])
    viewer.layers.selection.active = labels
    widget._probability.value = 12  # the person picks a class
    prob = viewer.layers[-1]
    assert prob.name == f"{image.name} P({export.class_names[12].split(',')[0]})"
    np.testing.assert_array_equal(prob.data, scores.probability_map(12))
    assert viewer.layers.selection.active is labels  # painting goes on in the labels

    widget._region.clicked.emit()  # small margins count: an untrained network hesitates
    assert len(widget._scores_view.regions) > 0
    assert widget._status.value.startswith("Uncertain region 1 of")

    widget._next.clicked.emit()
    assert prob not in viewer.layers and list(viewer.layers) == [image, labels]
    assert widget._probability.value is None
