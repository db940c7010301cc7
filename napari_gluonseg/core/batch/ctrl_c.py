"""Ctrl-C during a batch in a terminal: the first press stops after the running image(s), a
second one stops at once, even in the middle of a long call of a library.

Python runs a signal's handler in the main thread between two bytecodes: during one long call
of a library that does not check for signals (onnxruntime's run, seconds to minutes) no handler
runs, and two presses become one when the call returns. So the presses are counted as they come
by a thread that reads the bytes the signal module writes for each one
(:func:`signal.set_wakeup_fd`). At the second, the main thread is interrupted (SIGINT sent to
it alone, which also wakes a sleep or a wait, then a KeyboardInterrupt where it is); if it does
not answer within :data:`ANSWER_WITHIN_S`, being inside such a call, the thread ends the process
itself, after
``on_hard_stop`` (the summary of the images that ended, the folder lock released). Results are
written atomically, so an export interrupted this way is whole or absent (or finished from its
journal by the next run).
"""

from __future__ import annotations

import _thread
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType

logger = logging.getLogger(__name__)

ANSWER_WITHIN_S = (
    1.0  # a main thread in Python code answers in milliseconds, even on a busy machine
)
FIRST_PRESS = "Stopping after the running image(s); Ctrl-C again to stop now."
HARD_STOP = (
    "Stopped at once: the image(s) running left no results; finished images are kept and the "
    "summary lists them. Rerun to resume."
)


class _Presses:
    """What the presses asked, shared by the handler (main thread) and the counting thread."""

    def __init__(self) -> None:
        self.stop = threading.Event()  # the first press: start no other image
        self.hard = threading.Event()  # the second: stop now
        self.answered = threading.Event()  # the main thread raised, or left the block
        self._lock = threading.RLock()  # a handler may run inside first() (a press during one)

    def first(self) -> None:
        with self._lock:
            if self.stop.is_set():
                return
            self.stop.set()
        print(f"\n{FIRST_PRESS}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def stop_on_ctrl_c(
    on_hard_stop: Callable[[], None] = lambda: None, exit_status: int = 130
) -> Iterator[threading.Event]:
    """A block (in the main thread) whose event is set by a first Ctrl-C; a second raises
    KeyboardInterrupt in the block at once or, if the block is inside a library's long call,
    runs ``on_hard_stop()`` and ends the process with ``exit_status``."""
    presses = _Presses()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if presses.hard.is_set():
            presses.answered.set()
            raise KeyboardInterrupt
        presses.first()  # the counting thread may not have read the byte yet

    reader, writer = socket.socketpair()
    writer.setblocking(False)  # the signal module's requirement
    counting = threading.Thread(
        target=_count_presses,
        args=(reader, presses, on_hard_stop, exit_status),
        name="gluonseg-ctrl-c",
        daemon=True,
    )
    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    counting.start()
    try:
        yield presses.stop
    finally:
        signal.set_wakeup_fd(previous_fd)
        presses.answered.set()  # the block is left: the process is not ended under it
        signal.signal(signal.SIGINT, previous)
        writer.close()  # the counting thread reads the end of the stream, and ends
        counting.join(1.0)


def _count_presses(
    reader: socket.socket,
    presses: _Presses,
    on_hard_stop: Callable[[], None],
    exit_status: int,
) -> None:
    count = 0
    with reader:  # closed here, never under a recv (its number could be a new socket's)
        while data := _receive(reader):
            count += data.count(int(signal.SIGINT))  # one byte per signal, its number
            if count >= 1:
                presses.first()
            if count >= 2 and not presses.hard.is_set():
                presses.hard.set()
                _interrupt_main_thread()
                if not presses.answered.wait(ANSWER_WITHIN_S):
                    _end_now(on_hard_stop, exit_status)


def _interrupt_main_thread() -> None:
    """SIGINT to the main thread alone, so that a sleep or a wait there is interrupted too
    (``interrupt_main`` only marks the signal as arrived: where there is no ``pthread_kill``)."""
    main = threading.main_thread().ident
    if hasattr(signal, "pthread_kill") and main is not None:
        signal.pthread_kill(main, signal.SIGINT)
    else:
        _thread.interrupt_main(signal.SIGINT)


def _receive(reader: socket.socket) -> bytes:
    try:
        return reader.recv(64)
    except OSError:  # closed under it
        return b""


def _end_now(on_hard_stop: Callable[[], None], exit_status: int) -> None:
    """End the process, whose main thread is inside a library's call, after ``on_hard_stop``."""
    try:
        on_hard_stop()
    except Exception:  # ending now matters more; say what was not done
        logger.exception("While stopping at once:")
    print(f"\n{HARD_STOP}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(exit_status)
