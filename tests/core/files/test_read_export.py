"""Reading an export back: every damaged, mixed or edited file is refused naming the file, the
row or the value."""

import numpy as np
import pytest

from napari_gluonseg._reader import get_reader
from napari_gluonseg.core.errors import ExportError
from napari_gluonseg.core.files.export import write_labels, write_result
from napari_gluonseg.core.files.read_export import read_export, read_scores

from ...conftest import needs_mxnet
from .test_export import COLORS, NAMES, _export, _labels


@needs_mxnet
def test_truncated_png_is_refused_after_gluoncv_import(tmp_path):
    from PIL import ImageFile

    from napari_gluonseg.core.errors import ExportError
    from napari_gluonseg.core.models import _mxnet

    before = ImageFile.LOAD_TRUNCATED_IMAGES
    _mxnet.gluoncv()
    assert ImageFile.LOAD_TRUNCATED_IMAGES is before  # the door puts gluoncv's flag back
    labels = np.random.default_rng(0).integers(0, 4, (200, 300)).astype(np.uint8)
    paths = write_labels(labels, NAMES, COLORS, {}, tmp_path, "t")
    data = paths["labels"].read_bytes()
    paths["labels"].write_bytes(data[: len(data) // 2])
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # as any other library in the process may set it
    try:
        with pytest.raises(ExportError, match=r"t_labels\.png"):
            read_export(paths["labels"])
        with pytest.raises(ExportError, match=r"t_labels\.png"):
            get_reader(str(paths["labels"]))(str(paths["labels"]))
        assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored after the strict read
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before


def test_a_set_mixed_from_two_exports_is_refused(tmp_path):
    from napari_gluonseg.core.errors import ExportError

    first = _export(tmp_path, "a")
    other = _labels()
    other[30:] = 2
    second = write_labels(other, NAMES, COLORS, {}, tmp_path, "b")
    second["labels"].replace(first["labels"])  # as an interrupted rename sequence leaves it
    with pytest.raises(ExportError, match=r"a_labels\.png.*a_provenance\.json"):
        read_export(first["labels"])


def test_labels_outside_the_class_table_are_refused(tmp_path):
    from napari_gluonseg.core.errors import ExportError

    labels = _labels()
    labels[0, 0] = 7
    with pytest.raises(ExportError, match=r"value 7 .*x_classes\.csv"):
        write_labels(labels, NAMES, COLORS, {}, tmp_path, "x")
    p = _export(tmp_path)
    from PIL import Image

    Image.fromarray(labels).save(p["labels"])
    (tmp_path / "x_provenance.json").unlink()  # a hand-made set: no checksums to compare
    with pytest.raises(ExportError, match=r"x_labels\.png.*value 7"):
        read_export(p["labels"])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda rows: rows.pop(2), r"row 3: index 2, expected 1"),  # row of class 1 missing
        (lambda rows: rows.insert(3, rows[2]), r"row 4: index 1 again"),
        (lambda rows: rows[4].__setitem__(0, "9"), r"row 5: index 9, expected 3"),
        (lambda rows: rows[2].__setitem__(2, "#zz0000"), r"row 3: colour '#zz0000'"),
        (lambda rows: rows[2].__setitem__(3, "5"), r"row 3: 5 pixels .* 300 in x_labels\.png"),
        (
            lambda rows: rows[2].__setitem__(1, "renamed"),
            r"row 3: class name 'renamed', the export wrote 'wall'",
        ),
        (
            lambda rows: rows[3].__setitem__(2, "#ff0000"),
            r"row 4: colour #ff0000, the export wrote #06e6e6",
        ),
        (lambda rows: rows[3].pop(), r"row 4: missing"),
    ],
)
def test_edited_class_tables_are_reported_by_row(tmp_path, edit, message):
    import csv

    from napari_gluonseg.core.errors import ExportError

    p = _export(tmp_path)
    with open(p["classes"], newline="") as f:
        rows = list(csv.reader(f))
    edit(rows)
    with open(p["classes"], "w", newline="") as f:
        csv.writer(f).writerows(rows)
    with pytest.raises(ExportError, match=message) as err:
        read_export(p["labels"])
    assert "x_classes.csv" in str(err.value)


def test_kept_scores_that_do_not_belong_are_refused_naming_the_file(tmp_path, stack_result):
    paths = write_result(stack_result, tmp_path, "s", keep_scores=True)
    labels = read_export(paths["labels"]).labels
    with pytest.raises(ExportError, match=r"s_scores\.npz: scores of shape .* do not belong"):
        read_scores(paths["labels"], labels.shape[1:])  # another image's labels
    data = bytearray(paths["scores"].read_bytes())
    data[-30] ^= 0xFF
    paths["scores"].write_bytes(bytes(data))
    with pytest.raises(ExportError, match=r"s_scores\.npz was changed after export"):
        read_scores(paths["labels"], labels.shape)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_a_truncated_labels_tiff_is_refused_naming_it(tmp_path, keep):
    """The reader and the review name it, not a raw zlib.error (or tifffile's own)."""
    labels = np.random.default_rng(0).integers(0, 4, (200, 300)).astype(np.uint8)
    paths = write_labels(labels, NAMES, COLORS, {}, tmp_path, "t", fmt="tif")
    data = paths["labels"].read_bytes()
    paths["labels"].write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(ExportError, match=r"t_labels\.tif"):
        read_export(paths["labels"])
    with pytest.raises(ExportError, match=r"t_labels\.tif"):
        get_reader(str(paths["labels"]))(str(paths["labels"]))
