"""What the command line shows while it works: one progress line, and the notices a run
says on lines of their own."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from ..core.events import Progress


class ProgressLine:
    """Progress on one line: rewritten in place on a terminal; in a log (not a terminal),
    each new message once, on a line of its own."""

    def __init__(self) -> None:
        self._tty = sys.stdout.isatty()
        self._last = ""

    def show(self, text: str) -> None:
        if self._tty:
            print(f"\r{text:<72}", end="", flush=True)
        elif text != self._last:
            print(text, flush=True)
        self._last = text

    def note(self, text: str) -> None:
        """A line that stays: on a terminal it replaces the progress line, which the next
        :meth:`show` starts again below it."""
        if self._tty:
            print(f"\r{text:<72}", flush=True)
        else:
            print(text, flush=True)
        self._last = ""

    def end(self) -> None:
        """Close the line (on a terminal)."""
        if self._tty:
            print()


T = TypeVar("T")


def with_progress_line(
    work: Callable[[Callable[[Progress], None]], T], text: Callable[[Progress], str]
) -> T:
    """``work(on_progress)`` with its events shown as ``text(event)`` on a :class:`ProgressLine`,
    closed when it ends, by an error too (the error's message then starts a line of its own)."""
    line = ProgressLine()
    try:
        return work(lambda event: line.show(text(event)))
    finally:
        line.end()


class Notices:
    """What a run says on lines of their own (:attr:`Progress.notice`: a long run's estimate, a
    download, the one-time preparation of the weights), each once, named by its image; the
    demo and ``segment`` both say them, whatever else shows their progress."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._last = ""

    def __call__(self, stem: str, event: Progress) -> None:
        """Say ``event`` if it is a notice not just said."""
        if not event.notice:
            return
        text = f"{stem}: {event.message}"
        if text != self._last:  # a download or an export repeats its message per step
            self._write(text)
        self._last = text
