"""The "Correct labels" dock's counts, each computed in a worker (the latest asked for is the
one shown): the speckles "Clean speckles" would take (it labels the plane: ~0.4 s at 12 MP), and
the pixels set by hand and relabelled with the dock's tools (0.16 s at 12 MP)."""

from __future__ import annotations

from collections.abc import Callable

from magicgui.widgets import Label, SpinBox
from napari.layers import Labels

from ..layers.corrections import LayerCorrector
from ..layers.hand_edits import hand_tracker
from .threads import in_background


class EditCounts:
    """The two counts' labels (``preview``, ``hand``) and the ``min_size`` a speckle is under.

    Parameters
    ----------
    selected : callable
        The labels layer corrected (None: none selected).
    shown : callable
        A layer's corrector and the plane of it shown.
    """

    def __init__(
        self,
        selected: Callable[[], Labels | None],
        shown: Callable[[Labels], tuple[LayerCorrector, tuple[int, ...]]],
    ) -> None:
        self._selected = selected
        self._shown = shown
        self.min_size = SpinBox(label="speckles under", value=64, min=2, max=1_000_000)
        self.preview = Label(value="")
        self.hand = Label(value="")
        for label in (self.preview, self.hand):
            label.native.setWordWrap(True)
        self._previews = self._counts = 0  # the latest count asked for is the one shown
        self._closed = False

    def close(self) -> None:
        """The dock is closed: a count that ends later is not shown."""
        self._closed = True

    def count_speckles(self) -> None:
        """How many speckles Clean would take; a later count supersedes one still running."""
        layer = self._selected()
        self._previews += 1
        if layer is None:
            self.preview.value = ""
            return
        (corrector, plane), asked = self._shown(layer), self._previews
        min_size = int(self.min_size.value)

        def count() -> str:
            changes = corrector.speckles(plane, min_size)
            pixels = sum(c.pixels for c in changes)
            return f"{len(changes)} speckles, {pixels} pixels would change"

        def show(text: str) -> None:
            if asked == self._previews and not self._closed:
                self.preview.value = text

        in_background(count, show, lambda exc: show(f"speckles not counted: {exc}"))

    def count_hand_edits(self) -> None:
        """The counts of hand-set and relabelled pixels of the selected layer."""
        layer = self._selected()
        tracker = hand_tracker(layer, create=False) if layer is not None else None
        self._counts += 1
        if tracker is None:
            self.hand.value = ""
            return
        asked = self._counts

        def count() -> str:
            summary = tracker.provenance()
            tools = summary["pixels_changed_by_tool"]
            assert isinstance(tools, dict)
            detail = ", ".join(f"{tool} {n}" for tool, n in tools.items())
            return (
                f"set by hand: {summary['pixels_set_by_hand']} pixels, relabelled here: "
                f"{summary['pixels_relabelled_with_the_tools']}"
                + (f" ({detail})" if detail else "")
            )

        def show(text: str) -> None:
            if asked == self._counts and not self._closed:
                self.hand.value = text

        in_background(count, show, lambda exc: show(f"edits not counted: {exc}"))
