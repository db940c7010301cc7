"""``napari-gluonseg segment`` (napari_gluonseg/cli/segment.py, progress.py): batches of files,
folders and globs, reruns, Ctrl-C, progress in a terminal and in a log, downloads that fail."""

import csv
import http.server
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from napari_gluonseg import cli
from napari_gluonseg.core.batch import image as batch_image
from napari_gluonseg.core.models import weights

from ..conftest import BICYCLE, DATA, MODEL, zoo_mirror
from .helpers import one_line_error


def test_segment_writes_labels_overlay_and_table(tmp_path, bicycle_params, capsys):
    out = tmp_path / "out"
    rc = cli.main(
        [
            "segment",
            str(DATA / "dog.jpg"),
            "--weights",
            str(bicycle_params),
            "--scale",
            "0.125",
            "--engine",
            "onnxruntime",  # neither is the point here
            "--prob",
            "bicycle",
            "--overlay",
            "--out",
            str(out),
        ]
    )
    assert rc == 0, capsys.readouterr().err
    labels = np.asarray(Image.open(out / "dog_labels.png"))
    assert labels.shape == (576, 768) and np.all(labels == BICYCLE + 1)
    overlay = np.asarray(Image.open(out / "dog_overlay.png"))
    assert overlay.shape == (576, 768, 3)
    with open(out / "dog_classes.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[BICYCLE + 1]["class_name"] == "bicycle, bike, wheel, cycle"
    assert int(rows[BICYCLE + 1]["pixels"]) == 576 * 768
    prov = json.loads((out / "dog_provenance.json").read_text())
    assert prov["model"] == "fcn_resnet50_ade" and prov["weights_source"] == "file"
    assert (out / "dog_prob-bicycle.png").exists()
    assert "1 done, 0 skipped, 0 failed of 1" in capsys.readouterr().out


def test_segment_tiling_and_augmentation_options(tmp_path, untrained_params, capsys):
    out = tmp_path / "out"
    args = ["segment", str(DATA / "dog.jpg"), "--weights", str(untrained_params), "--out", str(out)]
    opts = [
        "--scale",
        "0.125",
        "--tile-size",
        "64",
        "--flip",
        "--tta-scales",
        "1.5",
        "--engine",
        "onnxruntime",
    ]
    assert cli.main([*args, *opts]) == 0, capsys.readouterr().err
    prov = json.loads((out / "dog_provenance.json").read_text())
    assert prov["working_size"] == [72, 96] and prov["tile_size"] == 64
    assert prov["flip"] is True and prov["tta_scales"] == [1.0, 1.5]
    assert prov["engine"] == "onnxruntime"
    assert cli.main([*args, "--tile-size", "7", "--overwrite"]) == cli.EXIT_BAD_INPUT
    assert "tile_size must be" in capsys.readouterr().err


def test_segment_with_scheme_subset_and_threshold(tmp_path, bicycle_params, capsys):
    from napari_gluonseg.core.models.scheme import EXAMPLES

    out = tmp_path / "out"
    base = ["segment", str(DATA / "dog.jpg"), "--weights", str(bicycle_params), "--out", str(out)]
    base += ["--scale", "0.125", "--engine", "onnxruntime"]  # neither is the point here
    assert cli.main([*base, "--scheme", str(EXAMPLES / "street_ade20k.csv")]) == 0
    labels = np.asarray(Image.open(out / "dog_labels.png"))
    assert np.all(labels == 12)
    base.append("--overwrite")  # each run replaces the last one's results
    assert cli.main([*base, "--classes", "wall;sky", "--min-confidence", "0.6"]) == 0
    labels = np.asarray(Image.open(out / "dog_labels.png"))
    assert np.all(labels == 0)  # wall and sky share the renormalized probability: 0.5 < 0.6
    prov = json.loads((out / "dog_provenance.json").read_text())
    assert prov["classes"] == ["wall", "sky"] and prov["min_confidence"] == 0.6
    assert cli.main([*base, "--scheme", str(tmp_path / "missing.yaml")]) == cli.EXIT_BAD_INPUT
    assert "does not exist" in capsys.readouterr().err


def test_segment_reruns_skip_done_images_and_never_replace_others(
    tmp_path, untrained_params, capsys
):
    out = tmp_path / "out"
    args = ["segment", str(DATA / "dog.jpg"), "--weights", str(untrained_params)]
    args += ["--scale", "0.125", "--engine", "onnxruntime", "--prob", "sky", "--out", str(out)]
    assert cli.main(args) == 0, capsys.readouterr().err
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != "summary.csv"}
    assert cli.main(args) == 0
    assert "0 done, 1 skipped, 0 failed" in capsys.readouterr().out
    assert cli.main([*args, "--flip"]) == cli.EXIT_SOME_FAILED
    err = capsys.readouterr().err
    assert "dog_labels.png" in err and "--overwrite" in err
    after = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != "summary.csv"}
    assert after == before
    assert cli.main([*args, "--flip", "--overwrite"]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted([*before, "summary.csv"])  # no temps


def test_two_inputs_with_one_stem_are_refused_before_running(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "dog.jpg").write_bytes((DATA / "dog.jpg").read_bytes())
    args = ["segment", str(DATA / "dog.jpg"), str(tmp_path / "a" / "dog.jpg")]
    assert cli.main([*args, "--out", str(tmp_path / "o")]) == cli.EXIT_BAD_INPUT
    assert "dog" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_intensity_range_option_reaches_the_run(tmp_path, small_dog, bicycle_params):
    twelve = np.round(small_dog[..., 0].astype(np.float64) * 4095 / 255).astype(np.uint16)
    Image.fromarray(twelve).save(tmp_path / "scan.png")
    out = tmp_path / "out"
    args = ["segment", str(tmp_path / "scan.png"), "--weights", str(bicycle_params)]
    args += ["--scale", "1.0", "--engine", "onnxruntime"]  # neither is the point here
    rc = cli.main([*args, "--intensity-range", "0,4095", "--out", str(out)])
    assert rc == 0
    provenance = json.loads((out / "scan_provenance.json").read_text())
    assert provenance["intensity_range"] == [0.0, 4095.0]


def test_unwritable_output_is_exit_2_with_message(tmp_path, bicycle_params, capsys):
    (tmp_path / "out").write_text("a file, not a folder")
    rc = cli.main(
        [
            "segment",
            str(DATA / "dog.jpg"),
            "--weights",
            str(bicycle_params),
            "--scale",
            "0.1",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert rc == cli.EXIT_BAD_INPUT
    assert f"output folder {tmp_path / 'out'} is a file" in capsys.readouterr().err


def small_photos(root):
    for n, rel in enumerate(["a/x.png", "b/x.png", "c/y.png"]):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        pixels = np.random.default_rng(n).integers(0, 255, (64, 80, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / rel)
    (root / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    return root


def test_a_folder_with_a_bad_image_exits_1_naming_it(tmp_path, untrained_params, capsys):
    photos = small_photos(tmp_path / "photos")
    out = tmp_path / "out"
    args = ["segment", str(photos), "--recursive", "--weights", str(untrained_params)]
    rc = cli.main(
        [*args, "--scale", "1.0", "--engine", "onnxruntime", "--out", str(out), "--quiet"]
    )
    captured = capsys.readouterr()
    assert rc == cli.EXIT_SOME_FAILED and captured.out == ""
    assert f"failed: {photos / 'a' / 'broken.png'}" in captured.err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*_labels.png")) == [
        "a/x_labels.png",
        "b/x_labels.png",
        "c/y_labels.png",
    ]


def test_ctrl_c_stops_after_the_image_and_the_rerun_resumes(
    tmp_path, untrained_params, capsys, monkeypatch
):
    import signal

    photos = small_photos(tmp_path / "photos")
    (photos / "a" / "broken.png").unlink()
    out = tmp_path / "out"
    args = ["segment", f"{photos}/*/*.png", "--weights", str(untrained_params), "--out", str(out)]
    args += ["--scale", "1.0", "--engine", "onnxruntime"]
    segment = batch_image.iter_segment

    def interrupted_once(*a, **k):
        monkeypatch.setattr(batch_image, "iter_segment", segment)
        signal.raise_signal(signal.SIGINT)  # as a terminal's Ctrl-C, in the middle of the image
        return segment(*a, **k)

    monkeypatch.setattr(batch_image, "iter_segment", interrupted_once)
    assert cli.main(args) == cli.EXIT_STOPPED
    captured = capsys.readouterr()
    assert "Stopping after the running image" in captured.err and "rerun" in captured.out
    assert [p.relative_to(out).as_posix() for p in out.rglob("*_labels.png")] == ["a/x_labels.png"]
    assert not list(out.rglob(".*"))  # nothing half-written
    assert cli.main(args) == 0
    assert "2 done, 1 skipped, 0 failed of 3" in capsys.readouterr().out


def test_segment_offline_exits_3_before_reading_any_image(tmp_path, capsys, monkeypatch):
    def never(*args):
        raise AssertionError("an image was read")

    monkeypatch.setattr(batch_image, "decode_planes", never)
    rc = cli.main(["segment", str(DATA), "--out", str(tmp_path / "out")])
    assert rc == cli.EXIT_NO_WEIGHTS and "MXNET_HOME" in capsys.readouterr().err


def test_progress_is_one_line_per_step_when_not_a_terminal(tmp_path, untrained_params, capsys):
    """A log file gets each step once, not a carriage return per update."""
    out = tmp_path / "model.onnx"
    args = ["export-onnx", "fcn_resnet50_ade", "--weights", str(untrained_params), "-o", str(out)]
    assert cli.main(args) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "\r" not in printed
    lines = [line for line in printed.splitlines() if line.strip()]
    assert len(lines) == len(set(lines))  # no step repeated


def test_a_folders_progress_in_a_log_is_one_line_per_image(tmp_path, untrained_params, capsys):
    """Not a terminal (a log, a pipe): no progress bar redrawn with carriage returns, each image
    once, numbered, on a line of its own."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (photos / name).write_bytes((DATA / "dog.jpg").read_bytes())
    (photos / "d.png").write_bytes(b"not an image")
    args = ["segment", str(photos), "--weights", str(untrained_params), "--scale", "0.125"]
    assert cli.main([*args, "--out", str(tmp_path / "out")]) == cli.EXIT_SOME_FAILED
    printed = capsys.readouterr()
    assert "\r" not in printed.out + printed.err
    lines = printed.out.splitlines()
    for n, key in enumerate(("a", "b", "c"), 1):
        assert sum(line.startswith(f"[{n}/4] {key}: done") for line in lines) == 1, lines
    failed = printed.err.splitlines()  # as on a terminal: on stderr, it needs attention
    assert sum(line.startswith("[4/4] d: failed: ") for line in failed) == 1, failed


def test_a_quiet_batch_on_a_local_cluster_prints_nothing(tmp_path, untrained_params):
    """Dask's scheduler logs dozens of lines and a closed-connection traceback at INFO."""
    import subprocess
    import sys

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes((DATA / "dog.jpg").read_bytes())
    args = ["segment", str(photos), "--weights", str(untrained_params), "--scale", "0.125"]
    args += ["--out", str(tmp_path / "out"), "--workers", "1", "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "napari_gluonseg", *args], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
    assert (tmp_path / "out" / "a_labels.png").is_file()


def test_a_later_batch_into_the_same_folder_merges_its_rows_into_the_summary(
    tmp_path, untrained_params, capsys
):
    """The second run's summary.csv replaced the first's: its images vanished from it."""
    photos = small_photos(tmp_path / "photos")
    out = tmp_path / "out"
    common = ["--weights", str(untrained_params), "--scale", "1.0", "--engine", "onnxruntime"]

    def run(folder):
        return cli.main(["segment", str(photos / folder), *common, "--out", str(out), "--quiet"])

    def rows():
        with open(out / "summary.csv", newline="") as f:
            return {Path(r["input"]).name: r["status"] for r in csv.DictReader(f)}

    assert run("a") == cli.EXIT_SOME_FAILED  # x done, broken failed
    assert run("c") == 0
    assert rows() == {"broken.png": "failed", "x.png": "done", "y.png": "done"}
    Image.fromarray(np.zeros((64, 80, 3), np.uint8)).save(photos / "a" / "broken.png")
    assert run("a") == 0, capsys.readouterr().err  # the fixed file redone, its row replaced
    assert rows() == {"broken.png": "done", "x.png": "skipped", "y.png": "done"}
    assert not list(out.glob(".*"))


def test_results_inside_the_input_tree_are_not_segmented_again(tmp_path, untrained_params, caplog):
    """A later --recursive run took the first run's labels and overlays for photos."""
    photos = small_photos(tmp_path / "photos")
    (photos / "a" / "broken.png").unlink()
    common = ["--recursive", "--weights", str(untrained_params), "--scale", "1.0", "--quiet"]
    common += ["--engine", "onnxruntime", "--overlay"]
    first = photos / "labels"
    assert cli.main(["segment", str(photos), *common, "--out", str(first)]) == 0
    before = sorted(p.relative_to(first).as_posix() for p in first.rglob("*"))
    caplog.clear()
    caplog.set_level("INFO", logger="napari_gluonseg")
    assert cli.main(["segment", str(photos), *common, "--out", str(tmp_path / "other")]) == 0
    with open(tmp_path / "other" / "summary.csv", newline="") as f:
        inputs = sorted(Path(r["input"]).relative_to(photos).as_posix() for r in csv.DictReader(f))
    assert inputs == ["a/x.png", "b/x.png", "c/y.png"]
    for sub in ("a", "b", "c"):  # one line per folder of results, with its count
        assert f"Skipped 2 image file(s) in {first / sub}: napari-gluonseg results" in caplog.text
    assert sorted(p.relative_to(first).as_posix() for p in first.rglob("*")) == before


@pytest.mark.usefixtures("fresh_model_cache")
def test_segment_on_a_cold_cache_says_what_the_demo_says(tmp_path, untrained_params, capsys):
    """The one-time preparation of the weights (seconds) and a long run's estimate are told
    before they happen, not after a silence."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a", "b"):
        pixels = np.random.default_rng(len(name)).integers(0, 255, (40, 48, 3), np.uint8)
        Image.fromarray(pixels).save(photos / f"{name}.png")
    args = ["segment", str(photos), "--weights", str(untrained_params), "--engine", "onnxruntime"]
    assert cli.main([*args, "--scale", "2.0", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert out.count("once per weights") == 1  # the first image prepares them for both
    assert "a: building the network for onnxruntime (once per weights)" in out
    for name in ("a", "b"):  # scale 2: the network sees 4x the pixels of each
        assert f"{name}: working size 80x96 (4.0x the image's pixels)" in out
    demo = ["demo", "--headless", "--weights", str(untrained_params), "--scale", "2.0"]
    assert cli.main([*demo, "--out", str(tmp_path / "demo")]) == 0
    assert "chelsea: working size" in capsys.readouterr().out


class _MirrorAnswer(http.server.BaseHTTPRequestHandler):
    """Answers every request with ``body``; without ``length`` (no Content-Length) the closed
    connection ends the body, so a cut one looks complete to the client."""

    body = b""
    length = True

    def do_GET(self):
        self.send_response(200)
        if self.length:
            self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def _zip_of(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(member, b"not the weights whose sha1 the zoo lists" * 100)
    return buffer.getvalue()


@pytest.mark.usefixtures("fresh_model_cache")
@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("wrong sha1", "expected 0000000000"),
        ("truncated zip", "not a complete weights archive"),
        ("html page", "not a complete weights archive"),
        ("zip without the member", "not a complete weights archive"),
        ("cut body without Content-Length", "not a complete weights archive"),
    ],
)
def test_a_failed_download_exits_with_weights_unavailable(
    monkeypatch, tmp_path, capsys, case, reason
):
    """A download that brings no usable weights is the weights being unavailable (3), not a
    bad argument (2); the cache keeps nothing of it."""
    member = f"{MODEL}-00000000.params"  # the file name of zoo_mirror's weights
    body = {
        "wrong sha1": _zip_of(member),
        "truncated zip": _zip_of(member)[:-40],
        "html page": b"<html><body>Service unavailable</body></html>",
        "zip without the member": _zip_of("other.params"),
        "cut body without Content-Length": _zip_of(member)[:200],
    }[case]
    handler = type("Answer", (_MirrorAnswer,), {"body": body, "length": "Content" not in case})
    with zoo_mirror(handler, monkeypatch):
        assert weights.zoo_file_name(MODEL) == member
        rc = cli.main(["segment", str(DATA / "dog.jpg"), "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert rc == cli.EXIT_NO_WEIGHTS, captured.err
    assert reason in captured.err and "/gluon/models/" in captured.err  # what and from where
    assert "No segmentation was made" in captured.err
    assert f"{MODEL}: downloading {MODEL} weights" in captured.out  # said while it happened
    assert [p.name for p in weights.cache_dir().iterdir()] == []


def _onnx_of_21_classes_labelled_150(path):
    """An ONNX file whose metadata says fcn_resnet50_ade (150 classes) but whose network gives
    21 (VOC's count): metadata copied onto another network."""
    from napari_gluonseg.core.models import untrained
    from napari_gluonseg.core.models.engines.metadata import ExportSpec, metadata_for
    from napari_gluonseg.core.models.onnx_build import build_model

    params = untrained.untrained_params(MODEL)
    for name in ("head.block.4.weight", "head.block.4.bias"):
        params[name] = params[name][:21]
    metadata = metadata_for(ExportSpec(MODEL, "0" * 40, dynamic=True))
    path.write_bytes(build_model(MODEL, params, 21, metadata).to_bytes())
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: p.write_bytes(b"") or p, "is empty (0 bytes): not an ONNX model"),
        (_onnx_of_21_classes_labelled_150, "gives 21 classes where fcn_resnet50_ade has 150"),
    ],
)
def test_a_bad_onnx_file_is_refused_by_name(tmp_path, capsys, make, reason):
    """Both gave onnxruntime's or numpy's own error with a traceback."""
    model_file = make(tmp_path / "model.onnx")
    args = ["segment", str(DATA / "dog.jpg"), "--weights", str(model_file), "--scale", "0.125"]
    assert cli.main([*args, "--out", str(tmp_path / "out")]) == cli.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"{model_file} " in err and reason in err and "Traceback" not in err


def test_a_float64_tiff_near_its_limits_among_good_images_is_segmented(
    tmp_path, untrained_params, capsys
):
    """Its min-max scaling overflowed and the NaN was blamed on the weights: the whole batch
    stopped with exit 2."""
    import tifffile

    photos = small_photos(tmp_path / "photos")
    (photos / "a" / "broken.png").unlink()
    grey = np.random.default_rng(7).random((48, 64))
    tifffile.imwrite(photos / "huge.tif", (grey * 2.0 - 1.0) * 1.7e308)  # +-1.7e308, finite
    out = tmp_path / "out"
    args = ["segment", str(photos), "--recursive", "--weights", str(untrained_params)]
    rc = cli.main([*args, "--scale", "1.0", "--engine", "onnxruntime", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert "4 done, 0 skipped, 0 failed of 4" in capsys.readouterr().out
    assert (out / "huge_labels.png").is_file()


@pytest.mark.parametrize("pages", [3, 4])
def test_a_multi_page_tiff_of_three_or_four_pages_is_a_stack(tmp_path, untrained_params, pages):
    """The README's "a multi-page TIFF as a stack of planes": 3 or 4 greyscale pages were
    refused as a colour image stored channels first, with advice (rgb=False) the command line
    has no option for."""
    import tifffile

    rng = np.random.default_rng(pages)
    planes = [Image.fromarray(rng.integers(0, 255, (40, 48), np.uint8)) for _ in range(pages)]
    planes[0].save(tmp_path / "stack.tif", save_all=True, append_images=planes[1:])
    out = tmp_path / "out"
    args = ["segment", str(tmp_path / "stack.tif"), "--weights", str(untrained_params)]
    assert cli.main([*args, "--scale", "1.0", "--engine", "onnxruntime", "--out", str(out)]) == 0
    assert tifffile.imread(out / "stack_labels.tif").shape == (pages, 40, 48)


def test_workers_without_the_dask_extra_exit_2_naming_the_extra(
    tmp_path, untrained_params, capsys, monkeypatch
):
    """It raised ModuleNotFoundError: No module named 'distributed' (exit 1, a traceback)."""
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # as without the [dask] extra
    args = ["segment", str(DATA / "dog.jpg"), "--workers", "2", "--out", str(tmp_path / "o")]
    assert cli.main([*args, "--weights", str(untrained_params)]) == cli.EXIT_BAD_INPUT
    err = one_line_error(capsys.readouterr().err)
    assert err.startswith("error: --workers 2 runs the batch on Dask")
    assert 'pip install "napari-gluonseg[dask]"' in err
    assert not (tmp_path / "o").exists()


@pytest.mark.usefixtures("use_onnx_home")
def test_a_grey_and_alpha_png_is_segmented_as_greyscale(tmp_path, untrained_params, capsys):
    """It failed with advice for Python callers ('Pass one channel (image[..., k])'), which a
    command-line user cannot follow; Python callers passing such an array keep that advice."""
    from napari_gluonseg import ImageError, segment_image

    grey = np.random.default_rng(0).integers(0, 255, (48, 64), dtype=np.uint8)
    Image.fromarray(np.stack([grey, np.full_like(grey, 128)], -1), "LA").save(tmp_path / "la.png")
    out = tmp_path / "out"
    args = ["segment", str(tmp_path / "la.png"), "--weights", str(untrained_params)]
    args += ["--engine", "onnxruntime", "--scale", "1.0", "--out", str(out)]
    assert cli.main(args) == 0, capsys.readouterr()
    assert np.asarray(Image.open(out / "la_labels.png")).shape == (48, 64)
    with pytest.raises(ImageError, match=r"image\[\.\.\., k\]"):
        segment_image(np.stack([grey, grey], -1), weights=untrained_params)


# A batch whose second image runs one long call of a library that holds Python's signal
# handlers until it returns, as onnxruntime's run does (pbkdf2: minutes, without a network).
_LONG_CALL_BATCH = """
import hashlib, sys
from napari_gluonseg import cli
from napari_gluonseg.core.batch import ctrl_c, image as batch_image

ctrl_c.ANSWER_WITHIN_S = 0.3  # how long the main thread is given to answer (a shorter test)

def long_call(*args, **kwargs):
    print("in the long call", file=sys.stderr, flush=True)
    hashlib.pbkdf2_hmac("sha256", b"x", b"salt", 500_000_000)
    raise AssertionError("the long call returned")

batch_image.iter_segment = long_call
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_second_ctrl_c_during_a_long_library_call_stops_at_once(tmp_path, untrained_params):
    """Two presses during one onnxruntime call merged into one (Python runs its handler once,
    when the call returns): the batch went on until the image ended, as if pressed once."""
    import os
    import signal
    import subprocess
    import sys
    import time

    photos, out = tmp_path / "photos", tmp_path / "out"
    photos.mkdir()
    (photos / "a.png").write_bytes(b"not a png")  # fails at once: a row of the summary
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(photos / "b.png")
    args = ["segment", str(photos), "--weights", str(untrained_params), "--out", str(out)]
    child = subprocess.Popen(
        [sys.executable, "-c", _LONG_CALL_BATCH, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert child.stderr is not None
        lines = []
        while "in the long call" not in (line := child.stderr.readline()):
            assert line, f"the child ended: {lines}"
            lines.append(line)
        child.send_signal(signal.SIGINT)
        time.sleep(0.1)
        child.send_signal(signal.SIGINT)
        pressed = time.monotonic()
        rc = child.wait(timeout=3)
        waited = time.monotonic() - pressed
        err = child.stderr.read()
    finally:
        child.kill()
        child.wait()
    assert rc == cli.EXIT_STOPPED and waited < 1.5, (rc, waited, err)  # not the call's minutes
    assert "Stopping after the running image" in err and "Stopped at once" in err
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(Path(r["input"]).name, r["status"]) for r in rows] == [("a.png", "failed")]
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]  # no lock, no temporary


def test_a_second_ctrl_c_between_library_calls_stops_at_once_with_the_summary(
    tmp_path, untrained_params, capsys, monkeypatch
):
    import signal
    import time

    photos = small_photos(tmp_path / "photos")
    out = tmp_path / "out"
    args = ["segment", str(photos), "--recursive", "--weights", str(untrained_params)]

    def pressed_twice(*a, **k):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        time.sleep(5)  # Python code: the second press interrupts it
        raise AssertionError("not stopped")

    from napari_gluonseg.core.batch import ctrl_c

    ended_here = []  # the process must not end: the main thread answers the second press
    monkeypatch.setattr(ctrl_c, "_end_now", lambda *a: ended_here.append(a))
    monkeypatch.setattr(batch_image, "iter_segment", pressed_twice)
    started = time.monotonic()
    assert cli.main([*args, "--out", str(out)]) == cli.EXIT_STOPPED
    assert time.monotonic() - started < 2.5 and ended_here == []
    err = capsys.readouterr().err
    assert "Stopping after the running image" in err and "Stopped. Finished images are kept" in err
    with open(out / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["status"], Path(r["input"]).name) for r in rows] == [("failed", "broken.png")]
    assert sorted(p.name for p in out.iterdir()) == ["summary.csv"]
