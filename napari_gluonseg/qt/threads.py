"""The docks' no-thread switch: with ``NAPARI_GLUONSEG_NOTHREADS`` set (to anything but ""),
they compute in the GUI thread instead of a worker: scripts and widget tests where threading is
not the point, as stardist-napari's ``STARDIST_NAPARI_NOTHREADS``."""

from __future__ import annotations

import os

NOTHREADS_VARIABLE = "NAPARI_GLUONSEG_NOTHREADS"


def no_threads() -> bool:
    """Whether the switch is set."""
    return bool(os.environ.get(NOTHREADS_VARIABLE))
