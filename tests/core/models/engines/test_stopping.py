"""Stopping a thread's network calls from another thread, for every engine."""

from __future__ import annotations

import threading

import pytest

from napari_gluonseg.core.errors import SegmentationCancelled
from napari_gluonseg.core.models.engines.stopping import (
    network_call,
    stop_calls_in,
    stoppable_calls,
)


def started(work) -> tuple[threading.Thread, list]:
    """``work()`` running in a thread of its own; the list gets its value or its exception."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_stop_ends_the_call_running_and_refuses_the_calls_to_come():
    inside, ended, release = threading.Event(), threading.Event(), threading.Event()
    ids: list[int] = []

    def run() -> str:
        with stoppable_calls() as thread:
            ids.append(thread)
            with network_call(ended.set):  # an engine that can end its call (onnxruntime)
                inside.set()
                release.wait(10)
            with network_call():  # the next window's call: refused
                return "ran"

    worker, outcome = started(run)
    assert inside.wait(10)
    assert stop_calls_in(ids[0]) == 1 and ended.is_set()
    release.set()
    worker.join(10)
    assert isinstance(outcome[0], SegmentationCancelled)


def test_a_stop_is_held_only_inside_the_block_it_was_asked_in():
    def run() -> str:
        with stoppable_calls() as thread:
            stop_calls_in(thread)
            with pytest.raises(SegmentationCancelled), network_call():
                pass
        with network_call():  # a pool's thread, reused: later work is not stopped
            pass
        with stoppable_calls(), network_call():
            return "ran"

    worker, outcome = started(run)
    worker.join(10)
    assert outcome == ["ran"]


def test_a_stop_of_a_thread_outside_any_block_is_ignored():
    ready, go = threading.Event(), threading.Event()
    ids: list[int] = []

    def run() -> str:
        ids.append(threading.get_ident())
        ready.set()
        go.wait(10)
        with network_call():  # an engine call outside stoppable_calls(): a script's
            return "ran"

    worker, outcome = started(run)
    assert ready.wait(10)
    assert stop_calls_in(ids[0]) == 0
    go.set()
    worker.join(10)
    assert outcome == ["ran"]
