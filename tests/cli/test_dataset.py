"""``napari-gluonseg export`` (napari_gluonseg/cli/dataset.py): results to a dataset of each
format, its summary printed; bad input one line naming the value, nothing written."""

import pytest

from napari_gluonseg import cli
from napari_gluonseg.core.datasets.opened import open_dataset

from ..dataset_folder import NAMES
from .helpers import one_line_error


@pytest.mark.parametrize("fmt", ["coco", "voc", "cityscapes", "cvat", "yolo"])
def test_export_writes_each_format_and_says_what(fmt, results_to_export, tmp_path, capsys):
    images, out, truth = results_to_export
    args = ["export", str(out), "--images", str(images), "--format", fmt]
    args += ["--out", str(tmp_path / "set"), "--seed", "4", "--val", "0.5"]
    if fmt == "cityscapes":
        args.append("--short-names")
    assert cli.main(args) == 0
    said = capsys.readouterr().out
    assert f"Wrote a {fmt} dataset to {tmp_path / 'set'}: 2 train, 2 val images, 5 classes" in said
    if fmt in ("coco", "voc", "cvat"):
        opened = open_dataset(tmp_path / "set")
        assert opened.classes.names == NAMES
        assert (opened.read_labels("p0") == truth["p0"]).all()


def test_a_scheme_the_format_cannot_hold_is_one_line_and_writes_nothing(
    results_to_export, tmp_path, capsys
):
    images, out, _ = results_to_export
    args = ["export", str(out), "--images", str(images), "--format", "cityscapes"]
    assert cli.main([*args, "--out", str(tmp_path / "set")]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "'building, edifice'" in err and "short names" in err
    assert not (tmp_path / "set").exists()
