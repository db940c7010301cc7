"""What keeps a dock on a small screen: a place for its long messages (errors with their advice,
a run's summary), wrapped to the dock's width, selectable and scrolled past a few lines, so that
a long message never widens the dock; and a dock whose controls scroll, packed at its top."""

from __future__ import annotations

from typing import Any

from magicgui.widgets import Container, TextEdit
from qtpy.QtCore import QEvent, QObject, QTimer
from qtpy.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QWidget

MAX_LINES = 6


class MessageArea(TextEdit):
    """Read-only text as tall as its lines up to :data:`MAX_LINES` (then it scrolls); hidden
    while empty."""

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        from qtpy.QtCore import Qt
        from qtpy.QtWidgets import QFrame, QSizePolicy

        super().__init__(value="")
        self._max_lines = max_lines
        text = self.native
        text.setReadOnly(True)
        text.setFrameShape(QFrame.Shape.NoFrame)
        text.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        text.viewport().setAutoFillBackground(False)  # the dock's own background
        layout = text.document().documentLayout()
        layout.documentSizeChanged.connect(self._fit)  # a new width
        # New text, from Qt's own signal: magicgui's ``changed`` does not fire on ``value =``
        # (a hidden editor lays out nothing, so the size signal alone never shows it).
        text.textChanged.connect(self._fit)
        self._fit()

    def _fit(self, _value: Any = None) -> None:
        text = self.native
        # magicgui's setter hides the labelled row around it too (its spacing left a gap)
        self.visible = bool(text.toPlainText())
        document = text.document()
        document.setTextWidth(text.viewport().width())
        line = text.fontMetrics().lineSpacing()
        margins = 2 * (text.frameWidth() + int(document.documentMargin()))
        height = min(document.size().height(), self._max_lines * line + 4)
        text.setFixedHeight(int(height) + margins)


class ScrollingDock(Container):
    """A dock whose controls scroll where the screen is shorter than they are (1280x720 with
    Advanced open). magicgui puts a scroll area around a ``scrollable`` container, but napari
    docks its ``native``, the widget inside: this hands napari the scroll area.

    Docked where another of this plugin's docks is, it becomes a tab beside it: stacked, three
    docks left each two rows on a 720-pixel screen, Run scrolled out of sight."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(scrollable=True, **kwargs)
        # The controls keep their own heights at the top; a taller dock's spare height goes
        # below them (spread between them, it left ~120 px bands around the class list).
        self.root_native_widget.widget().layout().addStretch(1)
        self._docking = _DockingWatcher(self.root_native_widget)

    @property
    def native(self) -> Any:
        return self.root_native_widget


class _DockingWatcher(QObject):
    """Tabs ``widget``'s dock with another dock of this plugin in the same area, once docked."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self._widget = widget
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        if obj is self._widget and event is not None and event.type() == QEvent.Type.ParentChange:
            QTimer.singleShot(0, self._tab)  # napari places the dock after giving it its parent
        return False

    def _tab(self) -> None:
        dock = self._widget.parentWidget()
        if not isinstance(dock, QDockWidget) or dock.isFloating():
            return
        window = dock.parentWidget()
        if not isinstance(window, QMainWindow):
            return
        area = window.dockWidgetArea(dock)
        for other in window.findChildren(QDockWidget):
            inside = other.widget()
            ours = isinstance(inside, QScrollArea) and any(
                isinstance(child, _DockingWatcher) for child in inside.children()
            )
            if other is dock or not ours or other.isHidden() or other.isFloating():
                continue
            if window.dockWidgetArea(other) == area:
                window.tabifyDockWidget(other, dock)
                QTimer.singleShot(0, dock.raise_)  # the dock just opened is the tab shown
                return
