"""Weights from the zoo against a real HTTP server on 127.0.0.1, and from local files."""

from __future__ import annotations

import errno
import functools
import hashlib
import http.server
import io
import os
import shutil
import socket
import threading
import time
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from napari_gluonseg import WeightsError, WeightsUnavailableError, segment_image
from napari_gluonseg.core.models import untrained, weights
from napari_gluonseg.core.models.params_file import write_params
from napari_gluonseg.core.run.segment import run_to_end

from ...conftest import MODEL, needs_mxnet, zoo_mirror

pytestmark = pytest.mark.usefixtures("fresh_model_cache")  # these tests write into the cache


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture
def zoo_server(tmp_path, monkeypatch, untrained_params):
    """Serve a mirror of the zoo at 127.0.0.1 with the untrained net as fcn_resnet50_ade."""
    expected = sha1(untrained_params)
    monkeypatch.setattr(weights, "zoo_sha1", lambda name: expected)
    root = tmp_path / "mirror"
    models = root / "gluon" / "models"
    models.mkdir(parents=True)
    stem = f"{MODEL}-{expected[:8]}"
    with zipfile.ZipFile(models / f"{stem}.zip", "w") as zf:
        zf.write(untrained_params, f"{stem}.params")
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MXNET_GLUON_REPO", f"http://127.0.0.1:{server.server_port}")
    yield models / f"{stem}.zip", expected
    server.shutdown()
    server.server_close()


def _cache_files() -> list[str]:
    d = weights.cache_dir()
    return sorted(p.name for p in d.rglob("*")) if d.exists() else []


def test_download_good_file(zoo_server, small_dog, untrained_params):
    _, expected = zoo_server
    events = []
    resolved = run_to_end(weights.iter_zoo_weights(MODEL), on_progress=events.append)
    assert resolved.path == weights.cache_dir() / f"{MODEL}-{expected[:8]}.params"
    assert resolved.sha1 == expected and resolved.source == "zoo"
    assert events and events[-1].done == events[-1].total > 0  # byte progress
    assert _cache_files() == [resolved.path.name]  # no temp files left behind
    # weights=None: the zoo path, now cached (the engine and the size are not the point here)
    result = segment_image(small_dog, engine="onnxruntime", scale=1.0)
    assert result.provenance["weights_source"] == "zoo"


def test_cached_file_is_used_without_download(zoo_server, untrained_params, monkeypatch):
    _, expected = zoo_server
    target = weights.cache_dir() / f"{MODEL}-{expected[:8]}.params"
    target.parent.mkdir(parents=True)
    shutil.copy(untrained_params, target)
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://127.0.0.1:9/")  # a download would fail
    events = []
    resolved = run_to_end(weights.iter_zoo_weights(MODEL), on_progress=events.append)
    assert resolved.path == target and events == []


def test_truncated_download_leaves_nothing(zoo_server):
    zip_path, _ = zoo_server
    data = zip_path.read_bytes()
    zip_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="not a complete weights archive") as err:
        run_to_end(weights.iter_zoo_weights(MODEL))
    assert str(zip_path.name) in str(err.value) or "gluon/models" in str(err.value)
    assert _cache_files() == []


def test_wrong_hash_leaves_nothing(zoo_server, monkeypatch):
    monkeypatch.setattr(weights, "zoo_sha1", lambda name: zoo_server[1][:8] + "0" * 32)
    # same short name, so the mirror's file is found, but its content does not match
    with pytest.raises(WeightsError, match="expected") as err:
        run_to_end(weights.iter_zoo_weights(MODEL))
    assert "Nothing was saved" in str(err.value)
    assert _cache_files() == []


def test_corrupt_cached_file_is_replaced(zoo_server):
    _, expected = zoo_server
    target = weights.cache_dir() / f"{MODEL}-{expected[:8]}.params"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"half a file")
    resolved = run_to_end(weights.iter_zoo_weights(MODEL))
    assert sha1(resolved.path) == expected


def test_server_down_says_how_to_work_offline(monkeypatch, small_dog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MXNET_GLUON_REPO", f"http://127.0.0.1:{port}/mirror")
    with pytest.raises(WeightsUnavailableError) as err:
        segment_image(small_dog)
    msg = str(err.value)
    assert f"http://127.0.0.1:{port}/mirror/gluon/models/fcn_resnet50_ade-3479525a.zip" in msg
    assert "fcn_resnet50_ade-3479525a.params" in msg
    assert str(weights.cache_dir()) in msg
    assert "MXNET_HOME" in msg and "MXNET_GLUON_REPO" in msg and "--weights" in msg
    assert "unzip it" in msg  # the .zip is not the .params file
    # for a user who installed with pip (no Makefile): the CLI, the widget and Python
    assert "--weights PATH" in msg and "'weights file'" in msg and "weights=PATH" in msg
    assert "make " not in msg
    assert _cache_files() == []


def test_missing_local_file(small_dog, tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        segment_image(small_dog, weights=tmp_path / "nope.params")


def test_corrupt_local_file(small_dog, tmp_path):
    bad = tmp_path / "corrupt.params"
    bad.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(WeightsError, match=r"(?i)not a readable mxnet \.params file") as err:
        segment_image(small_dog, weights=bad)  # engine auto: the export's child process says it
    assert str(bad) in str(err.value)


def test_truncated_local_file(small_dog, tmp_path, untrained_params):
    bad = tmp_path / "truncated.params"
    bad.write_bytes(untrained_params.read_bytes()[:100_000])
    with pytest.raises(WeightsError, match="Cannot load weights file") as err:
        segment_image(small_dog, weights=bad, engine="onnxruntime")  # the same message in process
    assert str(bad) in str(err.value)


def test_weights_of_another_class_count(small_dog, tmp_path):
    path = tmp_path / "fcn_voc.params"  # FCN-ResNet50 with VOC's 21 classes
    params = untrained.untrained_params(MODEL)
    for head in ("head", "auxlayer"):
        params[f"{head}.block.4.weight"] = params[f"{head}.block.4.weight"][:21]
        params[f"{head}.block.4.bias"] = params[f"{head}.block.4.bias"][:21]
    write_params(path, params)
    with pytest.raises(WeightsError, match="other shapes") as err:
        segment_image(small_dog, weights=path, engine="onnxruntime")
    assert "150 classes" in str(err.value) and str(path) in str(err.value)


def test_weights_of_another_architecture(small_dog, untrained_weights):
    path = untrained_weights("psp_resnet50_ade")  # the session's, shared with test_models
    with pytest.raises(WeightsError, match="Cannot load weights file") as err:
        segment_image(small_dog, weights=path, engine="onnxruntime")
    assert "another architecture" in str(err.value) or "other shapes" in str(err.value)


def _integer_weights(folder: Path, case: str) -> Path:
    """fastscnn_citys (the smallest model) with every array uint8, or one array int32."""
    params = untrained.untrained_params("fastscnn_citys")
    if case == "all uint8":
        params = {name: (value * 100).astype(np.uint8) for name, value in params.items()}
    else:
        params["classifier.conv.weight"] = params["classifier.conv.weight"].astype(np.int32)
    path = folder / "quantized.params"
    write_params(path, params)
    return path


@pytest.mark.parametrize("case", ["all uint8", "one int32"])
@pytest.mark.parametrize("engine", ["onnxruntime", pytest.param("mxnet", marks=needs_mxnet)])
def test_weights_of_an_integer_type_are_refused_by_name_on_both_engines(
    small_dog, tmp_path, case, engine
):
    """Unchecked, onnxruntime casts them to float and labels every pixel alike, and MXNet
    refuses them as 'weights of other shapes'."""
    path = _integer_weights(tmp_path, case)
    with pytest.raises(WeightsError, match="non-float data type") as err:
        segment_image(small_dog, "fastscnn_citys", weights=path, engine=engine)
    message = str(err.value)
    assert str(path) in message and "other shapes" not in message
    named = "classifier.conv.weight (int32)" if case == "one int32" else "(uint8)"
    assert named in message


@needs_mxnet
def test_mxnet_names_weights_of_another_float_type_as_such(small_dog, tmp_path):
    """float64 weights: onnxruntime's builder casts them, MXNet refuses them, naming the type,
    not as 'weights of other shapes', which would send the user after the wrong model."""
    params = untrained.untrained_params("fastscnn_citys")
    path = tmp_path / "double.params"
    write_params(path, {name: value.astype(np.float64) for name, value in params.items()})
    with pytest.raises(WeightsError, match="float64") as err:
        segment_image(small_dog, "fastscnn_citys", weights=path, engine="mxnet")
    assert str(path) in str(err.value) and "other shapes" not in str(err.value)


class _TrickleHandler(http.server.BaseHTTPRequestHandler):
    """A mirror that announces a big file and sends a byte every 0.2 s."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            for _ in range(200):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:  # the client gave up: what we want
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def trickle_server(monkeypatch):
    with zoo_mirror(_TrickleHandler, monkeypatch):
        yield


def test_trickling_mirror_ends_at_the_minimum_rate(trickle_server, monkeypatch):
    monkeypatch.setenv("GLUONSEG_DOWNLOAD_MIN_RATE", "100")  # bytes/s
    monkeypatch.setenv("GLUONSEG_DOWNLOAD_GRACE", "1.5")
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError, match="GLUONSEG_DOWNLOAD_MIN_RATE") as err:
        run_to_end(weights.iter_zoo_weights(MODEL))
    assert time.monotonic() - start < 8
    assert "127.0.0.1" in str(err.value) and _cache_files() == []


def test_trickling_mirror_ends_at_the_deadline(trickle_server):
    limits = weights.DownloadLimits(deadline_s=1.5, min_rate=0)
    start = time.monotonic()
    with pytest.raises(WeightsUnavailableError, match="GLUONSEG_DOWNLOAD_TIMEOUT"):
        run_to_end(weights.iter_zoo_weights(MODEL, limits))
    assert time.monotonic() - start < 8 and _cache_files() == []


class _HeaderTrickleHandler(http.server.BaseHTTPRequestHandler):
    """A mirror that sends one header line every ``interval`` s for ``lines`` lines (6 s),
    then an empty body."""

    interval = 0.5
    lines = 12

    def do_GET(self):
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\n")
            for k in range(self.lines):
                self.wfile.write(f"X-Slow-{k}: y\r\n".encode())
                self.wfile.flush()
                time.sleep(self.interval)
            self.wfile.write(b"Content-Length: 0\r\n\r\n")
        except OSError:  # the client gave up: what we want
            pass

    def log_message(self, *args):
        pass


def test_a_mirror_trickling_its_headers_ends_at_the_deadline(monkeypatch):
    """Each header line came within the read timeout, so nothing ended the download."""
    limits = weights.DownloadLimits(deadline_s=1.5, min_rate=0)
    start = time.monotonic()
    with (
        zoo_mirror(_HeaderTrickleHandler, monkeypatch),
        pytest.raises(WeightsUnavailableError, match="GLUONSEG_DOWNLOAD_TIMEOUT"),
    ):
        run_to_end(weights.iter_zoo_weights(MODEL, limits))
    assert time.monotonic() - start < 8 and _cache_files() == []


def test_a_mirror_trickling_its_headers_ends_at_the_stall_window(monkeypatch):
    """Headers get the body's stall deadline (one GLUONSEG_DOWNLOAD_GRACE window, default
    30 s), not only the whole download's (GLUONSEG_DOWNLOAD_TIMEOUT, default 3600 s)."""
    monkeypatch.delenv("GLUONSEG_DOWNLOAD_TIMEOUT", raising=False)
    monkeypatch.delenv("GLUONSEG_DOWNLOAD_MIN_RATE", raising=False)
    monkeypatch.setenv("GLUONSEG_DOWNLOAD_GRACE", "1")
    start = time.monotonic()
    with (
        zoo_mirror(_HeaderTrickleHandler, monkeypatch),
        pytest.raises(WeightsUnavailableError, match="GLUONSEG_DOWNLOAD_GRACE=1 s") as err,
    ):
        run_to_end(weights.iter_zoo_weights(MODEL))
    assert time.monotonic() - start < 3 and _cache_files() == []
    assert "no complete response headers within 1 s" in str(err.value)


def test_without_a_minimum_rate_headers_wait_for_the_deadline_only(monkeypatch):
    """GLUONSEG_DOWNLOAD_MIN_RATE=0 turns the stall check off, for the headers too."""
    limits = weights.DownloadLimits(deadline_s=30, min_rate=0, grace_s=0.3)
    quicker = type("Quicker", (_HeaderTrickleHandler,), {"interval": 0.2, "lines": 4})
    with (
        zoo_mirror(quicker, monkeypatch),
        pytest.raises(WeightsUnavailableError, match="not a complete weights archive"),
    ):
        run_to_end(weights.iter_zoo_weights(MODEL, limits))  # the headers came, the body empty


def test_default_limits_end_a_trickle_within_two_minutes(monkeypatch):
    for name in ("TIMEOUT", "MIN_RATE", "GRACE"):
        monkeypatch.delenv(f"GLUONSEG_DOWNLOAD_{name}", raising=False)
    limits = weights.DownloadLimits.from_env()
    # a byte every few seconds is far below the rate, which is checked after the grace period
    assert limits.min_rate >= 1000 and limits.grace_s + weights.READ_TIMEOUT_S <= 120
    monkeypatch.setenv("GLUONSEG_DOWNLOAD_TIMEOUT", "soon")
    with pytest.raises(WeightsError, match=r"GLUONSEG_DOWNLOAD_TIMEOUT.*'soon'"):
        weights.DownloadLimits.from_env()


def test_stale_download_folders_are_cleaned(zoo_server):
    import subprocess

    cache = weights.cache_dir()
    cache.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = cache / f".download-{dead.pid}-0123abcd"  # left by a killed run
    stale.mkdir()
    (stale / "weights.zip").write_bytes(b"x" * 1000)
    live = cache / f".download-{os.getpid()}-4567cdef"  # another download, still running
    live.mkdir()
    run_to_end(weights.iter_zoo_weights(MODEL))
    assert not stale.exists() and live.exists()


def test_a_cache_folder_that_cannot_be_written_says_so_before_downloading(
    fresh_model_cache, small_dog
):
    """A read-only cache: said before the download, not a raw OSError."""
    fresh_model_cache.mkdir(parents=True)
    (fresh_model_cache / "models").write_text("a file where the folder would be")
    with pytest.raises(WeightsUnavailableError, match="Cannot write into the weights cache"):
        segment_image(small_dog)


def test_a_folder_under_the_weights_file_name_is_named(zoo_server):
    """Named before the download, not a raw IsADirectoryError after the whole of it."""
    _, expected = zoo_server
    folder = weights.cache_dir() / f"{MODEL}-{expected[:8]}.params"
    folder.mkdir(parents=True)
    events = []
    with pytest.raises(WeightsUnavailableError, match="is a folder") as err:
        run_to_end(weights.iter_zoo_weights(MODEL), on_progress=events.append)
    assert str(folder) in str(err.value) and events == []  # said before downloading
    assert folder.is_dir()  # never removed for the user: it may hold their files


class _FullDisk(io.FileIO):
    """A file on a disk with no space left."""

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("step", ["download", "unzip"])
def test_a_full_disk_says_so(zoo_server, monkeypatch, step):
    """Named as a full disk, not as "not a complete weights archive" (download it again)."""
    if step == "download":
        monkeypatch.setattr(weights, "open", _FullDisk, raising=False)  # the module's open()
    else:  # the unzip's writes (shutil's own is left alone: the test server sends with it)

        def copy_to_a_full_disk(src, dst, length):
            raise OSError(errno.ENOSPC, "No space left on device")

        copy = types.SimpleNamespace(copyfileobj=copy_to_a_full_disk)
        monkeypatch.setattr(weights, "shutil", copy)
    with pytest.raises(WeightsUnavailableError, match="disk is full") as err:
        run_to_end(weights.iter_zoo_weights(MODEL))
    assert str(weights.cache_dir()) in str(err.value)
    assert "not a complete weights archive" not in str(err.value)
    assert _cache_files() == []
