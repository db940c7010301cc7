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


def _shown_in_its_dock(widget, part) -> bool:
    """Whether ``part`` of a dock lies within what its scroll area shows now."""
    from qtpy.QtCore import QPoint, QRect

    area = widget.native  # the scroll area napari docks
    corner = part.native.mapTo(area.viewport(), QPoint(0, 0))
    return area.viewport().rect().contains(QRect(corner, part.native.size()))


def test_three_docks_on_a_720_pixel_screen_are_tabs_each_with_its_buttons_in_view(
    qtbot, make_viewer
):
    """Stacked, the three docks left each two rows and Run scrolled out of sight."""
    viewer = make_viewer(show=True)
    viewer.window._qt_window.resize(1280, 720)
    docks = {name: open_dock(viewer, name) for name in DOCKS}
    qtbot.wait(50)
    parts = {
        "Semantic segmentation": "_run",
        "Correct labels": "_clean",
        "Review folder": "_next",
    }
    for name, widget in docks.items():
        widget.native.parentWidget().raise_()  # its tab clicked
        qtbot.wait(20)
        assert widget.native.isVisible(), name
        assert _shown_in_its_dock(widget, getattr(widget, parts[name])), name
    assert viewer.window._qt_window.height() <= 720


def test_a_tall_dock_keeps_its_controls_together_at_the_top(qtbot, make_viewer):
    """Spare height was spread between the rows: ~120 px bands around the class list."""
    viewer = make_viewer(show=True)
    viewer.window._qt_window.resize(1500, 1100)
    widget = open_dock(viewer, "Semantic segmentation")
    qtbot.wait(50)
    inner = widget.native.widget()

    def top(part) -> int:
        return part.native.mapTo(inner, part.native.rect().topLeft()).y()

    def bottom(part) -> int:
        return part.native.mapTo(inner, part.native.rect().bottomLeft()).y()

    c = widget.controls
    assert widget.native.viewport().height() > bottom(widget._progress) + 200  # spare height
    assert top(c.classes._select) - bottom(c.classes._filter) < 30
    assert top(c.only_picked) - bottom(c.classes._select) < 30
    assert top(widget._run) - bottom(c.only_picked) < 80  # the map boxes between
