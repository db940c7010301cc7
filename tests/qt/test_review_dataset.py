"""Tests of the "Review folder" dock on a dataset made elsewhere (layers/review_dataset.py, in a
real napari viewer; needs an X server): a dataset of each format opened, its images listed
with their splits, one corrected with napari's tools, saved back in the dataset's own format
(leaving the image, or Save), what the format's reference reader then sees, and nothing else
of the dataset changed."""

from __future__ import annotations

import json

import numpy as np
import pytest
from napari.layers import Image, Labels

from napari_gluonseg.core.datasets.opened import open_dataset
from napari_gluonseg.layers.review_dataset import DatasetSession

from ..dataset_folder import as_names, read_with_reference
from ..opened_datasets import OPENED_FORMATS, classes_of, make_dataset
from .helpers import errors_since, open_dock


def _snapshot(root, fmt, name):
    """What of the dataset belongs to image ``name`` (its labels file, or its COCO
    annotations)."""
    if fmt != "coco":
        return open_dataset(root).labels_file(name).read_bytes()
    found = {}
    for path in sorted((root / "annotations").glob("*.json")):
        document = json.loads(path.read_text())
        ids = [i["id"] for i in document["images"] if i["file_name"].startswith(f"{name}.")]
        found[path.name] = [a for a in document["annotations"] if a["image_id"] in ids]
    return found


@pytest.mark.parametrize("fmt", OPENED_FORMATS)
def test_a_dataset_opened_corrected_and_saved_back_keeps_the_rest(viewer, tmp_path, fmt):
    root, truth = make_dataset(tmp_path, fmt)
    widget = open_dock(viewer, "Review folder")
    widget.open_dataset(root)
    assert isinstance(widget.session, DatasetSession)
    entries = open_dataset(root).entries
    assert [item.describe() for item in widget.session.items] == [
        f"{e.name}  [{e.split}]" for e in entries
    ]
    assert not widget._annotate.enabled and not widget._learn.enabled  # nothing written beside
    first, second = entries[0].name, entries[1].name
    untouched = _snapshot(root, fmt, second)

    widget._next.clicked.emit()
    image, labels = viewer.layers
    assert isinstance(image, Image) and isinstance(labels, Labels)
    assert widget.current.key == first and image.data.shape[:2] == truth[first].shape
    np.testing.assert_array_equal(labels.data, truth[first])
    classes = classes_of(fmt)
    assert list(labels.features["class_name"]) == ["unlabeled", *classes.names]
    if fmt != "yolo":  # YOLO carries no colours: the set's sidecar, or VOC's palette, gives them
        np.testing.assert_allclose(np.asarray(labels.colormap.map(3))[:3] * 255,
                                   classes.colors[2], atol=1)  # fmt: skip

    # The person fills the hole with building (a brush stroke) and draws a sky line.
    labels.mode = "paint"
    labels.brush_size = 3
    labels.paint((25, 20), 2, refresh=True)
    labels.data[60, 5:50] = 1
    labels.refresh()
    painted = labels.data.copy()
    assert np.count_nonzero(painted != truth[first]) > 0

    widget._next.clicked.emit()  # leaving the image saves it
    assert widget.current.key == second
    reopened = open_dataset(root)
    np.testing.assert_array_equal(reopened.read_labels(first), painted)
    np.testing.assert_array_equal(reopened.read_labels(second), truth[second])
    assert _snapshot(root, fmt, second) == untouched
    assert reopened.classes == classes
    assert dict(i.describe().split("  ") for i in widget.session.items)[first] == (
        f"[{entries[0].split}, saved]")  # fmt: skip

    widget._save.clicked.emit()
    assert widget._status.value == "Nothing to save: the labels are as opened."
    layer = widget.labels_layer
    layer.data[layer.data == 3] = 0  # the person erases every tree
    layer.refresh()
    widget._save.clicked.emit()
    assert widget._status.value == f"Saved the corrections of {second}."
    expected = np.where(truth[second] == 3, 0, truth[second])
    np.testing.assert_array_equal(open_dataset(root).read_labels(second), expected)
    np.testing.assert_array_equal(open_dataset(root).read_labels(first), painted)
    names, seen, _ = read_with_reference(fmt, root, tmp_path)  # what another tool now reads
    for name, labels_now in ((first, painted), (second, expected)):
        agree = np.array(names, dtype=object)[seen[name]] == as_names(labels_now, classes.names)
        assert agree.mean() >= (0.99 if fmt == "yolo" else 1.0), (name, agree.mean())


def test_a_folder_that_is_no_dataset_says_so_and_keeps_the_review(viewer, tmp_path):
    widget = open_dock(viewer, "Review folder")
    start = len(errors_since(0))
    widget.open_dataset(tmp_path)
    assert widget.session is None
    assert any("is not a dataset" in e for e in errors_since(start))


def test_pre_annotating_is_not_offered_on_a_dataset(tmp_path):
    root, _ = make_dataset(tmp_path, "voc")
    with pytest.raises(ValueError, match="own format"):
        DatasetSession(root).recorded_batch()
