"""Export for training data and the reader that opens it back."""

import json
import subprocess

import numpy as np
import pytest

from napari_gluonseg import segment_image
from napari_gluonseg._reader import get_reader
from napari_gluonseg.core.errors import ExportError
from napari_gluonseg.core.files.export import write_labels, write_result
from napari_gluonseg.core.files.read_export import read_export, read_scores
from napari_gluonseg.layers.data import METADATA_KEY

from ...conftest import BICYCLE


def test_round_trip_png_and_tif(tmp_path, small_dog, bicycle_params):
    result = segment_image(small_dog, weights=bicycle_params, scale=1.0, engine="onnxruntime")
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


@pytest.mark.usefixtures("our_plugin")
def test_reader_opens_export_with_names_and_colours(tmp_path, small_dog, bicycle_params):
    from napari.components import ViewerModel

    result = segment_image(small_dog, weights=bicycle_params, scale=1.0, engine="onnxruntime")
    paths = write_result(result, tmp_path, "dog")
    viewer = ViewerModel()  # napari's File > Open, without a window
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


@pytest.mark.parametrize("planes", [3, 4])
def test_a_stack_of_three_or_four_planes_is_written_as_planes_not_as_colour(tmp_path, planes):
    """tifffile tags a (3 or 4, H, W) array RGB(A), colour stored as planes, unless told: napari,
    Fiji and this package's own reader would take the labels for one colour image."""
    import tifffile

    labels = np.random.default_rng(planes).integers(0, 3, (planes, 20, 30)).astype(np.uint8)
    paths = write_labels(labels, ("wall", "sky", "tree"), COLORS, {}, tmp_path, "s", fmt="tif")
    with tifffile.TiffFile(paths["labels"]) as tif:
        assert tif.pages[0].photometric == tifffile.PHOTOMETRIC.MINISBLACK
        assert tif.series[0].shape == (planes, 20, 30)
    np.testing.assert_array_equal(read_export(paths["labels"]).labels, labels)


# -- trust: nothing half-written, nothing silently replaced, nothing inconsistent read ------------

NAMES = ("wall", "sky", "tree")
COLORS = ((120, 120, 120), (6, 230, 230), (4, 200, 3))


def _labels() -> np.ndarray:
    labels = np.zeros((40, 30), np.uint8)
    labels[:10] = 1
    labels[10:25, :12] = 3
    return labels


def _export(tmp_path, stem="x", fmt="png", **kwargs):
    return write_labels(_labels(), NAMES, COLORS, {"note": "t"}, tmp_path, stem, fmt, **kwargs)


def _names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_export_leaves_no_file_and_keeps_the_old_set(tmp_path, monkeypatch, error):
    import csv

    from napari_gluonseg.core.files import export

    old = _export(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    class FullDisk:
        def __init__(self, f, **kwargs):
            self._f = f

        def writeheader(self):
            self._f.write("index,class")  # some bytes reach the file, then the disk is full
            raise error

    monkeypatch.setattr(export.csv, "DictWriter", FullDisk)
    with pytest.raises(type(error)):
        _export(tmp_path, overwrite=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temp, all old
    monkeypatch.setattr(export.csv, "DictWriter", csv.DictWriter)
    np.testing.assert_array_equal(read_export(old["labels"]).labels, _labels())


def test_export_never_replaces_a_set_without_overwrite(tmp_path):
    from napari_gluonseg.core.errors import ExportExistsError, GluonsegError

    _export(tmp_path)
    with pytest.raises(ExportExistsError, match=r"x_labels\.png") as err:
        _export(tmp_path)
    assert isinstance(err.value, GluonsegError) and isinstance(err.value, FileExistsError)
    # A TIFF under the same stem would pair the old PNG with the new table: a clash too.
    with pytest.raises(ExportExistsError, match="overwrite=True"):
        _export(tmp_path, fmt="tif")
    assert _names(tmp_path) == ["x_classes.csv", "x_labels.png", "x_provenance.json"]
    paths = _export(tmp_path, fmt="tif", overwrite=True)  # replaces, and removes the old PNG
    assert _names(tmp_path) == ["x_classes.csv", "x_labels.tif", "x_provenance.json"]
    np.testing.assert_array_equal(read_export(paths["labels"]).labels, _labels())


def test_overwrite_removes_a_stale_overlay(tmp_path, small_dog, bicycle_params):
    result = segment_image(small_dog, weights=bicycle_params, scale=1.0, engine="onnxruntime")
    write_result(result, tmp_path, "dog", image=small_dog)
    assert "dog_overlay.png" in _names(tmp_path)
    write_result(result, tmp_path, "dog", overwrite=True)  # no image: no overlay now
    assert "dog_overlay.png" not in _names(tmp_path)


def test_an_opened_export_can_be_painted(tmp_path):
    from napari.components import ViewerModel

    from napari_gluonseg._reader import read_labels_export
    from napari_gluonseg.core.files.export import write_labels

    labels = np.zeros((20, 30), np.uint8)
    paths = write_labels(labels, ["wall", "sky"], [(1, 2, 3), (4, 5, 6)], {}, tmp_path, "x")
    viewer = ViewerModel()
    data, kwargs, _ = read_labels_export(str(paths["labels"]))[0]
    layer = viewer.add_labels(data, **kwargs)
    layer.paint((5, 5), 2, refresh=False)  # a person corrects the reopened labels
    assert layer.data[5, 5] == 2


def test_kept_scores_round_trip_and_answer_as_the_run_did(tmp_path, stack_result):
    paths = write_result(stack_result, tmp_path, "s", keep_scores=True)
    assert paths["scores"].name == "s_scores.npz"
    labels = read_export(paths["labels"]).labels
    back = read_scores(paths["labels"], labels.shape)
    kept = stack_result.scores
    np.testing.assert_array_equal(back.probs, kept.probs)
    assert (back.leading_shape, back.image_shape, back.class_ids) == (
        kept.leading_shape,
        kept.image_shape,
        kept.class_ids,
    )
    np.testing.assert_array_equal(back.margin_map(), kept.margin_map())
    # Written again without scores: the old scores file goes with the old set.
    write_result(stack_result, tmp_path, "s", overwrite=True)
    assert not paths["scores"].exists()
    assert read_scores(paths["labels"], labels.shape) is None


def test_maps_named_the_old_way_belong_to_the_set(tmp_path):
    """Maps under their earlier file names (an earlier version's export) are replaced whole."""
    from napari_gluonseg.core.files.export import existing_export_files

    old = tmp_path / "dog_P(bicycle).png"
    new = tmp_path / "dog_prob-sky.png"
    for path in (old, new, tmp_path / "dogs_prob-sky.png"):
        path.write_bytes(b"x")
    assert existing_export_files(tmp_path, "dog") == sorted([old, new])


@pytest.mark.parametrize(
    ("stem", "names", "colors", "message"),
    [
        ("../escaped", ["a"], [(1, 2, 3)], r"stem '\.\./escaped' .* a file name, not a path"),
        ("a/b", ["a"], [(1, 2, 3)], r"stem 'a/b' .* a file name, not a path"),
        ("", ["a"], [(1, 2, 3)], r"stem '' .* a file name"),
        ("x", ["a", "b"], [(1, 2, 3)], r"2 class names but 1 colours"),
        ("x", ["a"], [(300, -1, 0)], r"class 1 \('a'\): colour \(300, -1, 0\) is not 3 values"),
        ("x", [""], [(1, 2, 3)], r"class 1 has no name"),
    ],
)
def test_bad_export_arguments_are_refused_naming_them(tmp_path, stem, names, colors, message):
    """Refused by name: unchecked, they write outside the folder, a colour '#12c-100', or
    fail with a raw error."""
    with pytest.raises(ExportError, match=message):
        write_labels(np.ones((4, 4), np.uint8), names, colors, {}, tmp_path, stem)
    assert list(tmp_path.iterdir()) == []


# An overwrite replaces labels, table, provenance and drops the old kept scores: four steps.
_KILL_AT_RENAME = """
import os, sys
import json
import subprocess

import numpy as np
from napari_gluonseg.core import atomic as files
from napari_gluonseg.core.files.export import write_labels

folder, k = sys.argv[1], int(sys.argv[2])
calls = []
real = os.replace

def replace(src, dst):
    if len(calls) == k:
        os.kill(os.getpid(), 9)  # as a power cut or an OOM kill: nothing after it runs
    calls.append(dst)
    real(src, dst)

files.os.replace = replace
labels = np.load(os.path.join(folder, "..", "new.npy"))
write_labels(labels, ("wall", "sky", "tree"), ((120, 120, 120), (6, 230, 230), (4, 200, 3)),
             {"note": "new"}, folder, "x", overwrite=True)
"""


def _contents(folder) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("how", ["error", "kill"])
@pytest.mark.parametrize("renames", range(4))
def test_an_overwrite_interrupted_between_renames_leaves_the_old_set_or_the_new(
    tmp_path, monkeypatch, renames, how
):
    """The old set or the new, never new labels beside the old table (a set the reader refuses)."""
    import subprocess
    import sys

    from napari_gluonseg.core import atomic as files
    from napari_gluonseg.core.run.scores import ScoreGrid

    folder, reference = tmp_path / "set", tmp_path / "reference"
    grid = ScoreGrid(np.full((1, 3, 5, 4), 1 / 3, np.float16), (), (40, 30), (0, 1, 2))
    _export(folder, scores=grid)
    old = _contents(folder)
    new_labels = _labels()
    new_labels[30:] = 2
    args = (NAMES, COLORS, {"note": "new"})
    write_labels(new_labels, *args, reference, "x")
    new = _contents(reference)
    if how == "kill":
        np.save(tmp_path / "new.npy", new_labels)
        done = subprocess.run([sys.executable, "-c", _KILL_AT_RENAME, str(folder), str(renames)])
        assert done.returncode == -9
    else:
        calls = []
        real = files.os.replace

        def replace(src, dst):
            if len(calls) >= renames:  # from the k-th rename on, every rename fails
                raise OSError(5, "Input/output error")
            calls.append(dst)
            real(src, dst)

        monkeypatch.setattr(files.os, "replace", replace)
        # The package's error, naming the file; said whether the journal finishes the set.
        with pytest.raises(ExportError, match=r"Cannot write .*x_.*: Input/output error; "):
            write_labels(new_labels, *args, folder, "x", overwrite=True)
        monkeypatch.undo()
    back = read_export(folder / "x_labels.png")  # the reader finishes what was interrupted
    after = _contents(folder)
    assert after in (old, new), sorted(after)
    np.testing.assert_array_equal(back.labels, new_labels if after == new else _labels())


@pytest.mark.parametrize("where", ["a file", "a folder under a file"])
def test_an_export_folder_that_is_a_file_is_refused_naming_it(tmp_path, where):
    """The package's error naming it, not a raw FileExistsError / NotADirectoryError."""
    blocker = tmp_path / "afile"
    blocker.write_text("kept")
    out = blocker if where == "a file" else blocker / "sub"
    with pytest.raises(ExportError, match=rf"export folder {out} .*a file"):
        _export(out)
    assert blocker.read_text() == "kept" and _names(tmp_path) == ["afile"]


def test_maps_of_classes_whose_names_give_one_file_name_are_all_kept(tmp_path):
    """'道路' and '天空' (or 'road/street' and 'road street') both make x_prob-class.png:
    each map gets a file of its own, so that neither silently replaces the other."""
    from PIL import Image

    from napari_gluonseg.core.run.result import SegmentationResult

    names = ("道路", "天空", "road/street", "road street")
    labels = np.arange(4, dtype=np.uint8).repeat(5).reshape(4, 5) + 1
    probs = {name: np.full((4, 5), k / 4, np.float32) for k, name in enumerate(names)}
    colors = tuple((k, k, k) for k in range(4))
    result = SegmentationResult(labels, probs, np.ones((4, 5), np.float32), names, colors)
    paths = write_result(result, tmp_path, "x", probability_maps=True)
    maps = [p for kind, p in paths.items() if kind.startswith("P(")]
    assert len(set(maps)) == 4 and all(p.is_file() for p in maps)
    assert sorted(np.asarray(Image.open(p))[0, 0] for p in maps) == [0, 64, 128, 191]
    which = read_export(paths["labels"]).provenance["probability_maps"]
    assert which["x_prob-class-2.png"] == "天空"
    assert which["x_prob-road-street-2.png"] == "road street"


def _journal_entries(tmp_path):
    """What a crafted journal may name, each paired with the file it must never touch."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "precious.txt"
    victim.write_text("keep me")
    other = tmp_path / "out" / "cat_labels.png"  # another set's file in the same folder
    link = tmp_path / "out" / "dog_overlay.png"  # a symlink to a file outside the folder
    return (
        victim,
        other,
        link,
        [
            {"remove": [str(victim)]},
            {"remove": ["../outside/precious.txt"]},
            {"remove": ["cat_labels.png"]},
            {"remove": ["sub/dog_labels.png"]},
            {"renames": [[".dog_overlay.png.tmp-1-0123abcd", "../outside/precious.txt"]]},
            {"renames": [["../outside/precious.txt", "dog_classes.csv"]]},
            {"renames": [[".dog_overlay.png.tmp-1-0123abcd", "cat_labels.png"]]},
            {"renames": [["dog_overlay.png", "dog_classes.csv"]]},  # not a temporary's name
            {"renames": [[".dog_overlay.png.tmp-1-0123abcd", "dog_overlay.png"]]},  # a symlink
        ],
    )


@pytest.mark.parametrize("entry", range(9))
@pytest.mark.parametrize("how", ["read", "write"])
def test_a_journal_cannot_reach_outside_its_own_set(tmp_path, small_dog, entry, how):
    """A crafted `.dog_set.journal.json` naming a file outside its set (an absolute path,
    `..`, another set's file) would have it deleted or moved when the folder is read or
    written: it is refused, kept and named, and nothing is touched."""
    out = tmp_path / "out"
    for stem in ("dog", "cat"):
        write_labels(np.ones((4, 5), np.uint8), ["a"], [(1, 2, 3)], {}, out, stem)
    victim, other, link, entries = _journal_entries(tmp_path)
    link.symlink_to(victim)
    (out / ".dog_overlay.png.tmp-1-0123abcd").symlink_to(victim)
    journal = out / ".dog_set.journal.json"
    gone = subprocess.Popen(["true"])  # the journal's writer: dead
    gone.wait()
    record = {"pid": gone.pid, "renames": [], "remove": [], **entries[entry]}
    journal.write_text(json.dumps(record))
    before = {p: p.read_bytes() for p in out.iterdir() if not p.is_symlink()}
    with pytest.raises(ExportError, match=r"\.dog_set\.journal\.json") as caught:
        if how == "read":
            read_export(out / "dog_labels.png")
        else:
            labels = np.ones((4, 5), np.uint8)
            write_labels(labels, ["a"], [(1, 2, 3)], {}, out, "dog", overwrite=True)
    assert "nothing was changed" in str(caught.value)
    assert victim.read_text() == "keep me" and other.exists() and journal.exists()
    assert {p: p.read_bytes() for p in out.iterdir() if not p.is_symlink()} == before
