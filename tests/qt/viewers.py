"""A hidden napari viewer kept across tests: making and closing one costs ~1.3 s, more than most
dock tests take. A test hands it back emptied: no layers, docks or windows of its own, the view,
key bindings and mouse callbacks as new (checked), settings reset. A viewer that cannot be
emptied, or whose test failed, is closed instead, and the next test gets a new one."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

# The viewer's models a test may change, put back as they were when the viewer was made:
# where napari 0.9 keeps each, then where older releases do.
_MODELS = (
    ("dims",),
    ("cursor",),
    ("scene.camera", "camera"),
    ("canvas.grid", "grid"),
    ("canvas.overlays.scale_bar", "scale_bar"),
    ("canvas.overlays.text", "text_overlay"),
)


@dataclass
class _Taken:
    show: bool
    fresh: dict[str, Any]  # the viewer's state when it was made
    windows_before: set  # top-level widgets before the test


class ViewerPool:
    """Hands out viewers (:meth:`take`) and keeps one hidden viewer between tests
    (:meth:`give_back`). A shown viewer is made new for each test: one emptied and drawn again
    crashed in Mesa's glDrawArrays (Xvfb, llvmpipe) after a few correct-dock tests, drawing the
    box (a vispy Rectangle) of a napari canvas overlay still in the scene with no layer left."""

    def __init__(self) -> None:
        self._idle: tuple[Any, dict[str, Any]] | None = None  # a hidden viewer, its state new
        self._taken: dict[int, _Taken] = {}

    def take(self, show: bool) -> Any:
        from qtpy.QtWidgets import QApplication

        if not show and self._idle is not None:
            viewer, fresh = self._idle
            self._idle = None
        else:
            viewer = _new_viewer(show)
            fresh = _state(viewer)
        self._taken[id(viewer)] = _Taken(show, fresh, set(QApplication.topLevelWidgets()))
        return viewer

    def give_back(self, viewer: Any, reuse: bool) -> None:
        """Empty ``viewer`` for the next test, or close it (``reuse`` False, a shown viewer,
        one hidden viewer already kept, or it cannot be emptied)."""
        taken = self._taken.pop(id(viewer))
        if not _is_open(viewer):  # the test closed it
            return
        if reuse and not taken.show and self._idle is None:
            try:
                reuse = _empty(viewer, taken)
            except Exception:  # a test left the viewer broken: the next test gets a new one
                reuse = False
            if reuse:
                self._idle = (viewer, taken.fresh)
                return
        viewer.close()

    def close_all(self) -> None:
        if self._idle is not None:
            self._idle[0].close()
            self._idle = None


def _new_viewer(show: bool) -> Any:
    import inspect

    import napari

    kwargs: dict[str, Any] = {"show": show}
    if "show_welcome_screen" in inspect.signature(napari.Viewer).parameters:
        kwargs["show_welcome_screen"] = False  # napari >= 0.6: it would cover the canvas
    return napari.Viewer(**kwargs)


def _is_open(viewer: Any) -> bool:
    return hasattr(viewer.window, "_qt_window")  # napari deletes it as the viewer closes


def _model(viewer: Any, places: tuple[str, ...]) -> Any:
    for place in places[:-1]:
        try:
            return attrgetter(place)(viewer)
        except AttributeError:
            continue
    return attrgetter(places[-1])(viewer)


def _state(viewer: Any) -> dict[str, Any]:
    from qtpy.QtWidgets import QDockWidget

    window = viewer.window._qt_window
    state = {places[-1]: _model(viewer, places).dict() for places in _MODELS}
    state["size"] = window.size()
    state["docks"] = sorted(d.objectName() for d in window.findChildren(QDockWidget))
    state["keys"] = sorted(map(str, viewer.keymap))  # the review dock binds keys on the viewer
    state["mouse"] = [
        list(getattr(viewer, f"mouse_{kind}_callbacks")) for kind in ("drag", "move", "wheel")
    ]
    return state


def _empty(viewer: Any, taken: _Taken) -> bool:
    """Take out what the test put in and put the view back; True if the viewer is now as it
    was made."""
    from napari.settings import get_settings
    from qtpy.QtCore import QEvent
    from qtpy.QtWidgets import QApplication

    viewer.window.remove_dock_widget("all")
    viewer.layers.clear()
    for places in _MODELS:
        model, fresh = _model(viewer, places), taken.fresh[places[-1]]
        if model.dict() != fresh:
            model.update(fresh)
    viewer.window._qt_window.resize(taken.fresh["size"])
    get_settings().reset()
    # Docks the test made but never docked are windows of their own: delete them now, so they
    # let go of the viewer's events (as a closed dock does) before the next test.
    for widget in set(QApplication.topLevelWidgets()) - taken.windows_before:
        if widget.parent() is None:
            widget.close()
            widget.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QApplication.processEvents()
    return _state(viewer) == taken.fresh
