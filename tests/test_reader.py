"""Tests of _reader.py through napari's own opening (npe2 finds the readers in the manifest): a
dataset folder of each format, or one image of a COCO, VOC or CVAT one, opens as image + Labels
layers of the dataset's classes; a large one is refused with where to open it instead. (The
labels export's reader: tests/test_manifest.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from napari_gluonseg._reader import MAX_DATASET_IMAGES, get_dataset_reader
from napari_gluonseg.core.datasets.opened import open_dataset

from .opened_datasets import OPENED_FORMATS, classes_of, make_dataset

pytestmark = pytest.mark.usefixtures("our_plugin")


def _viewer():
    from napari.components import ViewerModel

    return ViewerModel()


@pytest.mark.parametrize("fmt", OPENED_FORMATS)
def test_a_dataset_folder_opens_as_images_and_labels_of_its_classes(tmp_path, fmt):
    root, truth = make_dataset(tmp_path, fmt)
    viewer = _viewer()
    viewer.open(str(root), plugin="napari-gluonseg")
    entries = open_dataset(root).entries
    names = [layer.name for layer in viewer.layers]
    assert names == [n for e in entries for n in (e.name, f"{e.name} classes")]
    for n, entry in enumerate(entries):
        image, labels = viewer.layers[entry.name], viewer.layers[f"{entry.name} classes"]
        assert image.data.shape[:2] == labels.data.shape == truth[entry.name].shape
        np.testing.assert_array_equal(labels.data, truth[entry.name])
        assert labels.visible == image.visible == (n == 0)  # one image at a time
        # Hovering shows the class: the layer's features name each value.
        classes = classes_of(fmt)
        assert list(labels.features["class_name"]) == ["unlabeled", *classes.names]
        for k, color in enumerate(classes.colors, start=1):
            rgb = np.asarray(labels.colormap.map(k))[:3] * 255
            np.testing.assert_allclose(rgb, color, atol=1)


@pytest.mark.parametrize("fmt", ["voc", "coco"])
def test_an_image_of_a_dataset_opens_with_its_labels(tmp_path, fmt):
    root, truth = make_dataset(tmp_path, fmt)
    entry = open_dataset(root).entries[0]
    viewer = _viewer()
    viewer.open(str(entry.image), plugin="napari-gluonseg")
    assert [layer.name for layer in viewer.layers] == [entry.name, f"{entry.name} classes"]
    np.testing.assert_array_equal(viewer.layers[-1].data, truth[entry.name])


def test_other_folders_and_images_are_not_claimed(tmp_path):
    (tmp_path / "plain").mkdir()
    photo = tmp_path / "photos" / "p0.png"
    make_dataset(tmp_path, "voc")  # writes photos/ beside the dataset
    assert get_dataset_reader(str(tmp_path / "plain")) is None
    assert get_dataset_reader(str(photo)) is None
    assert get_dataset_reader([str(photo), str(photo)]) is None


def test_a_large_dataset_is_refused_naming_it_and_the_review_dock(tmp_path, monkeypatch):
    from napari_gluonseg import _reader
    from napari_gluonseg.core.errors import DatasetError

    root, _ = make_dataset(tmp_path, "voc")
    monkeypatch.setattr(_reader, "MAX_DATASET_IMAGES", 1)
    with pytest.raises(DatasetError, match="Review dock") as raised:
        _reader.read_dataset(str(root))
    assert str(root) in str(raised.value)
    assert MAX_DATASET_IMAGES >= 10  # a small set still opens whole
