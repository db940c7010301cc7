"""core/models/learned.py: a learned model file read back, and what is not one."""

import pytest

from napari_gluonseg.core.errors import OptionError, WeightsError
from napari_gluonseg.core.models.learned import is_learned_file, is_model_file, read_learned


def test_a_model_name_ending_in_onnx_is_a_file():
    assert is_model_file("heads/street.onnx") and is_model_file("X.ONNX")
    assert not is_model_file("fcn_resnet50_ade") and not is_model_file(3)


def test_what_is_not_a_learned_model_is_named(tmp_path, exported_onnx):
    with pytest.raises(WeightsError, match=r"gone\.onnx does not exist"):
        read_learned(tmp_path / "gone.onnx")
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a protobuf at all")
    with pytest.raises(WeightsError, match=r"junk\.onnx is not an ONNX model file"):
        read_learned(junk)
    with pytest.raises(WeightsError, match="is not a learned model"):
        read_learned(exported_onnx)  # an export of a zoo model: its classes are the zoo's
    assert not is_learned_file(exported_onnx) and not is_learned_file(junk)


def test_a_learned_model_that_is_not_there_is_an_option_error_of_the_run(tmp_path):
    from napari_gluonseg import segment_image

    with pytest.raises((OptionError, WeightsError), match=r"gone\.onnx"):
        segment_image([[0, 1], [2, 3]], str(tmp_path / "gone.onnx"))
