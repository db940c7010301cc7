"""Tests of qt/segment_export.py through the segmentation dock (needs an X server): the export
keeps hand corrections, asks before replacing files, takes the kept scores along."""

from __future__ import annotations

import numpy as np

from napari_gluonseg.layers.kept_scores import kept_scores
from napari_gluonseg.qt import dialogs

from ..conftest import BICYCLE
from .helpers import run_on_dog, widget_info


def test_export_from_widget_keeps_hand_corrections(
    qtbot, viewer, dog_layer, bicycle_params, tmp_path, monkeypatch
):
    from napari_gluonseg.core.files.read_export import read_export, read_scores

    widget, labels = run_on_dog(qtbot, viewer, bicycle_params)
    labels.data[0:5, 0:5] = 3  # a hand correction: 'sky'
    paths = widget.export_labels(labels, tmp_path)
    back = read_export(paths["labels"])
    np.testing.assert_array_equal(back.labels, labels.data)
    assert back.class_names[2] == "sky" and back.provenance["edited_by_hand"] is True
    assert back.colors[BICYCLE] == widget_info().colors[BICYCLE]

    # Exporting again asks before replacing the earlier files; "keep them" keeps them.
    labels.data[0:5, 0:5] = 4
    answers = [False, True]
    monkeypatch.setattr(dialogs, "ask_replace_export", lambda parent, files: answers.pop(0))
    assert widget.export_labels(labels, tmp_path) == {}
    assert read_export(paths["labels"]).class_names[2] == "sky"
    np.testing.assert_array_equal(read_export(paths["labels"]).labels[0:5, 0:5], 3)
    widget.export_labels(labels, tmp_path)
    np.testing.assert_array_equal(read_export(paths["labels"]).labels[0:5, 0:5], 4)
    assert "scores" not in paths

    # "with scores": the run's kept scores go beside, and come back when the file is opened.
    widget.controls.export_scores.value = True
    answers.append(True)
    paths = widget.export_labels(labels, tmp_path)
    opened = read_scores(paths["labels"], labels.data.shape)
    assert "scores" in paths and np.array_equal(opened.probs, kept_scores(labels).grid.probs)
