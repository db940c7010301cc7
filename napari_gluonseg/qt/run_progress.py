"""The segmentation dock's progress bar through a run: each event's share from the core's
:class:`~napari_gluonseg.core.events.ProgressTracker` (it only moves forward), and a long step
(one network window: seconds with no event) crept through by its expected time."""

from __future__ import annotations

import time
from collections.abc import Callable

from magicgui.widgets import ProgressBar
from qtpy.QtCore import QTimer

from ..core.events import Progress, ProgressTracker, Stage

# A long step's share of the bar is filled by its expected time up to this part of it, every
# CREEP_INTERVAL_MS (it sat at 10% through a single window of seconds).
CREEP_LIMIT = 0.9
CREEP_INTERVAL_MS = 200


class RunProgress:
    """Moves ``bar`` through a run while ``going()`` says the run still goes."""

    def __init__(self, bar: ProgressBar, going: Callable[[], bool]) -> None:
        self.bar = bar
        self._going = going
        self._tracker = ProgressTracker()
        self._plan_note = ""  # a long run's plan, said first and kept for the run
        self._step: tuple[Progress, float] | None = None  # a long step running, since when
        self._creep = QTimer(bar.native)
        self._creep.setInterval(CREEP_INTERVAL_MS)
        self._creep.timeout.connect(self._on_creep)

    def start(self) -> None:
        """A new run: the bar back at 0."""
        self._tracker = ProgressTracker()
        self._plan_note = ""
        self.bar.value = 0

    def follow(self, event: Progress) -> str:
        """The bar at ``event`` (crept through if it is a long step); the status line for it:
        its message, after the plan note of a long run."""
        if event.stage == Stage.PLAN:  # a long run says so first; the note stays for the run
            self._plan_note = f"{event.message}\n"
        self.move(event)
        self._step = (event, time.perf_counter()) if event.expected_s else None
        if self._step is not None and not self._creep.isActive():
            self._creep.start()
        return self._plan_note + event.message

    def move(self, event: Progress) -> None:
        """The bar at ``event``, no further (it never goes back)."""
        self.bar.value = self._tracker.update(event)

    def _on_creep(self) -> None:
        """The bar moves through a long step by its expected time, up to most of the step: it
        never claims the step done."""
        if self._step is None or not self._going():
            self._creep.stop()
            return
        event, started = self._step
        assert event.expected_s is not None  # only such steps are followed
        part = min((time.perf_counter() - started) / event.expected_s, CREEP_LIMIT)
        self.move(Progress(event.stage, round((event.done + part) * 100), event.total * 100, ""))
