"""Stopping the network calls of one thread from another, for every engine.

A run's worker opens :func:`stoppable_calls`; another thread (a dock's Cancel) calls
:func:`stop_calls_in` with the worker's thread id. The engine's call running there ends at once
where the engine can end one (onnxruntime's ``RunOptions.terminate``; MXNet's forward pass
cannot be ended and finishes), and every call the thread starts after is refused with
:class:`~napari_gluonseg.core.errors.SegmentationCancelled`: a Cancel pressed before a call had
started waited for the whole call (7-45 s).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

from ...errors import SegmentationCancelled

# The ways to end the calls running in each thread; the threads inside stoppable_calls(); and
# those of them asked to stop.
_running: dict[int, list[Callable[[], None]]] = {}
_stoppable: set[int] = set()
_stopped: set[int] = set()
_lock = threading.Lock()


@contextlib.contextmanager
def stoppable_calls() -> Iterator[int]:
    """The calling thread's network calls can be stopped by :func:`stop_calls_in` from another
    thread while inside; gives the thread's id. A stop asked for outside (a thread of a pool,
    reused) is never held against later work in the thread."""
    thread = threading.get_ident()
    with _lock:
        _stoppable.add(thread)
        _stopped.discard(thread)
    try:
        yield thread
    finally:
        with _lock:
            _stoppable.discard(thread)
            _stopped.discard(thread)


@contextlib.contextmanager
def network_call(end: Callable[[], None] | None = None) -> Iterator[None]:
    """Around an engine's call: refused at once in a thread asked to stop; ``end()`` (from
    the stopping thread) ends it mid-way, where the engine can."""
    thread = threading.get_ident()
    ender = end or (lambda: None)
    with _lock:
        if thread in _stopped:
            raise SegmentationCancelled("stopped before the network call")
        _running.setdefault(thread, []).append(ender)
    try:
        yield
    finally:
        with _lock:
            _running[thread].remove(ender)
            if not _running[thread]:
                del _running[thread]


def stop_calls_in(thread: int) -> int:
    """End the network calls running in thread ``thread`` now where the engine can, and,
    inside :func:`stoppable_calls`, refuse those it starts from now on. Returns how many were
    running."""
    with _lock:
        enders = list(_running.get(thread, ()))
        if thread in _stoppable:
            _stopped.add(thread)
    for end in enders:
        end()
    return len(enders)
