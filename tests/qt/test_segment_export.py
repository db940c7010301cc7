"""Tests of qt/segment_export.py through the segmentation dock (needs an X server): the export
keeps hand corrections, asks before replacing files, takes the kept scores along."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from napari_gluonseg.layers.kept_scores import kept_scores
from napari_gluonseg.qt import dialogs

from ..conftest import BICYCLE
from .helpers import open_dock, run_on_dog, widget_info


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


@pytest.mark.parametrize("fmt", ["coco", "voc", "cityscapes", "cvat", "yolo"])
def test_export_as_a_dataset_writes_the_layer_with_its_image_file(viewer, tmp_path, fmt):
    from napari_gluonseg.core.datasets.opened import open_dataset
    from napari_gluonseg.layers.data import labels_layer_data

    from ..opened_datasets import CLASSES, scene

    path = tmp_path / "street.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (97, 131, 3), np.uint8)).save(path)
    [image] = viewer.open(str(path))
    truth = scene((97, 131), 0)
    data, kwargs, _ = labels_layer_data(truth, "street classes", CLASSES.names, CLASSES.colors,
                                        {"role": "labels"}, {})  # fmt: skip
    labels = viewer.add_labels(data, **kwargs)
    labels.data[50, 10:20] = 2  # a hand correction
    widget = open_dock(viewer, "Semantic segmentation")
    widget.controls.image.value = image
    widget.controls.export_format.value = fmt
    out = tmp_path / "dataset"
    assert widget.export_labels(labels, out) == {"dataset": out}
    assert widget._status.value.startswith(f"Wrote a {fmt} dataset to {out}: 1 ")
    if fmt in ("coco", "voc", "cvat"):  # the formats opened back here
        back = open_dataset(out)
        assert back.classes == CLASSES and [e.name for e in back.entries] == ["street"]
        np.testing.assert_array_equal(back.read_labels("street"), labels.data)
    else:
        assert (out / "gluonseg_dataset.json").is_file()

    # A folder that holds files is refused, not replaced; an image with no file is named.
    assert widget.export_labels(labels, out) == {}
    assert "already holds files" in widget._status.value
    widget.controls.image.value = viewer.add_image(np.zeros((97, 131), np.uint8), name="memo")
    assert widget.export_labels(labels, tmp_path / "other") == {}
    assert "the image 'memo' has no file" in widget._status.value
    assert not (tmp_path / "other").exists()
