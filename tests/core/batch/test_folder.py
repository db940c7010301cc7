"""Folders of images: relative results, faults reported, resume, stop, summary.csv."""

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from napari_gluonseg import options_of
from napari_gluonseg.core.batch import folder as batch
from napari_gluonseg.core.batch import image as batch_image
from napari_gluonseg.core.batch.summary import SUMMARY_NAME
from napari_gluonseg.core.errors import (
    ExportError,
    OptionError,
    WeightsError,
    WeightsUnavailableError,
)
from napari_gluonseg.core.files.read_export import read_export
from napari_gluonseg.core.provenance import CORRECTED_KEY
from napari_gluonseg.core.run.options import RunOptions

RUN = {"scale": 1.0, "engine": "onnxruntime"}


def write_png(path, seed):
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (64, 80, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture
def photos(tmp_path):
    """a/x.png and b/x.png (same name, other pixels) and a/broken.jpg (not a JPEG)."""
    root = tmp_path / "photos"
    write_png(root / "a" / "x.png", 1)
    write_png(root / "b" / "x.png", 2)
    (root / "a" / "broken.jpg").write_bytes(b"not a jpeg")
    return root


def read_summary(out):
    with open(out / SUMMARY_NAME, newline="") as f:
        return {row["input"]: row for row in csv.DictReader(f)}


def test_results_keep_relative_paths_and_a_bad_file_does_not_stop_the_batch(
    photos, tmp_path, untrained_params
):
    out = tmp_path / "out"
    summary = batch.segment_folder(
        photos, out, recursive=True, weights=untrained_params, overlay=True, **RUN
    )
    assert [r.status for r in summary.reports] == ["failed", "done", "done"]
    assert summary.count("done") == 2 and not summary.stopped
    a, b = read_export(out / "a" / "x_labels.png"), read_export(out / "b" / "x_labels.png")
    assert a.provenance["input"]["file"] == "a/x" and b.provenance["input"]["file"] == "b/x"
    assert a.provenance["input"]["bytes"] == (photos / "a" / "x.png").stat().st_size
    assert a.provenance["input"]["blake2b"] != b.provenance["input"]["blake2b"]
    assert (out / "a" / "x_overlay.png").is_file()
    rows = read_summary(out)
    broken = rows[str(photos / "a" / "broken.jpg")]
    assert broken["status"] == "failed" and str(photos / "a" / "broken.jpg") in broken["error"]
    done = rows[str(photos / "b" / "x.png")]
    assert done["outputs"].split(";") == [
        "b/x_classes.csv",
        "b/x_labels.png",
        "b/x_overlay.png",
        "b/x_provenance.json",
    ]
    assert (done["height"], done["width"]) == ("64", "80") and float(done["seconds"]) > 0
    assert 0 < float(done["mean_confidence"]) <= 1 and 0 <= float(done["uncertain_fraction"]) <= 1


def test_a_rerun_skips_what_matches_and_refuses_what_changed(photos, tmp_path, untrained_params):
    out = tmp_path / "out"
    first = batch.segment_folder(photos / "a", out, weights=untrained_params, **RUN)
    before = (out / "x_labels.png").stat().st_mtime_ns
    again = batch.segment_folder(photos / "a", out, weights=untrained_params, **RUN)
    assert [r.status for r in again.reports] == ["failed", "skipped"]
    skipped = again.reports[1]
    assert skipped.mean_confidence == first.reports[1].mean_confidence
    assert skipped.outputs == first.reports[1].outputs
    assert (out / "x_labels.png").stat().st_mtime_ns == before
    other = batch.segment_folder(photos / "a", out, weights=untrained_params, flip=True, **RUN)
    assert other.reports[1].status == "failed" and "other settings" in other.reports[1].error
    write_png(photos / "a" / "x.png", 3)  # the photo changed since
    changed = batch.segment_folder(photos / "a", out, weights=untrained_params, **RUN)
    assert changed.reports[1].status == "failed" and "--overwrite" in changed.reports[1].error
    assert (out / "x_labels.png").stat().st_mtime_ns == before
    redone = batch.segment_folder(
        photos / "a", out, weights=untrained_params, overwrite=True, **RUN
    )
    assert redone.reports[1].status == "done"
    assert (out / "x_labels.png").stat().st_mtime_ns != before


def test_labels_corrected_by_hand_are_kept_even_with_overwrite(photos, tmp_path, untrained_params):
    out = tmp_path / "out"
    batch.segment_folder(photos / "b", out, weights=untrained_params, **RUN)
    provenance_path = out / "x_provenance.json"
    provenance = json.loads(provenance_path.read_text())
    provenance[CORRECTED_KEY] = True
    provenance_path.write_text(json.dumps(provenance))
    again = batch.segment_folder(photos / "b", out, weights=untrained_params, overwrite=True, **RUN)
    assert again.reports[0].status == "skipped" and "corrected by hand" in again.reports[0].error
    assert json.loads(provenance_path.read_text())[CORRECTED_KEY] is True


def test_stopping_lets_the_image_finish_and_a_rerun_resumes(photos, tmp_path, untrained_params):
    out = tmp_path / "out"
    options = RunOptions(weights=untrained_params, **RUN)
    plan = batch.plan_batch([photos], out, options, recursive=True)
    heard = []
    stopped = batch.run_batch(plan, on_image=heard.append, should_stop=lambda: len(heard) == 2)
    assert [r.status for r in stopped.reports] == ["failed", "done"] and stopped.stopped
    assert len(read_summary(out)) == 2 and not (out / "b").exists()
    resumed = batch.run_batch(plan)
    assert [r.status for r in resumed.reports] == ["failed", "skipped", "done"]
    assert not resumed.stopped and len(read_summary(out)) == 3


def test_uncertain_fraction_counts_small_margins(photos, tmp_path, bicycle_params):
    out = tmp_path / "out"
    sure = batch.segment_folder(photos / "b", out, weights=bicycle_params, **RUN)
    assert sure.reports[0].uncertain_fraction == 0.0 and sure.reports[0].mean_confidence > 0.99
    # Two classes the network scores alike: probability 1/2 each, no margin anywhere.
    torn = batch.segment_folder(
        photos / "b", tmp_path / "o2", weights=bicycle_params, classes=["wall", "sky"], **RUN
    )
    assert torn.reports[0].uncertain_fraction == 1.0


def test_missing_weights_fail_before_any_image_is_read(photos, tmp_path, monkeypatch):
    def never(*args):
        raise AssertionError("an image was read")

    monkeypatch.setattr(batch_image, "decode_planes", never)
    with pytest.raises(WeightsUnavailableError):
        batch.segment_folder(photos, tmp_path / "out", recursive=True, **RUN)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "options",
    [
        {"probability_classes": ["wall"], "classes": ["wall", "sky", "floor"], "overlay": True},
        {"scheme": "street_ade20k.csv", "probability_classes": ["road"], "min_confidence": 0.02},
    ],
)
def test_the_options_an_export_was_made_with_redo_the_folder_the_same_way(
    options, tmp_path, untrained_params
):
    from importlib.resources import files

    if "scheme" in options:
        options = {**options, "scheme": files("napari_gluonseg") / "schemes" / options["scheme"]}
    images = tmp_path / "images"
    write_png(images / "one.png", 1)
    out = tmp_path / "out"
    batch.segment_folder(images, out, weights=untrained_params, **RUN, **options)
    write_png(images / "two.png", 2)  # added later: done the same way from the dock

    again = options_of(read_export(out / "one_labels.png").provenance)
    summary = batch.segment_folder(images, out, **again)
    # The same settings record: the first image is recognised as done, not refused as changed.
    assert {r.key: r.status for r in summary.reports} == {"one": "skipped", "two": "done"}
    settings = [read_export(out / f"{k}_labels.png").provenance["batch"]["settings"]
                for k in ("one", "two")]  # fmt: skip
    assert settings[0] == settings[1]


def test_options_of_an_export_not_made_by_a_batch_or_without_its_weights(tmp_path):
    with pytest.raises(batch.OptionError, match="not made by a batch"):
        options_of({"model": "fcn_resnet50_ade"})
    record = {"batch": {"settings": {"model": "fcn_resnet50_ade"}}, "weights": "/gone/w.params"}
    with pytest.raises(batch.OptionError, match=r"/gone/w\.params"):
        options_of(record)


def test_an_output_folder_that_cannot_be_written_is_refused_before_any_image(
    tmp_path, untrained_params
):
    """Checked first: otherwise every image is segmented before summary.csv fails to write."""
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.png").write_bytes(b"not read")
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    with pytest.raises(OptionError, match=f"Cannot write into the output folder {blocker}/out"):
        batch.segment_folder(images, blocker / "out", weights=untrained_params, **RUN)


def test_weights_no_image_can_load_leave_no_output_behind(tmp_path):
    """Neither a folder nor a summary of no image: nothing was segmented."""
    images = tmp_path / "images"
    write_png(images / "a.png", 0)
    bad = tmp_path / "broken.params"
    bad.write_bytes(b"not weights at all")
    out = tmp_path / "out"
    with pytest.raises(WeightsError, match=r"broken\.params"):
        batch.segment_folder(images, out, weights=bad, **RUN)
    assert not out.exists()


def test_a_second_batch_into_a_folder_in_use_is_refused_and_a_stale_lock_taken_over(
    photos, tmp_path, untrained_params
):
    """Two runs into one --out replaced each other's results without --overwrite."""
    from napari_gluonseg.core.atomic import LOCK_NAME, folder_lock

    out = tmp_path / "out"
    out.mkdir()
    with (
        folder_lock(out),
        pytest.raises(ExportError, match=rf"Another run \(process {os.getpid()}\) is writing"),
    ):
        batch.segment_folder(photos, out, recursive=True, weights=untrained_params, **RUN)
    assert sorted(p.name for p in out.iterdir()) == []  # nothing written, the lock released
    (out / LOCK_NAME).write_text("999999999")  # a run that died without removing it
    summary = batch.segment_folder(photos, out, recursive=True, weights=untrained_params, **RUN)
    assert summary.count("done") == 2 and not (out / LOCK_NAME).exists()  # broken.jpg fails


@pytest.mark.parametrize("renames", range(4))
def test_a_first_write_interrupted_between_renames_is_finished_by_the_rerun(
    tmp_path, monkeypatch, untrained_params, renames
):
    """Labels without a provenance (the first write cut short): the rerun resumes the image."""
    from napari_gluonseg.core import atomic as files

    images, out = tmp_path / "images", tmp_path / "out"
    write_png(images / "x.png", 1)
    write_result, real_replace = batch_image.write_result, files.os.replace

    def failing_disk(*args, **kwargs):
        calls = []

        def replace(src, dst):
            if len(calls) >= renames:
                raise OSError(5, "Input/output error")
            calls.append(dst)
            real_replace(src, dst)

        monkeypatch.setattr(files.os, "replace", replace)
        try:
            return write_result(*args, **kwargs)
        finally:
            monkeypatch.setattr(files.os, "replace", real_replace)

    monkeypatch.setattr(batch_image, "write_result", failing_disk)
    first = batch.segment_folder(images, out, weights=untrained_params, **RUN)
    assert first.reports[0].status == "failed" and "Input/output" in first.reports[0].error
    monkeypatch.setattr(batch_image, "write_result", write_result)
    again = batch.segment_folder(images, out, weights=untrained_params, **RUN)
    # Past the journal's rename the new set is finished, and it is this run's: nothing to redo.
    assert again.reports[0].status == ("done" if renames == 0 else "skipped")
    assert read_export(out / "x_labels.png").provenance["input"]["file"] == "x"
    assert sorted(p.name for p in out.iterdir()) == [
        "summary.csv",
        "x_classes.csv",
        "x_labels.png",
        "x_provenance.json",
    ]


def test_an_earlier_summary_that_cannot_be_merged_is_refused_before_any_image(
    tmp_path, monkeypatch, untrained_params
):
    """Replacing it with this batch's rows would lose what it holds: refused, nothing run."""

    def never(*args):
        raise AssertionError("an image was read")

    monkeypatch.setattr(batch_image, "decode_planes", never)
    write_png(tmp_path / "images" / "x.png", 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / SUMMARY_NAME).write_text("image;state\nx.png;checked by hand\n")
    with pytest.raises(ExportError, match=rf"{out / SUMMARY_NAME} has no 'input' column"):
        batch.segment_folder(tmp_path / "images", out, weights=untrained_params, **RUN)
    assert (out / SUMMARY_NAME).read_text() == "image;state\nx.png;checked by hand\n"


def test_a_batch_carries_its_options_as_one_checked_object(tmp_path, untrained_params):
    """The run's options travel as one RunOptions from the caller to every image (no dict of
    keywords): weights made absolute for workers elsewhere, the scheme loaded once."""
    write_png(tmp_path / "images" / "x.png", 1)
    relative = os.path.relpath(untrained_params)
    given = RunOptions(weights=relative, **RUN)
    plan = batch.plan_batch([tmp_path / "images"], tmp_path / "out", given)
    options = plan.settings.options
    assert isinstance(options, RunOptions) and options.weights == Path(relative).absolute()
    again = RunOptions(weights=untrained_params, **RUN)
    again_plan = batch.plan_batch([tmp_path / "images"], tmp_path / "out", again)
    assert again_plan.settings.record == plan.settings.record  # one run, however spelled
    with pytest.raises(OptionError, match="must be a RunOptions"):
        batch.plan_batch([tmp_path / "images"], tmp_path / "out", {"scale": 0.5})


def test_results_of_an_earlier_version_with_its_older_record_names_are_still_done_alike(
    tmp_path, untrained_params
):
    """The settings record names each option as RunOptions does; a record an earlier version
    wrote ("model") is still recognised on a rerun and read back, not redone or refused."""
    write_png(tmp_path / "images" / "one.png", 1)
    out = tmp_path / "out"
    batch.segment_folder(tmp_path / "images", out, weights=untrained_params, **RUN)
    path = out / "one_provenance.json"
    provenance = json.loads(path.read_text())
    record = provenance["batch"]["settings"]
    assert record["model_name"] == "fcn_resnet50_ade" and "model" not in record
    record["model"] = record.pop("model_name")
    path.write_text(json.dumps(provenance))

    summary = batch.segment_folder(tmp_path / "images", out, weights=untrained_params, **RUN)
    assert [r.status for r in summary.reports] == ["skipped"]
    again = options_of(read_export(out / "one_labels.png").provenance)
    assert again["model_name"] == "fcn_resnet50_ade" and again["scale"] == 1.0
