"""The edited-by-hand rule of a run's write into a labels layer: how a run's labels go into
labels that hold something (:class:`MergeMode`), how many pixels a person may have set that the
write would change (:func:`pixels_at_risk`), the person's answer (:class:`EditedChoice`), the
write without the pixels they set, and the write itself as ONE undoable edit in chunks.

Qt-free: the dock asks the question (``AskEdited``); :mod:`.results` applies the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from enum import Enum, StrEnum
from typing import Any

import numpy as np

from ..core.errors import GluonsegError
from .data import is_unedited_output
from .hand_edits import hand_tracker
from .plugin_layers import is_plugin_labels, layer_class_names

# Pixels written per undoable step: the GUI gets control back between chunks of a big write.
WRITE_CHUNK = 400_000


class MergeMode(StrEnum):
    """How a run's labels go into labels that already hold something."""

    FILL_UNLABELED = "fill_unlabeled"  # only pixels still 0: nothing labelled ever changes
    OVERWRITE = "overwrite"  # the region as the run says (asks first where edits would go)


class EditedChoice(Enum):
    """The user's answer when a write would replace labels they may have set by hand."""

    OVERWRITE = "overwrite"
    KEEP_HAND_SET = "keep hand-set"  # write the rest, leave the pixels a person set
    NEW_LAYER = "new layer"
    CANCEL = "cancel"


# (layer name, number of pixels that would change) -> the user's choice.
AskEdited = Callable[[str, int], EditedChoice]


class LayerWriteError(GluonsegError, ValueError):
    """A result that cannot go into the chosen layer; nothing was written."""


def leaving_hand_set_pixels(
    target: Any, indices: tuple[np.ndarray, ...], values: np.ndarray
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The write without the pixels a person set (tracked since the Correct dock or a run
    first saw the layer; without tracking, every labelled pixel counts as set by hand)."""
    tracker = hand_tracker(target, create=False)
    if tracker is not None and tracker.complete:
        keep = ~tracker.hand_set()[indices]
    else:
        keep = np.asarray(target.data)[indices] == 0
        if tracker is not None:
            keep &= ~tracker.hand_set()[indices]
    return tuple(i[keep] for i in indices), values[keep]


def pixels_at_risk(layer: Any, old: np.ndarray, indices: tuple[np.ndarray, ...]) -> int:
    """How many of the pixels a write would change a person may have set.

    None in the plugin's own output that nobody touched; where every edit of the layer was
    tracked, exactly the edited pixels the write would change (the rest is the run's own
    output); in an edited plugin layer otherwise, every changed pixel (erasing is an edit too);
    in anyone else's layer, every labelled one.
    """
    if is_unedited_output(layer) or not len(indices[0]):
        return 0
    tracker = hand_tracker(layer, create=False)
    if tracker is not None and tracker.complete:
        return int(np.count_nonzero(tracker.hand_set()[indices]))
    if is_plugin_labels(layer):
        return len(indices[0])
    return int(np.count_nonzero(old[indices]))


def write_undoable(
    layer: Any, indices: tuple[np.ndarray, ...], values: np.ndarray
) -> Iterator[str]:
    """Generator: ``layer.data[indices] = values`` as ONE undo step (Ctrl+Z takes it all back),
    in chunks so the GUI breathes between them."""
    with layer.block_history():
        for a in range(0, len(values), WRITE_CHUNK):
            b = a + WRITE_CHUNK
            layer.data_setitem(tuple(i[a:b] for i in indices), values[a:b])
            if b < len(values):
                yield f"{layer.name}: {b} of {len(values)} pixels written"


def check_class_table(layer: Any, class_names: Sequence[str]) -> None:
    """Refuse to write into a layer whose values name other classes than the run's."""
    theirs = layer_class_names(layer, 0) if "class_name" in layer.features else []
    if theirs and theirs != list(class_names[: len(theirs)]):
        raise LayerWriteError(
            f"'{layer.name}' labels other classes (e.g. 1 = {theirs[0]!r}) than this run "
            f"(1 = {class_names[0]!r}); choose the same model or scheme, or another layer."
        )
