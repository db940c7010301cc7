"""Running a batch's images on dask.distributed: a local cluster of worker processes, or the
workers of an existing scheduler (which must read the inputs and write the outputs on a
filesystem they share with this machine).

Each worker process keeps its networks in the core's per-process cache, so it loads the model
once (per working size). A local cluster's workers run one image at a time
(``threads_per_worker=1``) and split the machine's cores between their numerical libraries.
Each worker thread is given one image at a time (a new one as it returns the last): stopping
early lets the running images finish and gives out no other. A worker's notices (the one-time
preparation of the weights, a download, a long run's estimate) reach the caller as Dask events.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING

from ..errors import OptionError
from ..events import Progress, Stage
from .inputs import BatchItem
from .summary import ImageReport

if TYPE_CHECKING:  # distributed loads only when a batch uses it
    from distributed import Client, Future, LocalCluster, Worker, as_completed

_CONNECT_TIMEOUT_S = 30
NOTICE_TOPIC = "napari-gluonseg-notice"


def require_distributed(asked: str) -> None:
    """Raise :class:`OptionError` saying which extra to install where ``asked`` (how the batch
    was asked to run on Dask, e.g. ``workers=2``) cannot: dask.distributed is not importable."""
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise OptionError(
            f"{asked} runs the batch on Dask, whose distributed package cannot be imported "
            f'({exc}). Install the extra: pip install "napari-gluonseg[dask]"; or run without '
            "workers or a scheduler (one image at a time here)."
        ) from exc


def worker_threads(workers: int) -> int:
    """Threads each of ``workers`` processes may use so the cores are not oversubscribed."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) // workers)


def run_on_dask(
    items: Sequence[BatchItem],
    task: Callable[[BatchItem], ImageReport],
    should_stop: Callable[[], bool],
    workers: int | None,
    scheduler: str | None,
    on_notice: Callable[[BatchItem, Progress], None] | None = None,
) -> Generator[ImageReport, None, None]:
    """Run ``task(item)`` for every item on Dask, yielding the results as they finish.

    Each worker thread gets one image at a time; once ``should_stop()``, no other image is
    given out and the running ones finish. A worker that dies on an image (killed for memory,
    say) makes that image a failed report; any error ``task`` raises is raised here. Closing
    the iterator cancels what is running. ``on_notice`` hears the notices that ``task`` sends
    with :func:`send_notice` (in a thread of the client's).
    """
    from distributed import Client, as_completed

    with contextlib.ExitStack() as stack:
        stack.enter_context(_dask_warnings_only())
        if scheduler is not None:
            try:
                client = stack.enter_context(Client(scheduler, timeout=_CONNECT_TIMEOUT_S))
            except OSError as exc:
                raise OptionError(f"Cannot reach the Dask scheduler {scheduler}: {exc}") from exc
        else:
            assert workers is not None  # plan_batch: no scheduler means a local cluster
            client = stack.enter_context(Client(stack.enter_context(_local_cluster(workers))))
        if on_notice is not None:
            client.subscribe_topic(NOTICE_TOPIC, _notice_handler(items, on_notice))
        pending = iter(items)
        running: dict[Future, BatchItem] = {}
        finished = as_completed()
        for item in _take(pending, max(1, sum(client.nthreads().values()))):
            _submit(client, task, item, running, finished)
        try:
            for future in finished:
                item = running.pop(future)
                yield _result(future, item)
                for nxt in _take(pending, 0 if should_stop() else 1):
                    _submit(client, task, nxt, running, finished)
        finally:
            client.cancel(list(running))


def send_notice(item: BatchItem, event: Progress) -> None:
    """On a worker, as a task's ``on_progress``: a notice goes to the client as a Dask event
    (the other events, a step each, stay on the worker: the client shows images, not steps)."""
    if event.notice:
        from distributed import get_worker

        fields = (event.stage.value, event.done, event.total, event.message)
        get_worker().log_event(NOTICE_TOPIC, {"key": item.key, "progress": fields})


def _notice_handler(
    items: Sequence[BatchItem], on_notice: Callable[[BatchItem, Progress], None]
) -> Callable[[tuple[float, dict]], None]:
    by_key = {item.key: item for item in items}

    def heard(event: tuple[float, dict]) -> None:
        _, sent = event
        item = by_key.get(str(sent.get("key")))
        if item is not None:
            stage, done, total, message = sent["progress"]
            on_notice(item, Progress(Stage(stage), done, total, message, notice=True))

    return heard


@contextlib.contextmanager
def _dask_warnings_only() -> Iterator[None]:
    """Dask's own loggers at WARNING while a batch runs: at INFO its scheduler says a few dozen
    lines per batch, and logs an expected closed connection with a traceback on shutdown."""
    loggers = [logging.getLogger(name) for name in ("distributed", "tornado")]
    before = [log.level for log in loggers]
    for log in loggers:
        log.setLevel(max(log.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for log, level in zip(loggers, before, strict=True):
            log.setLevel(level)


def dask_setup(worker: Worker) -> None:
    """Run by each local worker process as it starts (a Dask preload).

    Ctrl-C in a terminal reaches every process of the group: the workers ignore it and finish
    their image, while the batch gives out no other.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _local_cluster(workers: int) -> LocalCluster:
    import dask
    from distributed import LocalCluster

    threads = str(worker_threads(workers))
    env = dict.fromkeys(("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), threads)
    # An image that kills its worker is tried once more, not three times.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        return LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env=env,
            preload=[__name__],
            # mxnet's engine threads delay a worker's exit: the nanny's warning is expected.
            silence_logs=logging.ERROR,
        )


def _take(items: Iterator[BatchItem], n: int) -> list[BatchItem]:
    return [item for _, item in zip(range(n), items, strict=False)]


def _submit(
    client: Client,
    task: Callable[[BatchItem], ImageReport],
    item: BatchItem,
    running: dict[Future, BatchItem],
    finished: as_completed,
) -> None:
    future = client.submit(task, item, pure=False)
    running[future] = item
    finished.add(future)


def _result(future: Future, item: BatchItem) -> ImageReport:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return ImageReport(
            str(item.path),
            item.key,
            "failed",
            f"{item.path}: the worker process died while segmenting it (out of memory?).",
        )
