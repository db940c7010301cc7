"""Results written as datasets, read back by each format's reference reader (pycocotools,
datumaro, supervision: another venv, another process): the same classes, the same labels (YOLO's
polygons drawn back: >= 99% of pixels), the split of the seed; and every bad input refused by
name, with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest

from napari_gluonseg.core.datasets import export as export_module
from napari_gluonseg.core.datasets.export import (
    SIDECAR,
    LabelledImage,
    export_dataset,
    write_dataset,
)
from napari_gluonseg.core.datasets.items import Classes, split_of
from napari_gluonseg.core.errors import DatasetError, ExportExistsError
from napari_gluonseg.core.files.export import write_labels

from ...dataset_folder import CLASSES, COLORS, NAMES, as_names, read_with_reference

# Where a format cannot hold spaces in its class list (Cityscapes), the short names are given.
SHORT = ("wall", "building", "sky", "floor", "tree")


@pytest.mark.parametrize("fmt", ["coco", "voc", "cityscapes", "cvat", "yolo"])
def test_each_format_reads_back_in_its_reference_reader_as_the_same_labels(
    fmt, results_to_export, tmp_path
):
    images, out, truth = results_to_export
    short = fmt == "cityscapes"
    summary = export_dataset(images, out, tmp_path / fmt, fmt, short_names=short, seed=3)
    assert summary.splits == {"train": 3, "val": 1}
    names, items, splits = read_with_reference(fmt, tmp_path / fmt, tmp_path)
    expected_names = SHORT if short else NAMES
    assert sorted(names[1:]) == sorted(expected_names)
    sidecar = json.loads((tmp_path / fmt / SIDECAR).read_text())
    assert splits == sidecar["splits"] == split_of(list(truth), 0.2, 3)
    assert sorted(items) == sorted(truth)
    for stem, labels in truth.items():
        theirs = np.array(names, dtype=object)[items[stem]]
        agree = (as_names(labels, expected_names) == theirs).mean()
        if fmt == "yolo":  # polygons drawn back by OpenCV's fillPoly (supervision)
            assert agree >= 0.99, (stem, agree)
        else:
            assert agree == 1.0, (stem, agree)


def test_coco_polygons_read_back_by_pycocotools_as_the_labels(results_to_export, tmp_path):
    images, out, truth = results_to_export
    export_dataset(images, out, tmp_path / "coco", "coco", polygons=True)
    names, items, _ = read_with_reference("coco", tmp_path / "coco", tmp_path)
    for stem, labels in truth.items():
        theirs = np.array(names, dtype=object)[items[stem]]
        assert (as_names(labels, NAMES) == theirs).mean() >= 0.99


def test_the_split_is_the_seeds_and_keeps_one_image_on_each_side():
    names = [f"n{k}" for k in range(10)]
    assert split_of(names, 0.2, 1) == split_of(list(reversed(names)), 0.2, 1)
    assert list(split_of(names, 0.2, 1).values()).count("val") == 2
    assert split_of(names, 0.2, 1) != split_of(names, 0.2, 2)
    assert list(split_of(["a", "b"], 0.01, 0).values()).count("val") == 1
    assert set(split_of(names, 0.0, 0).values()) == {"train"}
    with pytest.raises(DatasetError, match=r"1\.5"):
        split_of(names, 1.5, 0)


def test_linked_images_point_at_the_originals(results_to_export, tmp_path):
    images, out, _ = results_to_export
    export_dataset(images, out, tmp_path / "y", "yolo", link_images=True, val_fraction=0)
    linked = sorted((tmp_path / "y" / "images" / "train").iterdir())
    assert [p.resolve() for p in linked] == sorted(p.resolve() for p in images.iterdir())
    assert "val: images/train" in (tmp_path / "y" / "data.yaml").read_text()


def _dataset(tmp_path, labels, classes=CLASSES, fmt="voc", **kwargs):
    from PIL import Image

    image = tmp_path / "photo.png"
    Image.fromarray(np.zeros((*labels.shape, 3), np.uint8)).save(image)
    out = tmp_path / "out"
    return write_dataset([LabelledImage("photo.png", image, labels)], classes, out, fmt, **kwargs)


@pytest.mark.parametrize(
    "fmt, classes, message",
    [
        ("voc", Classes(tuple(f"c{k}" for k in range(256)), ((1, 2, 3),) * 256), "at most 255"),
        ("cityscapes", CLASSES, "'building, edifice'.*spaces"),
        ("cvat", Classes(("a", "b"), ((5, 5, 5), (5, 5, 5))), "both #050505"),
        ("cvat", Classes(("a", "b"), ((0, 0, 0), (5, 5, 5))), "'a', is black"),
        ("cvat", Classes(("background", "b"), ((9, 9, 9), (5, 5, 5))), "'background'"),
        ("voc", Classes(("a:b",), ((9, 9, 9),)), "'a:b'"),
        ("voc", Classes(("a", "a"), ((9, 9, 9), (5, 5, 5))), "same name 'a'"),
    ],
)
def test_a_scheme_a_format_cannot_hold_is_refused_by_name_before_anything_is_written(
    fmt, classes, message, tmp_path
):
    with pytest.raises(DatasetError, match=message):
        _dataset(tmp_path, np.ones((5, 7), np.uint8), classes, fmt)
    assert not (tmp_path / "out").exists()


def test_short_names_that_collide_are_refused(tmp_path):
    classes = Classes(("tree, bush", "tree, plant"), ((1, 1, 1), (2, 2, 2)))
    with pytest.raises(DatasetError, match="shortened name 'tree'"):
        _dataset(tmp_path, np.ones((5, 7), np.uint8), classes, "cityscapes", short_names=True)


def test_labels_of_another_size_than_their_image_name_the_image_and_write_nothing(
    results_to_export, tmp_path
):
    images, out, _ = results_to_export
    write_labels(np.ones((10, 10), np.uint8), NAMES, COLORS, {}, out, "p2", overwrite=True)
    with pytest.raises(DatasetError, match=r"p2.png.*10x10, the image 64x64"):
        export_dataset(images, out, tmp_path / "set", "coco")
    assert not (tmp_path / "set").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".set")]


def test_an_empty_image_file_is_refused_by_name(results_to_export, tmp_path):
    images, out, _ = results_to_export
    (images / "p3.png").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"p3\.png is an empty file"):
        export_dataset(images, out, tmp_path / "set", "coco")
    assert not (tmp_path / "set").exists()


def test_results_of_two_class_tables_are_refused_by_file(results_to_export, tmp_path):
    images, out, truth = results_to_export
    write_labels(truth["p1"], (*NAMES[:4], "palm"), COLORS, {}, out, "p1", overwrite=True)
    with pytest.raises(DatasetError, match=r"p1_labels\.png has another class table"):
        export_dataset(images, out, tmp_path / "set", "voc")


def test_no_results_and_no_corrected_results_are_said(results_to_export, tmp_path):
    images, out, _ = results_to_export
    with pytest.raises(DatasetError, match="No corrected image"):
        export_dataset(images, out, tmp_path / "set", "voc", corrected_only=True)
    with pytest.raises(DatasetError, match="No result"):
        export_dataset(images, tmp_path / "empty", tmp_path / "set", "voc")


def test_an_existing_dataset_is_replaced_only_when_asked_and_whole(results_to_export, tmp_path):
    images, out, _ = results_to_export
    target = tmp_path / "set"
    target.mkdir()
    (target / "mine.txt").write_text("keep")
    with pytest.raises(ExportExistsError, match="already holds files"):
        export_dataset(images, out, target, "voc")
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    export_dataset(images, out, target, "voc", overwrite=True)
    assert not (target / "mine.txt").exists() and (target / "labelmap.txt").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".set")] == []


def test_an_interrupted_export_leaves_the_old_dataset_and_no_scratch(results_to_export, tmp_path,
                                                                      monkeypatch):  # fmt: skip
    images, out, _ = results_to_export
    target = tmp_path / "set"
    export_dataset(images, out, target, "coco")
    before = sorted(p.relative_to(target) for p in target.rglob("*"))
    calls = []

    def interrupted(root, item, labels):
        calls.append(item.name)
        if len(calls) == 3:
            raise KeyboardInterrupt

    writer = export_module.writer_of("coco")
    monkeypatch.setattr(type(writer), "write_labels", lambda self, *a: interrupted(*a))
    with pytest.raises(KeyboardInterrupt):
        export_dataset(images, out, target, "coco", overwrite=True)
    assert sorted(p.relative_to(target) for p in target.rglob("*")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".set")] == []


def test_an_unknown_format_lists_the_formats(tmp_path):
    with pytest.raises(DatasetError, match="coco, voc, cityscapes, cvat, yolo"):
        _dataset(tmp_path, np.ones((5, 7), np.uint8), fmt="kitti")


def test_an_image_with_nothing_labelled_is_written_and_counted(tmp_path):
    summary = _dataset(tmp_path, np.zeros((5, 7), np.uint8), fmt="coco", val_fraction=0)
    assert summary.unlabeled_images == ["photo"]
    assert "1 without a labelled pixel" in summary.describe()
