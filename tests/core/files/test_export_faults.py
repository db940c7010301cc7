"""An export that cannot be written ends in the package's own error naming what it could not
write, and leaves the folder as it was: labels of impossible shapes, a provenance that is not a
mapping, a read-only folder, a full disk, a stem too long for the file system."""

import errno
import os
import re

import numpy as np
import pytest

from napari_gluonseg.core import atomic
from napari_gluonseg.core.errors import ExportError, OptionError
from napari_gluonseg.core.files.export import write_labels, write_result
from napari_gluonseg.core.files.read_export import read_export
from napari_gluonseg.core.run.result import SegmentationResult

NAMES, COLORS = ["wall", "sky"], [(120, 120, 120), (6, 230, 230)]


def _contents(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize(
    ("labels", "shown"),
    [
        (np.ones(5, np.uint8), r"\(5,\)"),
        (np.array(1, np.uint8), r"\(\)"),
        (np.zeros((0, 5), np.uint8), r"\(0, 5\)"),
        (np.zeros((2, 3, 0), np.uint8), r"\(2, 3, 0\)"),
    ],
)
def test_labels_without_two_non_empty_axes_are_refused_naming_their_shape(tmp_path, labels, shown):
    """Refused naming the shape, not IndexError or Pillow's 'cannot write empty image'."""
    with pytest.raises(ExportError, match=rf"shape {shown}"):
        write_labels(labels, NAMES, COLORS, {}, tmp_path, "x")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("provenance", [[1, 2], "note", None, 3])
def test_a_provenance_that_is_not_a_mapping_is_refused_naming_it(tmp_path, provenance):
    """[1, 2]: refused naming it, not TypeError: 'list' object is not a mapping."""
    with pytest.raises(
        OptionError, match=r"provenance must be a mapping .*got " + re.escape(repr(provenance))
    ):
        write_labels(np.ones((4, 4), np.uint8), NAMES, COLORS, provenance, tmp_path, "x")
    assert list(tmp_path.iterdir()) == []


def _result() -> SegmentationResult:
    labels = np.ones((6, 8), np.uint8)
    labels[:2] = 2
    return SegmentationResult(labels, {}, np.ones((6, 8), np.float32), NAMES, COLORS, {})


def _read_only(monkeypatch, folder):
    """Opening a new file in ``folder`` fails as on a read-only file system (tests may run as
    root, whom chmod does not stop)."""
    real = open

    def refusing(path, mode="r", *args, **kwargs):
        if "x" in mode and os.path.dirname(path) == str(folder):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(atomic, "open", refusing, raising=False)


def _full_disk(monkeypatch, after: int = 0):
    """fsync of the ``after``-th file written on fails as on a full disk (the bytes did not
    all reach it); folders' syncs are left alone."""
    real, calls = os.fsync, []

    def failing(fd):
        if not os.path.isdir(f"/proc/self/fd/{fd}") and os.path.isfile(f"/proc/self/fd/{fd}"):
            calls.append(fd)
            if len(calls) > after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)

    monkeypatch.setattr(atomic.os, "fsync", failing)


@pytest.mark.parametrize("fault", ["read-only", "full disk", "full disk at the 3rd file"])
def test_a_folder_that_cannot_be_written_ends_in_an_export_error_naming_the_file(
    tmp_path, monkeypatch, fault
):
    """The set's file is named, not a temporary ('.x_labels.png.tmp-123-ab12cd34')."""
    out = tmp_path / "out"
    old = write_result(_result(), out, "x")
    before = _contents(out)
    if fault == "read-only":
        _read_only(monkeypatch, out)
        target = "x_labels.png"
    else:
        _full_disk(monkeypatch, after=2 if "3rd" in fault else 0)
        target = "x_provenance.json" if "3rd" in fault else "x_labels.png"
    with pytest.raises(ExportError) as err:
        write_result(_result(), out, "x", overwrite=True)
    message = str(err.value)
    assert str(out / target) in message and atomic.TEMP_MARK not in message
    assert ("Read-only" in message) if fault == "read-only" else ("No space left" in message)
    assert "nothing of the export 'x' was changed" in message
    monkeypatch.undo()
    assert _contents(out) == before  # no temporary, the old set whole
    np.testing.assert_array_equal(read_export(old["labels"]).labels, _result().labels)


def test_a_new_export_into_a_read_only_folder_leaves_nothing(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    _read_only(monkeypatch, out)
    with pytest.raises(ExportError, match=r"x_labels\.png.*Read-only"):
        write_labels(np.ones((4, 4), np.uint8), NAMES, COLORS, {}, out, "x")
    assert list(out.iterdir()) == []


def test_a_stem_too_long_for_the_file_system_is_refused_naming_it(tmp_path):
    """A 245-character stem: refused naming it, not ENAMETOOLONG on a temporary's name."""
    stem = "a" * 245
    with pytest.raises(
        ExportError, match=rf"{stem}' \(245 characters\).*shorter name \(at most 212 characters\)"
    ):
        write_labels(np.ones((4, 4), np.uint8), NAMES, COLORS, {}, tmp_path, stem)
    assert list(tmp_path.iterdir()) == []
    # The longest stem that fits (its journal's name is the set's longest), temporaries too.
    longest = "b" * (atomic.longest_name(tmp_path) - len(atomic.set_journal(tmp_path, "").name))
    write_labels(np.ones((4, 4), np.uint8), NAMES, COLORS, {}, tmp_path, longest)
    assert read_export(tmp_path / f"{longest}_labels.png").class_names == tuple(NAMES)
