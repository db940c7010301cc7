"""Knowing when the widget is gone: napari's dock close button (title-bar X) takes the widget out
of the window without deleting it, so ``destroyed`` alone never fires (napari 0.5-0.9).

The callback runs once. After it, the ``destroyed`` connection is cut: deleting the widget may
happen while Python collects it, and calling back into a half-collected dock crashed Python
3.13 (seen in the test suite, PyQt6 6.11).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject
from qtpy.QtWidgets import QWidget


class _RemovalWatcher(QObject):
    """Calls back once when ``widget`` loses the parent it was docked in, or is destroyed."""

    def __init__(self, widget: QWidget, on_removed: Callable[[], None]) -> None:
        super().__init__(widget)
        self._on_removed: Callable[[], None] | None = on_removed
        self._widget = widget
        self._was_docked = widget.parent() is not None
        widget.installEventFilter(self)
        widget.destroyed.connect(self._on_destroyed)

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if obj is not None and event is not None and event.type() == QEvent.Type.ParentChange:
            if obj.parent() is not None:
                self._was_docked = True
            elif self._was_docked:
                self._fire()
        return False

    def _on_destroyed(self, *_: object) -> None:
        self._fire()

    def _fire(self) -> None:
        callback, self._on_removed = self._on_removed, None
        if callback is None:
            return
        with contextlib.suppress(TypeError, RuntimeError):  # already cut, or already deleted
            self._widget.destroyed.disconnect(self._on_destroyed)
        callback()


def watch_removal(widget: QWidget, on_removed: Callable[[], None]) -> QObject:
    """Call ``on_removed`` when ``widget`` is undocked for good (closed) or deleted."""
    return _RemovalWatcher(widget, on_removed)
