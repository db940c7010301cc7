"""Widget tests compute in the GUI thread unless threading is what they test."""

from __future__ import annotations

import pytest

from napari_gluonseg.qt.threads import NOTHREADS_VARIABLE


@pytest.fixture(autouse=True)
def _compute_in_the_gui_thread(request, monkeypatch):
    """NOTHREADS_VARIABLE set: a run computes before the click returns (no worker to wait for).
    Tests marked ``threads`` (Cancel, closing mid-run, responsiveness) keep the worker."""
    if request.node.get_closest_marker("threads") is None:
        monkeypatch.setenv(NOTHREADS_VARIABLE, "1")
    else:
        monkeypatch.delenv(NOTHREADS_VARIABLE, raising=False)
