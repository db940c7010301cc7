"""A searchable multi-select of class names (magicgui's Select has no search box)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from magicgui.widgets import Container, LineEdit, Select


class ClassPicker(Container):
    """A filter box above a multi-select list; the selection survives any filtering.

    ``value`` is the chosen class names, in class order.
    """

    def __init__(self, class_names: Sequence[str] = (), label: str = "probability maps") -> None:
        self._filter = LineEdit(label="find class", tooltip="Type to filter the class list")
        self._select = Select(
            label=label,
            choices=list(class_names),
            tooltip="Classes to add probability maps for (Ctrl/Shift-click for several)",
        )
        self._select.native.setMinimumHeight(120)
        self._select.native.setMaximumHeight(150)  # with the search box, 150 rows fit here
        self._select.native.setMaximumWidth(360)
        super().__init__(widgets=[self._filter, self._select], labels=True)
        self._all: list[str] = list(class_names)
        self._chosen: list[str] = []
        self._updating = False
        self.on_chosen: list = []  # callbacks(chosen names), after every change of the choice
        self._filter.changed.connect(self._on_filter_changed)
        self._select.changed.connect(self._on_selection_changed)

    @property
    def value(self) -> list[str]:
        return list(self._chosen)

    @value.setter
    def value(self, names: Sequence[str]) -> None:
        self._chosen = [n for n in self._all if n in set(names)]
        self._refresh()
        self._notify()

    def set_class_names(self, class_names: Sequence[str]) -> None:
        """Switch to another model's classes, keeping the chosen names that still exist."""
        self._all = list(class_names)
        self.value = self._chosen

    def reset_choices(self, *_args: Any) -> None:
        """napari resets every docked widget's choices when layers change; a Select would fall
        back to the names it was built with, so keep ours (and the user's choice)."""
        self._refresh()

    def set_filter(self, text: str) -> None:
        self._filter.value = text

    def _on_filter_changed(self, _text: str) -> None:
        self._refresh()

    def _on_selection_changed(self, selected: Sequence[str]) -> None:
        if self._updating:
            return
        # Chosen names are always listed, so the list's selection is the whole choice.
        self._chosen = [n for n in self._all if n in set(selected)]
        self._notify()

    def _notify(self) -> None:
        for callback in self.on_chosen:
            callback(self.value)

    def _refresh(self) -> None:
        needle = self._filter.value.strip().lower()
        shown = [n for n in self._all if needle in n.lower() or n in self._chosen]
        self._updating = True
        try:
            if list(self._select.choices) != shown:
                # magicgui keeps items common to old and new choices in their old places.
                self._select.choices = []
                self._select.choices = shown
            self._select.value = [n for n in self._chosen if n in shown]
        finally:
            self._updating = False
