"""Which pixels of a napari labels layer a person set, and with which tool: the
:class:`HandTracker` follows napari's paint events (brush, eraser, fill, polygon and this
plugin's gestures) and undo into an :class:`~napari_gluonseg.core.edits.record.EditRecord`,
kept in the layer's metadata (:data:`HAND_KEY`) so every dock, a later run and the export see
the same one.

Qt-free.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, overload

import numpy as np

from ..core.edits.record import KEPT_FROM_RUNS, EditKind, EditRecord
from .data import is_unedited_output

HAND_KEY = "napari_gluonseg_hand"


class HandTracker:
    """Records the edits of ``layer`` from napari's paint events (brush, eraser, fill, polygon
    and this plugin's gestures) in an :class:`EditRecord`: an undone edit no longer counts.
    :attr:`complete` says whether it saw every edit since the layer held only a run's output."""

    def __init__(self, layer: Any, complete: bool) -> None:
        data = np.asarray(layer.data)
        self.layer = layer
        self.record = EditRecord(data.shape, data.dtype)
        # The run's output as last written, and every pixel an edit touched since: the data
        # outside the touched pixels must still be that output for the edits to be all known.
        self._base = data.copy() if complete else None
        self._touched = np.zeros(data.shape, bool)
        # The history items of the last runs' writes: Ctrl+Z may take one back (no event says
        # so), and then the data outside the edits is the run before's output.
        self._runs: list[list[Any]] = []
        self._tool: str | None = None
        self._quiet = False
        layer.events.paint.connect(self._on_paint)

    @property
    def complete(self) -> bool:
        """True when every change of the data since the run's output went through a paint
        event this tracker saw (a script's ``layer.data[...] = v`` does not)."""
        data = np.asarray(self.layer.data)
        if self._base is None or data.shape != self._base.shape:
            return False
        self._forget_undone_runs(data)
        untouched = ~self._touched
        return bool(np.array_equal(data[untouched], self._base[untouched]))

    def mask(self, kinds: frozenset[EditKind], plane: tuple = ()) -> np.ndarray:
        """Pixels (of ``plane``) that hold what an edit of one of ``kinds`` wrote."""
        data = np.asarray(self.layer.data[plane] if plane else self.layer.data)
        return self.record.mask(data, kinds, plane)

    def hand_set(self) -> np.ndarray:
        """Pixels a run must ask before changing: set by hand or relabelled by the person."""
        return self.mask(KEPT_FROM_RUNS)

    def provenance(self) -> dict[str, object]:
        return self.record.provenance(np.asarray(self.layer.data))

    @contextmanager
    def tool(self, name: str | None) -> Iterator[None]:
        """Edits inside are this plugin's ``name`` (None: a run's output, not an edit)."""
        previous, quiet = self._tool, self._quiet
        self._tool, self._quiet = name, name is None
        try:
            yield
        finally:
            self._tool, self._quiet = previous, quiet

    def _on_paint(self, event: Any) -> None:
        if self.layer.metadata.get(HAND_KEY) is not self:  # the layer got new metadata
            self.layer.events.paint.disconnect(self._on_paint)
            return
        data = np.asarray(self.layer.data)
        if self.record.shape != data.shape:  # data replaced: earlier edits are unknown
            self.record, self._base = EditRecord(data.shape, data.dtype), None
            self._touched, self._runs = np.zeros(data.shape, bool), []
        name = self._tool or str(self.layer.mode)
        if self._quiet:  # a run wrote its output: that is the new base there
            self._forget_undone_runs(data)
            self._runs = [*self._runs[-RUNS_REMEMBERED + 1 :], list(event.value)]
        for atom in event.value:
            key, where, _, new = _atom_parts(atom)
            if self._quiet:
                if self._base is not None:
                    _assign(self._base, key, where, new)
                continue
            _assign(self._touched, key, where, True)
            self.record.record(name, key, where, new)

    def _forget_undone_runs(self, data: np.ndarray) -> None:
        """Take back from the base the last runs' writes that Ctrl+Z took back from the data
        (a run's pixels all go back at once: a few of them tell)."""
        while self._runs and self._base is not None:
            atom = self._runs[-1][0]
            key, where, old, new = _atom_parts(atom)
            if not _holds(data, key, where, old, new, self._touched):
                return
            for atom in reversed(self._runs.pop()):
                key, where, old, _ = _atom_parts(atom)
                _assign(self._base, key, where, old)


RUNS_REMEMBERED = 4
UNDO_PROBES = 16


def _holds(
    data: np.ndarray, key: tuple, where: np.ndarray | None, old: Any, new: Any, touched: np.ndarray
) -> bool:
    """Whether the data holds a write's ``old`` values again (it was undone), judged on a few
    of its pixels that no edit touched since."""
    if where is not None or not isinstance(old, np.ndarray) or old.ndim != 1:
        return False  # runs write index arrays (data_setitem); nothing else is probed
    free = np.flatnonzero(~touched[key] & (old != new))[:UNDO_PROBES]
    if not free.size:
        return False
    probe = tuple(np.asarray(k)[free] for k in key)
    return bool(np.array_equal(data[probe], old[free]))


def _atom_parts(atom: Any) -> tuple[tuple, np.ndarray | None, Any, Any]:
    """(key, changed pixels within it or None for all, old value(s), new value(s)) of a napari
    history atom: a box with its mask (napari >= 0.7) or (indices, old values, new values)."""
    if hasattr(atom, "slice_key"):
        return tuple(atom.slice_key), atom.mask, atom.old_values, atom.new_value
    return tuple(atom[0]), None, atom[1], atom[2]


def _assign(array: np.ndarray, key: tuple, where: np.ndarray | None, value: Any) -> None:
    if where is None:
        array[key] = value
    else:
        array[key][where] = value  # a box (basic slicing): a view


@overload
def hand_tracker(layer: Any, create: Literal[True] = ...) -> HandTracker: ...
@overload
def hand_tracker(layer: Any, create: bool) -> HandTracker | None: ...
def hand_tracker(layer: Any, create: bool = True) -> HandTracker | None:
    """The layer's tracker; made on first use, complete only if the layer then holds exactly
    what a run wrote (else edits made before it are unknown)."""
    tracker = layer.metadata.get(HAND_KEY)
    if tracker is None and create:
        tracker = HandTracker(layer, complete=is_unedited_output(layer))
        layer.metadata = {**layer.metadata, HAND_KEY: tracker}
    return tracker
