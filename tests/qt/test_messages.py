"""The docks' message areas as napari opens the docks: shown while they hold text, one line
tall for one line, hidden when emptied."""

from __future__ import annotations

import pytest

from napari_gluonseg.qt.messages import MessageArea

from ..core.batch.test_review import make_folder
from .helpers import open_dock

DOCKS = ["Semantic segmentation", "Correct labels", "Review folder"]


def areas_of(widget) -> list[MessageArea]:
    found = [value for value in vars(widget).values() if isinstance(value, MessageArea)]
    assert found, f"{type(widget).__name__} has no message area"
    return found


@pytest.mark.parametrize("name", DOCKS)
def test_a_message_area_shows_each_text_it_is_given(make_viewer, name):
    """magicgui's ``changed`` does not fire on ``value =``: one-line messages stayed hidden."""
    widget = open_dock(make_viewer(), name)
    for area in areas_of(widget):
        area.value = ""
        assert area.native.isHidden()
        area.value = "one line"
        assert not area.native.isHidden()
        one_line = area.native.height()
        assert one_line >= area.native.fontMetrics().lineSpacing()
        area.value = "first\nsecond\nthird"
        assert area.native.height() > one_line
        area.value = ""
        assert area.native.isHidden()


def test_the_review_dock_says_there_is_no_image_past_the_last(make_viewer, tmp_path):
    widget = open_dock(make_viewer(), "Review folder")
    images = make_folder(tmp_path / "images")
    widget.open_folder(images, tmp_path / "results")
    for _ in range(len(widget.session.items) + 1):
        widget._next.clicked.emit()
    assert widget._status.value == "No more images this way."
    assert not widget._status.native.isHidden()
