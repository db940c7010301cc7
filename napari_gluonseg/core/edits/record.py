"""Which edit last wrote each pixel of a labels image, and the value it wrote.

A pixel counts as edited only while it still holds what its edit wrote: an undone edit (the old
value back) or one a later run overwrote no longer counts, and a redo counts again. So the
record needs no view of the undo history, only the labels as they are now.

Edits come in three kinds: a person's brush, fill or eraser (``HAND``: every later gesture,
clean and run leaves them alone), a class the person picked with a gesture of the Correct dock
(``CHOSEN``: a later gesture may change the person's mind; a run, a clean or a snap leaves them
alone),
and what an automatic tool decided (``AUTOMATIC``: clean, snap; counted, not protected).
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class EditKind(IntEnum):
    HAND = 1
    CHOSEN = 2
    AUTOMATIC = 3


# Tools of this plugin whose edits are a class the person picked, and those that decide alone;
# anything else (napari's paint, fill, erase, polygon) is by hand.
CHOSEN_TOOLS = frozenset({"relabel", "runner-up", "class brush"})
AUTOMATIC_TOOLS = frozenset({"clean", "snap"})


def kind_of(tool: str) -> EditKind:
    if tool in CHOSEN_TOOLS:
        return EditKind.CHOSEN
    return EditKind.AUTOMATIC if tool in AUTOMATIC_TOOLS else EditKind.HAND


class EditRecord:
    """Per pixel: the tool that last wrote it (0: none) and the value it wrote."""

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.tool = np.zeros(shape, np.uint8)
        self.value = np.zeros(shape, dtype)
        self.tools: list[str] = []  # tool index i (from 1) is tools[i - 1]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.tool.shape)

    def record(self, tool: str, key: tuple, where: np.ndarray | None, new: object) -> None:
        """An edit by ``tool`` wrote ``new`` (a value, or one per pixel) into the pixels ``key``
        selects (slices, with ``where`` the changed pixels within them; or index arrays)."""
        if tool not in self.tools:
            if len(self.tools) == np.iinfo(np.uint8).max:
                raise OverflowError("more than 255 tools")  # a programming error, not input
            self.tools.append(tool)
        index = self.tools.index(tool) + 1
        if where is None:
            self.tool[key] = index
            self.value[key] = new
        else:  # a box (basic slicing): views, changed pixels within
            self.tool[key][where] = index
            self.value[key][where] = new

    def live(self, labels: np.ndarray, plane: tuple = ()) -> np.ndarray:
        """Tool index per pixel of ``labels`` (the whole image, or its ``plane``) where the
        pixel still holds what that tool wrote; 0 elsewhere."""
        tool = self.tool[plane]
        holds = (tool > 0) & (np.asarray(labels) == self.value[plane])
        return np.where(holds, tool, 0)

    def mask(self, labels: np.ndarray, kinds: frozenset[EditKind], plane: tuple = ()) -> np.ndarray:
        """Pixels whose live edit is of one of ``kinds``."""
        live = self.live(labels, plane)
        wanted = [i + 1 for i, t in enumerate(self.tools) if kind_of(t) in kinds]
        return np.isin(live, wanted) if wanted else np.zeros(live.shape, bool)

    def counts(self, labels: np.ndarray) -> dict[str, int]:
        """Pixels each tool's live edits hold, by tool name (tools with none left out)."""
        found = np.bincount(self.live(labels).ravel(), minlength=len(self.tools) + 1)
        return {t: int(found[i + 1]) for i, t in enumerate(self.tools) if found[i + 1]}

    def provenance(self, labels: np.ndarray) -> dict[str, object]:
        """What an export says about the edits the labels hold now."""
        counts = self.counts(labels)
        return {
            "pixels_set_by_hand": _sum(counts, EditKind.HAND),
            "pixels_relabelled_with_the_tools": _sum(counts, EditKind.CHOSEN),
            "pixels_changed_by_tool": dict(sorted(counts.items())),
        }


KEPT_FROM_RUNS = frozenset({EditKind.HAND, EditKind.CHOSEN})
# A gesture of the person's (relabel, R, class brush) may change their mind about a class they
# picked; a tool that decides alone (clean, snap) leaves it, as it leaves the brush.
KEPT_FROM_GESTURES = frozenset({EditKind.HAND})
KEPT_FROM_AUTOMATIC = frozenset({EditKind.HAND, EditKind.CHOSEN})


def _sum(counts: dict[str, int], kind: EditKind) -> int:
    return sum(n for t, n in counts.items() if kind_of(t) is kind)
