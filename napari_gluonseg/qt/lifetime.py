"""Knowing when the widget is gone: napari's dock close button (title-bar X) takes the widget out
of the window without deleting it, so ``destroyed`` alone never fires (napari 0.5-0.9)."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject
from qtpy.QtWidgets import QWidget


class _RemovalWatcher(QObject):
    """Calls back once when ``widget`` loses the parent it was docked in, or is destroyed."""

    def __init__(self, widget: QWidget, on_removed: Callable[[], None]) -> None:
        super().__init__(widget)
        self._on_removed = on_removed
        self._was_docked = widget.parent() is not None
        widget.installEventFilter(self)
        widget.destroyed.connect(lambda *_: on_removed())

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if obj is not None and event is not None and event.type() == QEvent.Type.ParentChange:
            if obj.parent() is not None:
                self._was_docked = True
            elif self._was_docked:
                self._on_removed()
        return False


def watch_removal(widget: QWidget, on_removed: Callable[[], None]) -> QObject:
    """Call ``on_removed`` when ``widget`` is undocked for good (closed) or deleted."""
    return _RemovalWatcher(widget, on_removed)
