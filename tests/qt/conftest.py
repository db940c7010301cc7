"""Widget tests take their viewer from a pool kept across tests (``make_viewer``), compute in the
GUI thread unless threading is what they test, and hold the worker of a run they act on
mid-way (``held_run``)."""

from __future__ import annotations

import itertools
import threading

import pytest

from napari_gluonseg.qt.threads import NOTHREADS_VARIABLE

from .viewers import ViewerPool


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[_CALL_PASSED] = report.passed
    return report


_CALL_PASSED = pytest.StashKey[bool]()


@pytest.fixture(scope="session")
def _viewer_pool(qapp):
    with pytest.MonkeyPatch.context() as mp:
        try:  # as napari's make_napari_viewer does: no status thread in tests
            from napari._qt.threads.status_checker import StatusChecker

            mp.setattr(StatusChecker, "start", lambda *_, **__: None)
        except ImportError:  # napari < 0.6 has none
            pass
        pool = ViewerPool()
        yield pool
        pool.close_all()


@pytest.fixture
def make_viewer(_viewer_pool, qtbot, request):
    """``make_viewer(show=False)``: a hidden napari viewer, perhaps one an earlier test used and
    handed back empty (:mod:`.viewers`); ``show=True``: a new shown one, where the canvas must
    map the mouse as on a desktop."""
    taken = []

    def make(show: bool = False):
        taken.append(_viewer_pool.take(show))
        return taken[-1]

    yield make
    passed = request.node.stash.get(_CALL_PASSED, False)
    for viewer in taken:
        _viewer_pool.give_back(viewer, reuse=passed)


@pytest.fixture(autouse=True)
def _compute_in_the_gui_thread(request, monkeypatch):
    """NOTHREADS_VARIABLE set: a run computes before the click returns (no worker to wait for).
    Tests marked ``threads`` (Cancel, closing mid-run, responsiveness) keep the worker."""
    if request.node.get_closest_marker("threads") is None:
        monkeypatch.setenv(NOTHREADS_VARIABLE, "1")
    else:
        monkeypatch.delenv(NOTHREADS_VARIABLE, raising=False)


HOLD_LIMIT_S = 60.0  # a held worker gives up (failing its run) if the test never releases it


class HeldRun:
    """A run's worker held inside a network call until :meth:`release`: the run is surely
    mid-way when the test acts, on a fast machine or a busy one (see :func:`held_run`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, after_calls: int) -> None:
        from napari_gluonseg.core.models.engines.onnx import OnnxNetwork

        self.entered = threading.Event()  # the worker is waiting inside a network call
        self._released = threading.Event()
        calls = itertools.count()
        logits = OnnxNetwork.logits

        def held(net: OnnxNetwork, batch):
            if next(calls) >= after_calls and not self._released.is_set():
                self.entered.set()
                if not self._released.wait(HOLD_LIMIT_S):
                    raise AssertionError(f"the test never released the run ({HOLD_LIMIT_S} s)")
            return logits(net, batch)

        monkeypatch.setattr(OnnxNetwork, "logits", held)

    def release(self) -> None:
        self._released.set()


@pytest.fixture
def held_run(monkeypatch):
    """``held_run(after_calls=1)``: onnxruntime runs of this test stop in their network call number
    ``after_calls + 1`` (planes before it are done) until the test calls ``release()``; a test
    that fails before releasing frees the worker at teardown."""
    made: list[HeldRun] = []

    def hold(after_calls: int = 1) -> HeldRun:
        made.append(HeldRun(monkeypatch, after_calls))
        return made[-1]

    yield hold
    for run in made:
        run.release()


@pytest.fixture(autouse=True)
def _fresh_dock_settings(monkeypatch):
    """Each test starts with the docks' defaults (a session remembers the last choices)."""
    from napari_gluonseg.qt import controls

    monkeypatch.setattr(controls, "_remembered", {})


@pytest.fixture
def viewer(make_viewer, request):
    """A hidden viewer; a shown one where the test module sets ``SHOWN_VIEWER`` (the canvas then
    maps the mouse as on a desktop)."""
    return make_viewer(show=getattr(request.module, "SHOWN_VIEWER", False))


@pytest.fixture
def dog_layer(viewer, small_dog):
    """The small dog photo, scaled and moved: world (12, 22) is its pixel (4, 4)."""
    return viewer.add_image(small_dog, name="dog", scale=(0.5, 0.5), translate=(10, 20))


@pytest.fixture
def gl_draw_errors():
    """What vispy logs when a canvas fails to draw (a GLError caught in its paint event; the
    same state ended napari with an abort in Mesa on a busier machine)."""
    import logging

    seen: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "Error drawing visual" in record.getMessage():
                seen.append(record.getMessage())

    handler, logger = Catch(), logging.getLogger("vispy")
    logger.addHandler(handler)
    yield seen
    logger.removeHandler(handler)


@pytest.fixture
def correct(viewer):
    """The "Correct labels" dock as napari's plugin menu opens it: built with a proxy of the
    viewer, whose layers are proxies too (a proxy is not the layer, and a new one comes with each
    access)."""
    _, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Correct labels")
    return widget


@pytest.fixture
def review_folder(tmp_path, untrained_params):
    """A folder of images and their batch results (at the images' size, min_confidence 0.02:
    unlabeled pixels), as the review dock opens them."""
    from napari_gluonseg.core.batch.folder import segment_folder

    from ..core.batch.test_review import make_folder
    from .helpers import RUN

    images = make_folder(tmp_path / "images")
    results = tmp_path / "results"
    segment_folder(images, results, weights=untrained_params, min_confidence=0.02, **RUN)
    return images, results
