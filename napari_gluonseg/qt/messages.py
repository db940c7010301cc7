"""What keeps a dock on a small screen: a place for its long messages (errors with their advice,
a run's summary), wrapped to the dock's width, selectable and scrolled past a few lines, so that
a long message never widens the dock; and a dock whose controls scroll."""

from __future__ import annotations

from typing import Any

from magicgui.widgets import Container, TextEdit

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
        text.setVisible(bool(text.toPlainText()))
        document = text.document()
        document.setTextWidth(text.viewport().width())
        line = text.fontMetrics().lineSpacing()
        margins = 2 * (text.frameWidth() + int(document.documentMargin()))
        height = min(document.size().height(), self._max_lines * line + 4)
        text.setFixedHeight(int(height) + margins)


class ScrollingDock(Container):
    """A dock whose controls scroll where the screen is shorter than they are (1280x720 with
    Advanced open). magicgui puts a scroll area around a ``scrollable`` container, but napari
    docks its ``native``, the widget inside: this hands napari the scroll area."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(scrollable=True, **kwargs)

    @property
    def native(self) -> Any:
        return self.root_native_widget
