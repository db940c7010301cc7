"""Datasets opened to correct and saved back: for each format (COCO, VOC, CVAT masks,
Cityscapes, YOLO), an edit of one image's labels is what the format's reference reader then
sees, and nothing else changed (other images; other classes: COCO and YOLO keep their
annotations as they were); broken datasets are refused naming the file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_gluonseg.core.datasets.export import export_dataset
from napari_gluonseg.core.datasets.opened import detect_format, open_dataset
from napari_gluonseg.core.errors import DatasetError

from ...dataset_folder import NAMES, as_names, read_with_reference

SHORT = ("wall", "building", "sky", "floor", "tree")  # Cityscapes' names hold no spaces


@pytest.fixture(params=["coco", "voc", "cvat", "cityscapes", "yolo"])
def dataset(request, results_to_export, tmp_path):
    images, out, truth = results_to_export
    short = request.param == "cityscapes"
    export_dataset(images, out, tmp_path / "set", request.param, short_names=short)
    return request.param, tmp_path / "set", truth


def names_of(fmt: str) -> tuple[str, ...]:
    return SHORT if fmt == "cityscapes" else NAMES


def test_a_dataset_opens_as_its_labels_with_its_classes(dataset):
    fmt, root, truth = dataset
    assert detect_format(root) == fmt
    opened = open_dataset(root)
    assert opened.classes.names == names_of(fmt)
    assert sorted(e.name for e in opened.entries) == sorted(truth)
    for name, labels in truth.items():
        np.testing.assert_array_equal(opened.read_labels(name), labels)
        assert opened.entry(name).image.is_file()


def test_an_edit_saved_back_is_what_the_reference_reader_sees_and_nothing_else_changes(
    dataset, tmp_path
):
    fmt, root, truth = dataset
    before_names, before, _ = read_with_reference(fmt, root, tmp_path)
    opened = open_dataset(root)
    edited = opened.read_labels("p1").copy()
    edited[40:60, 20:50] = 5  # "tree" painted over whatever was there
    edited[0:4, 0:10] = 1  # some unlabeled pixels labelled "wall"
    opened.save_labels("p1", edited)
    names, after, _ = read_with_reference(fmt, root, tmp_path)
    theirs = np.array(names, dtype=object)[after["p1"]]
    agree = (theirs == as_names(edited, names_of(fmt))).mean()
    assert agree >= (0.99 if fmt == "yolo" else 1.0), agree  # YOLO: polygons drawn back
    for other in set(truth) - {"p1"}:
        was = np.array(before_names, dtype=object)[before[other]]
        np.testing.assert_array_equal(np.array(names, dtype=object)[after[other]], was)
    np.testing.assert_array_equal(open_dataset(root).read_labels("p1"), edited)


def test_coco_keeps_the_annotations_of_the_classes_left_alone(results_to_export, tmp_path):
    images, out, _ = results_to_export
    export_dataset(images, out, tmp_path / "set", "coco", polygons=True, val_fraction=0)
    path = tmp_path / "set" / "annotations" / "instances_train.json"
    document = json.loads(path.read_text())
    opened = open_dataset(tmp_path / "set")
    labels = opened.read_labels("p0")
    labels[labels == 4] = 5  # class 4 becomes class 5: only those two change
    opened.save_labels("p0", labels)
    image_id = next(i["id"] for i in document["images"] if i["file_name"] == "p0.png")
    after = json.loads(path.read_text())
    was = {a["category_id"]: a for a in document["annotations"] if a["image_id"] == image_id}
    now = {a["category_id"]: a for a in after["annotations"] if a["image_id"] == image_id}
    for category in (1, 2, 3):
        assert now[category] == was[category]  # the polygons as they were
    assert 4 not in now and isinstance(now[5]["segmentation"], dict)  # RLE in place of it
    others = [a for a in document["annotations"] if a["image_id"] != image_id]
    assert [a for a in after["annotations"] if a["image_id"] != image_id] == others


def test_a_mask_of_another_size_than_its_image_is_named(results_to_export, tmp_path):
    from PIL import Image

    images, out, _ = results_to_export
    export_dataset(images, out, tmp_path / "set", "voc")
    mask = tmp_path / "set" / "SegmentationClass" / "p2.png"
    Image.open(mask).resize((10, 10)).save(mask)
    with pytest.raises(DatasetError, match=r"p2\.png is 10x10, its image .*64x64"):
        open_dataset(tmp_path / "set").read_labels("p2")


@pytest.mark.parametrize(
    ("fmt", "gone", "said"),
    [
        ("coco", "p3.png", r"instances_train\.json: the image p3\.png"),
        ("yolo", "p1.png", r"p1\.txt has no image in .*train"),  # labels whose image is gone
    ],
)
def test_a_missing_image_is_named_on_opening(results_to_export, tmp_path, fmt, gone, said):
    images, out, _ = results_to_export
    export_dataset(images, out, tmp_path / "set", fmt, val_fraction=0)
    (tmp_path / "set" / "images" / "train" / gone).unlink()
    with pytest.raises(DatasetError, match=said):
        open_dataset(tmp_path / "set")


def test_a_colour_the_label_map_lacks_is_named_with_its_file(results_to_export, tmp_path):
    from PIL import Image

    images, out, _ = results_to_export
    export_dataset(images, out, tmp_path / "set", "cvat")
    mask = tmp_path / "set" / "SegmentationClass" / "p0.png"
    rgb = np.array(Image.open(mask))
    rgb[50:52, 50:53] = (1, 2, 3)
    Image.fromarray(rgb).save(mask)
    with pytest.raises(DatasetError, match=r"p0\.png: 6 pixels of colour #010203"):
        open_dataset(tmp_path / "set").read_labels("p0")


def test_a_folder_of_no_known_format_is_refused(tmp_path):
    assert detect_format(tmp_path) is None
    with pytest.raises(DatasetError, match="not a dataset this package opens"):
        open_dataset(tmp_path)


def test_a_cityscapes_folder_without_its_class_list_says_which_file(results_to_export, tmp_path):
    images, out, _ = results_to_export
    export_dataset(images, out, tmp_path / "set", "cityscapes", short_names=True)
    (tmp_path / "set" / "label_colors.txt").unlink()
    (tmp_path / "set" / "label_colors.txt").write_text("0 0 0 unlabeled\n1 2 wall\n")
    with pytest.raises(DatasetError, match=r"label_colors\.txt, line 2: '1 2 wall'"):
        open_dataset(tmp_path / "set")
