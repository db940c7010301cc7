"""The docks' workers, and their no-thread switch.

:class:`ClosingGeneratorWorker`: napari's generator worker stops on Cancel (``quit()``) by
leaving its loop at the next yield *without* closing the generator, so the generator's
``finally`` blocks (ending a child process, releasing a lock) would wait for garbage
collection; this worker closes it in its own thread as it stops.

With ``NAPARI_GLUONSEG_NOTHREADS`` set (to anything but ""), the docks compute in the GUI
thread instead of a worker: scripts and widget tests where threading is not the point, as
stardist-napari's ``STARDIST_NAPARI_NOTHREADS``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from napari.qt.threading import GeneratorWorker

NOTHREADS_VARIABLE = "NAPARI_GLUONSEG_NOTHREADS"
# Between the steps a dock takes in the GUI thread (a result into layers, the next image of a
# review): napari paints and handles input in between. Not 0: zero timers run before other
# timers and could starve them.
STEP_DELAY_MS = 5
T = TypeVar("T")


def no_threads() -> bool:
    """Whether the switch is set."""
    return bool(os.environ.get(NOTHREADS_VARIABLE))


class ClosingGeneratorWorker(GeneratorWorker):
    """A generator worker whose generator is closed when the work ends, however it ends."""

    def work(self) -> Any:
        try:
            return super().work()
        finally:
            self._gen.close()  # a no-op for a generator that returned or raised


def in_background(
    compute: Callable[[], T], done: Callable[[T], None], failed: Callable[[Exception], None]
) -> None:
    """``done(compute())`` in the GUI thread, ``compute`` in a worker thread (with the switch
    set, at once in the GUI thread); ``failed(exc)`` if it raises."""
    if no_threads():
        try:
            value = compute()
        except Exception as exc:
            failed(exc)
            return
        done(value)
        return
    from napari.qt.threading import create_worker

    # "errored" passed here, not connected after: superqt then does not also re-raise the
    # error in the GUI thread (napari's "Exceptions caught in Qt event loop").
    worker = create_worker(
        compute, _start_thread=False, _connect={"returned": done, "errored": failed}
    )
    worker.start()


def start_generator_worker(
    work: Callable[..., Any], *args: Any, **handlers: Callable[..., Any]
) -> ClosingGeneratorWorker:
    """``work(*args)`` (a generator) started in a :class:`ClosingGeneratorWorker`, ``handlers``
    connected (``yielded``, ``returned``, ``errored``, ``finished``) before it starts: an
    ``errored`` given here is not raised again in the GUI thread."""
    from napari.qt.threading import create_worker

    worker = create_worker(
        work, *args, _start_thread=False, _worker_class=ClosingGeneratorWorker, _connect=handlers
    )
    assert isinstance(worker, ClosingGeneratorWorker)
    worker.start()
    return worker


def stop_learning(worker: GeneratorWorker, stopping: threading.Event, threads: list[int]) -> None:
    """Cancel a worker that learns: the fits stop between iterations (``stopping``), the
    generator at its next event, a network call running in the
    ``threads`` (ids, from :func:`~..core.run.stop.stoppable`) at once."""
    from ..core.run.stop import stop

    stopping.set()
    worker.quit()
    for thread in threads:
        stop(thread)
