"""A batch's arguments and faults: each bad argument refused by name before any image is read,
an image whose results cannot be written fails alone (the batch goes on, summary written), the
output folder named when it is the cause."""

import os
import sys

import pytest

from napari_gluonseg.core.batch import folder as batch
from napari_gluonseg.core.batch import image as batch_image
from napari_gluonseg.core.errors import OptionError
from napari_gluonseg.core.run.options import RunOptions

from .test_folder import RUN, read_summary, write_png


@pytest.fixture
def no_image_read(monkeypatch):
    def never(*args):
        raise AssertionError("an image was read")

    monkeypatch.setattr(batch_image, "decode_planes", never)


@pytest.fixture
def images(tmp_path):
    write_png(tmp_path / "images" / "x.png", 1)
    return tmp_path / "images"


@pytest.mark.parametrize(
    ("inputs", "kwargs", "message"),
    [
        (None, {}, r"inputs must be image files, folders or globs .*got None"),
        ([None], {}, r"inputs must be image files, folders or globs .*got None"),
        ([], {}, r"inputs: none given; inputs must be image files, folders or globs"),
        ("{images}", {"workers": True}, r"workers must be an integer >= 1; got True"),
        ("{images}", {"workers": 2.0}, r"workers must be an integer >= 1; got 2\.0"),
        ("{images}", {"workers": 0}, r"workers must be an integer >= 1; got 0"),
        ("{images}", {"recursive": "yes"}, r"recursive must be True or False; got 'yes'"),
        ("{images}", {"overwrite": 1}, r"overwrite must be True or False; got 1"),
        ("{images}", {"overlay": "no"}, r"overlay must be True or False; got 'no'"),
        ("{images}", {"keep_scores": 0}, r"keep_scores must be True or False; got 0"),
        ("{images}", {"scheduler": 8786}, r"scheduler must be an address .*got 8786"),
    ],
)
@pytest.mark.usefixtures("no_image_read")
def test_bad_batch_arguments_are_refused_by_name_before_any_image(
    tmp_path, images, inputs, kwargs, message
):
    """Each refused naming it, not a TypeError from inside (None: 'NoneType' object is not
    iterable) nor taken loosely (workers=True as a cluster of one, recursive='yes' and
    overwrite=1 as True)."""
    if inputs == "{images}":
        inputs = images
    with pytest.raises(OptionError, match=message):
        batch.segment_folder(inputs, tmp_path / "out", **RUN, **kwargs)
    assert not (tmp_path / "out").exists()


@pytest.mark.usefixtures("no_image_read")
def test_a_missing_output_folder_argument_is_refused_by_name(images):
    with pytest.raises(OptionError, match=r"out_dir must be a path .*got None"):
        batch.segment_folder(images, None, **RUN)  # type: ignore[arg-type]


@pytest.mark.usefixtures("use_onnx_home")  # the network's graph built once per session
def test_an_image_whose_results_names_are_too_long_fails_alone(tmp_path, untrained_params):
    """A 245-character stem (ENAMETOOLONG) fails that image; the others run, the summary says."""
    images, out = tmp_path / "images", tmp_path / "out"
    long = images / ("a" * 245 + ".png")
    write_png(long, 1)
    write_png(images / "b.png", 2)
    summary = batch.segment_folder(images, out, weights=untrained_params, **RUN)
    assert {r.key[:3]: r.status for r in summary.reports} == {"aaa": "failed", "b": "done"}
    error = summary.reports[0].error
    assert str(long) in error and "too long" in error and "shorter name" in error
    rows = read_summary(out)
    assert rows[str(long)]["status"] == "failed" and rows[str(long)]["error"] == error
    assert rows[str(images / "b.png")]["status"] == "done"
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("a")) == []


@pytest.mark.usefixtures("no_image_read")
@pytest.mark.parametrize("where", ["the input folder", "a folder inside it"])
def test_an_output_folder_that_holds_the_inputs_is_named_as_the_cause(tmp_path, images, where):
    """Not 'No image files found' nor advice to add --recursive: the output folder is named."""
    write_png(images / "day1" / "y.png", 2)
    given = images if where == "the input folder" else images / "day1"
    out = images
    with pytest.raises(OptionError) as err:
        batch.segment_folder(given, out, **RUN)
    message = str(err.value)
    assert f"{given} is {'the' if given == out else 'inside the'} output folder" in message
    assert "never inputs" in message and "another output folder (--out)" in message
    assert "recursive" not in message and "No image files" not in message


@pytest.mark.usefixtures("no_image_read")
@pytest.mark.parametrize("how", ["workers", "scheduler"])
def test_dask_without_the_extra_says_which_extra_to_install(images, tmp_path, monkeypatch, how):
    """The extra to install, not ModuleNotFoundError: No module named 'distributed'."""
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    where = {"workers": 2} if how == "workers" else {"scheduler": "tcp://127.0.0.1:9"}
    with pytest.raises(OptionError, match=r'pip install "napari-gluonseg\[dask\]"') as err:
        batch.segment_folder(images, tmp_path / "out", **RUN, **where)
    assert f"{how}=" in str(err.value)


@pytest.mark.usefixtures("use_onnx_home")
def test_results_are_never_written_through_a_link_out_of_the_output_folder(
    tmp_path, untrained_params
):
    """A link planted in the output folder where an image's sub-folder goes sent its results,
    and its overwrite's removals, into the folder the link names."""
    images, out, elsewhere = tmp_path / "images", tmp_path / "out", tmp_path / "elsewhere"
    write_png(images / "a" / "x.png", 1)
    elsewhere.mkdir()
    (elsewhere / "x_overlay.png").write_bytes(b"someone else's file")
    out.mkdir()
    os.symlink(elsewhere, out / "a")
    summary = batch.segment_folder(
        images, out, recursive=True, overwrite=True, weights=untrained_params, **RUN
    )
    report = summary.reports[0]
    assert report.status == "failed" and "outside the output folder" in report.error
    assert str(out / "a") in report.error
    assert sorted(p.name for p in elsewhere.iterdir()) == ["x_overlay.png"]
    assert (elsewhere / "x_overlay.png").read_bytes() == b"someone else's file"


_LABEL = {"value": 1, "name": "a", "color": [1, 2, 3], "classes": [0]}


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"probability_classes": [999]}, "probability_classes"),
        ({"probability_classes": [-1]}, "probability_classes"),
        ({"probability_classes": "wall"}, "probability_classes"),
        ({"scheme": {"name": "s", "labels": "x"}}, "scheme"),
        ({"scheme": {"name": "s", "labels": [{"value": 1}]}}, "scheme"),
        ({"scheme": {"name": "s", "labels": [_LABEL | {"classes": [150]}]}}, "scheme"),
        ({"scheme": {"name": "s", "labels": [_LABEL | {"value": 0}]}}, "scheme"),
        ({"model": ["fcn"]}, "model"),
    ],
)
def test_settings_read_back_from_a_provenance_are_checked_naming_them(tmp_path, settings, named):
    """A provenance is a file anyone can edit: [999], -1 (Python's last class) and a damaged
    scheme are refused naming the setting, not read as an index or left to raise IndexError,
    KeyError or TypeError inside the review dock's pre-annotation."""
    from napari_gluonseg import options_of

    weights = tmp_path / "w.params"
    weights.write_bytes(b"w")
    record = {"model": "fcn_resnet50_ade", **settings}
    provenance = {"batch": {"settings": record}, "weights": str(weights)}
    from napari_gluonseg import GluonsegError

    with pytest.raises(GluonsegError, match=rf"{named}"):
        options_of(provenance)


def test_a_summary_that_cannot_be_written_is_an_export_error_naming_it(
    tmp_path, monkeypatch, untrained_params
):
    """A full or read-only disk at the end of a batch: an error naming the summary, not a
    temporary in a raw OSError."""
    import errno

    from napari_gluonseg.core import atomic
    from napari_gluonseg.core.errors import ExportError

    images, out = tmp_path / "images", tmp_path / "out"
    images.mkdir()
    (images / "broken.png").write_bytes(b"not a png")  # fails at once: one row to write
    plan = batch.plan_batch(images, out, RunOptions(weights=untrained_params, **RUN))
    real = open

    def full(path, mode="r", *args, **kwargs):
        if "x" in mode:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(atomic, "open", full, raising=False)
    with pytest.raises(ExportError, match=rf"Cannot write {out / 'summary.csv'}: No space left"):
        batch.run_batch(plan)
    assert not out.exists()  # made by the batch, left empty: removed (no lock, no temporary)
