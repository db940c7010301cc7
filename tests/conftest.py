"""Shared fixtures: untrained networks of the real architecture saved as .params files (by the
package's own writer: no MXNet needed), and the marker of tests that compare with MXNet."""

from __future__ import annotations

import contextlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from napari_gluonseg.core.models import _mxnet, untrained

DATA = Path(__file__).resolve().parent / "data"  # dog.jpg: the reference workflow's photo
MODEL = "fcn_resnet50_ade"
BICYCLE = 127  # 'bicycle, bike, wheel, cycle'

# Tests that compare with MXNet/GluonCV run on the Python 3.11 leg (make test runs both legs).
needs_mxnet = pytest.mark.skipif(
    not _mxnet.installed(),
    reason="compares with MXNet: needs the [mxnet] extra (Python 3.11; make test's first leg)",
)


def pytest_configure(config):
    """napari's settings kept in memory for the test process, never read from or saved to the
    user's file: napari saves the window's size when a viewer closes (a benchmark's, a
    screenshot's), and a viewer made later starts at that size, squeezing the canvas beside a
    dock (61 px wide, seen: clicks then miss)."""
    from napari import settings

    assert settings._SETTINGS is None, "napari's settings were read before the tests began"
    settings.get_settings(path=None)


@pytest.fixture(scope="session")
def model_home(tmp_path_factory) -> Path:
    """The session's MXNET_HOME: an ONNX export made by one test serves every later test (an
    export takes ~10 s). Only exports may be kept there (checked after every test)."""
    return tmp_path_factory.mktemp("mxnet_home")


@pytest.fixture(autouse=True)
def _isolated_model_cache(model_home, monkeypatch):
    """No test reads or writes the user's ~/.mxnet, and no test reaches the internet."""
    monkeypatch.setenv("MXNET_HOME", str(model_home))
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://127.0.0.1:9/")  # discard port: refused
    yield
    models = model_home / "models"
    kept = sorted(p.relative_to(models).as_posix() for p in models.rglob("*"))
    assert all(k == "onnx" or (k.startswith("onnx/") and k.endswith(".onnx")) for k in kept), (
        f"the shared model cache may hold only ONNX exports, found {kept}: "
        "a test that writes weights or damages exports uses fresh_model_cache"
    )


@pytest.fixture
def fresh_model_cache(tmp_path, monkeypatch) -> Path:
    """An empty MXNET_HOME of this test's own: for tests that write or inspect the cache."""
    home = tmp_path / "mxnet_home"
    monkeypatch.setenv("MXNET_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def untrained_params(tmp_path_factory) -> Path:
    """fcn_resnet50_ade with random weights (the real architecture, untrained)."""
    path = tmp_path_factory.mktemp("weights") / "untrained_fcn_resnet50_ade.params"
    untrained.save_untrained(MODEL, path)
    return path


@pytest.fixture(scope="session")
def bicycle_params(tmp_path_factory) -> Path:
    """fcn_resnet50_ade whose head says 'bicycle' (class 127) everywhere, by construction."""
    from napari_gluonseg.core.models.params_file import write_params

    params = untrained.untrained_params(MODEL)
    params["head.block.4.weight"][:] = 0  # the 1x1 conv producing the class logits
    params["head.block.4.bias"][:] = 0
    params["head.block.4.bias"][BICYCLE] = 10.0
    path = tmp_path_factory.mktemp("weights") / "bicycle_fcn_resnet50_ade.params"
    write_params(path, params)
    return path


@pytest.fixture(scope="session")
def dog() -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(DATA / "dog.jpg"))


@pytest.fixture(scope="session")
def small_dog(dog) -> np.ndarray:
    """dog.jpg at 1/8 size (72x96): fast forward passes."""
    return np.ascontiguousarray(dog[::8, ::8])


@pytest.fixture(scope="session")
def onnx_home(model_home, untrained_params) -> Path:
    """The session's MXNET_HOME with the dynamic ONNX export of ``untrained_params`` in it
    (made once; tests that change the cache use ``fresh_model_cache`` and copy it)."""
    from napari_gluonseg.core.models.engines import NetworkRequest, load_network
    from napari_gluonseg.core.models.weights import resolve_local_weights

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MXNET_HOME", str(model_home))
        request = NetworkRequest(MODEL, resolve_local_weights(untrained_params), 64, 64)
        load_network("onnxruntime", request)
    return model_home


@pytest.fixture
def use_onnx_home(onnx_home, monkeypatch) -> Path:
    """This test's cache is the session's one, with the export of ``untrained_params`` in it."""
    monkeypatch.setenv("MXNET_HOME", str(onnx_home))
    return onnx_home


@pytest.fixture(scope="session")
def exported_onnx(onnx_home, untrained_params) -> Path:
    """The session's dynamic export of ``untrained_params``: a portable model file."""
    from napari_gluonseg.core.models.weights import file_sha1

    return onnx_home / "models" / "onnx" / f"{MODEL}-{file_sha1(untrained_params)[:12]}.onnx"


@pytest.fixture(scope="session")
def untrained_weights(tmp_path_factory):
    """``untrained_weights(model_name)``: a .params file of that model with random weights
    (the real architecture, untrained), written once per session."""
    made: dict[str, Path] = {}
    folder = tmp_path_factory.mktemp("untrained")

    def get(model_name: str) -> Path:
        if model_name not in made:
            path = folder / f"untrained_{model_name}.params"
            untrained.save_untrained(model_name, path)
            made[model_name] = path
        return made[model_name]

    return get


@pytest.fixture
def our_plugin(npe2pm):
    """npe2's plugin manager for this test (napari's test fixtures block plugin discovery)
    with this package's manifest registered: readers and writers as napari finds them."""
    import npe2

    if "napari-gluonseg" not in npe2pm:
        npe2pm.register(npe2.PluginManifest.from_distribution("napari-gluonseg"))
    return npe2pm


# Fixtures that hand out the session's ONNX export (see onnx_home).
_ONNX_FIXTURES = {"onnx_home", "use_onnx_home", "exported_onnx"}


def pytest_itemcollected(item):
    """Under make test's two processes (``--dist loadgroup``) the tests that use the ONNX
    export run in one of them, so the export is made once, not once per process. (Marked as
    each test is collected, before pytest_collection_modifyitems, where pytest-xdist reads
    the groups.)"""
    if _ONNX_FIXTURES & set(getattr(item, "fixturenames", ())):
        item.add_marker(pytest.mark.xdist_group("onnx"))


def pytest_collection_finish(session):
    """napari collects garbage whenever a viewer closes (and its viewer fixture twice more per
    test), each a scan of every live object: the modules most tests load (onnx, onnxruntime,
    MXNet and GluonCV where installed, napari's Qt viewer, the docks) are imported now and
    frozen with the rest, so those scans skip them."""
    import gc

    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401

    if _mxnet.installed():
        _mxnet.gluoncv()  # and mxnet
    if any(item.path.parent.name == "qt" for item in session.items):
        import napari.viewer  # noqa: F401  (the Qt window comes with the first viewer)
        from napari._qt import qt_main_window  # noqa: F401

        import napari_gluonseg.qt.correct_widget
        import napari_gluonseg.qt.review_widget
        import napari_gluonseg.qt.segment_widget  # noqa: F401

    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def zoo_mirror(handler, monkeypatch):
    """A mirror of the zoo on 127.0.0.1 served by ``handler``, for weights whose sha1 nothing
    matches (their file: ``weights.zoo_file_name(MODEL)``, ending ``-00000000.params``)."""
    from napari_gluonseg.core.models import weights

    monkeypatch.setattr(weights, "zoo_sha1", lambda name: "0" * 40)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("MXNET_GLUON_REPO", f"http://127.0.0.1:{server.server_port}")
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


from .dataset_folder import results_to_export  # noqa: E402, F401 (a fixture: results to export)
from .learn_folder import reviewed  # noqa: E402, F401 (a fixture: a review folder to learn from)
