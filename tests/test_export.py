"""Export for training data and the reader that opens it back."""

import numpy as np
import pytest

from napari_gluonseg import segment_image
from napari_gluonseg._reader import get_reader
from napari_gluonseg.core.export import read_export, write_labels, write_result
from napari_gluonseg.layer_data import METADATA_KEY

from .conftest import BICYCLE


def test_round_trip_png_and_tif(tmp_path, small_dog, bicycle_params):
    result = segment_image(small_dog, weights=bicycle_params, engine="mxnet")
    paths = write_result(result, tmp_path, "dog", image=small_dog)
    back = read_export(paths["labels"])
    np.testing.assert_array_equal(back.labels, result.labels)
    assert back.class_names == result.class_names and back.colors == result.colors
    assert back.provenance["weights_sha1"] == result.provenance["weights_sha1"]
    # A stack goes to TIFF; values above 255 to 16 bits.
    stack = np.zeros((2, 5, 6), np.uint16)
    stack[1, 2:4, 1:3] = 300
    names = [f"c{k}" for k in range(300)]
    colors = [(k % 256, 0, 255 - k % 256) for k in range(300)]
    p = write_labels(stack, names, colors, {"note": "hand"}, tmp_path, "s", fmt="png")
    assert p["labels"].suffix == ".tif"
    back = read_export(p["labels"])
    np.testing.assert_array_equal(back.labels, stack)
    assert back.class_names[299] == "c299" and back.colors[299] == colors[299]
    p = write_labels(stack[1], names, colors, {}, tmp_path, "one", fmt="png")
    assert read_export(p["labels"]).labels.dtype == np.uint16


def test_bad_exports_and_reads_say_why(tmp_path):
    with pytest.raises(ValueError, match="Unknown export format"):
        write_labels(np.zeros((3, 3), np.uint8), [], [], {}, tmp_path, "x", fmt="jpg")
    with pytest.raises(ValueError, match="non-negative integers"):
        write_labels(np.zeros((3, 3), np.float32), [], [], {}, tmp_path, "x")
    with pytest.raises(ValueError, match="not a labels export"):
        read_export(tmp_path / "photo.png")
    (tmp_path / "lone_labels.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"class table lone_classes\.csv is missing"):
        read_export(tmp_path / "lone_labels.png")
    assert get_reader(str(tmp_path / "lone_labels.png")) is None  # napari tries other readers
    assert get_reader(str(tmp_path / "photo.jpg")) is None


def test_reader_opens_export_with_names_and_colours(
    make_napari_viewer, tmp_path, small_dog, bicycle_params
):
    result = segment_image(small_dog, weights=bicycle_params, engine="mxnet")
    paths = write_result(result, tmp_path, "dog")
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(paths["labels"]), plugin="napari-gluonseg")
    assert layer.name == "dog classes" and layer._type_string == "labels"
    np.testing.assert_array_equal(layer.data, result.labels)
    assert layer.features["class_name"][BICYCLE + 1] == "bicycle, bike, wheel, cycle"
    np.testing.assert_allclose(
        layer.colormap.map(BICYCLE + 1)[:3], np.array(result.colors[BICYCLE]) / 255, atol=1e-6
    )
    assert layer.metadata[METADATA_KEY]["provenance"]["model"] == "fcn_resnet50_ade"


def test_values_beyond_16_bits_go_to_a_32_bit_tiff(tmp_path):
    labels = np.array([[0, 70000]], np.uint32)
    names = [f"c{k}" for k in range(70000)]
    colors = [(0, 0, 0)] * 70000
    with pytest.raises(ValueError, match="16-bit PNG; export as TIFF"):
        write_labels(labels, names, colors, {}, tmp_path, "big", fmt="png")
    p = write_labels(labels, names, colors, {}, tmp_path, "big", fmt="tif")
    np.testing.assert_array_equal(read_export(p["labels"]).labels, labels)
