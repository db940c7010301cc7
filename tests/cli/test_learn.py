"""``napari-gluonseg learn`` (napari_gluonseg/cli/learn.py): a review folder's corrections to a
learned model file, then that file as ``--model``; bad input refused before any learning."""

import numpy as np
import pytest

from napari_gluonseg import cli
from napari_gluonseg.core.files.read_export import read_export

from ..learn_folder import photo, truth


def test_learn_then_segment_with_the_learned_model(reviewed, tmp_path, capsys):
    images, results = reviewed
    out = tmp_path / "textures.onnx"
    assert cli.main(["learn", str(results), "--images", str(images), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "Learned 2 classes on fcn_resnet50_ade's features from 3 image(s)" in said
    assert "Held out (3 folds over 3 images)" in said and f"--model {out}" in said
    assert out.is_file()

    from PIL import Image

    Image.fromarray(photo(7)).save(tmp_path / "new.png")
    args = ["segment", str(tmp_path / "new.png"), "--model", str(out), "--out", str(tmp_path / "o")]
    assert cli.main([*args, "--engine", "onnxruntime"]) == 0  # at the scale it learned at
    labels = read_export(tmp_path / "o" / "new_labels.png").labels
    assert set(np.unique(labels)) <= {3, 5} and (labels == truth()).mean() > 0.9


@pytest.mark.parametrize(
    ("out", "said"),
    [
        ("model.txt", "must end in .onnx"),
        ("missing/m.onnx", "does not exist"),
        ("taken.onnx", "exists"),
    ],
)
def test_a_file_that_cannot_take_the_model_is_refused_before_learning(
    reviewed,
    tmp_path,
    capsys,
    out,
    said,
):
    images, results = reviewed
    (tmp_path / "taken.onnx").write_bytes(b"someone's")
    args = ["learn", str(results), "--images", str(images), "--out", str(tmp_path / out)]
    assert cli.main(args) == cli.EXIT_BAD_INPUT
    assert said in capsys.readouterr().err
    assert (tmp_path / "taken.onnx").read_bytes() == b"someone's"


def test_a_folder_without_corrections_is_exit_2_naming_it(tmp_path, capsys):
    from PIL import Image

    (tmp_path / "images").mkdir()
    Image.fromarray(photo(0)).save(tmp_path / "images" / "p.png")
    (tmp_path / "results").mkdir()
    args = ["learn", str(tmp_path / "results"), "--images", str(tmp_path / "images")]
    assert cli.main([*args, "--out", str(tmp_path / "m.onnx")]) == cli.EXIT_BAD_INPUT
    assert "No corrected image in" in capsys.readouterr().err
