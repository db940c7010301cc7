"""The engines that run a segmentation network: the factory (:func:`iter_load_network`) over
the interface in :mod:`.base`.

``mxnet`` runs the GluonCV network itself (:mod:`.mxnet`); ``onnxruntime``
runs it exported to ONNX (:mod:`.onnx`). Both give a :class:`Network`
through :func:`iter_load_network`, which keeps the last few loaded in memory.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from ...events import Progress
from .base import (
    CACHE_PIXELS,
    CACHE_SIZE,
    ENGINES,
    Engine,
    Network,
    forget_loaded_networks,
    iter_cached,
)

if TYPE_CHECKING:
    from ..weights import ResolvedWeights

__all__ = [
    "CACHE_PIXELS",
    "CACHE_SIZE",
    "ENGINES",
    "Engine",
    "Network",
    "forget_loaded_networks",
    "iter_cached",
    "iter_load_network",
    "load_network",
]


def iter_load_network(
    engine: Engine,
    model_name: str,
    weights: ResolvedWeights,
    height: int,
    width: int,
    native: bool = False,
    threads: int | None = None,
) -> Generator[Progress, None, Network]:
    """The network of ``engine`` for (model, weights, input size), loading it on first use.

    Yields progress while it loads (the one-time ONNX preparation runs in a child process that
    closing this generator ends at once). ``native``: logits at the network's own resolution
    where the architecture allows it. ``threads``: onnxruntime's intra-op threads (None: all
    cores); MXNet's OpenMP threads for the process.
    """
    if engine == Engine.ONNXRUNTIME:
        from .onnx import iter_onnx_network

        return (yield from iter_onnx_network(model_name, weights, height, width, native, threads))
    from .. import _mxnet
    from .mxnet import iter_mxnet_network

    if threads is not None:
        _mxnet.set_omp_threads(threads)
    return (yield from iter_mxnet_network(model_name, weights, height, width, native))


def load_network(
    engine: Engine,
    model_name: str,
    weights: ResolvedWeights,
    height: int,
    width: int,
    native: bool = False,
    threads: int | None = None,
) -> Network:
    """:func:`iter_load_network` run to its end (scripts and tests)."""
    events = iter_load_network(engine, model_name, weights, height, width, native, threads)
    while True:
        try:
            next(events)
        except StopIteration as stop:
            return stop.value
