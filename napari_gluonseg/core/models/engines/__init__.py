"""The engines that run a segmentation network: the factory (:func:`iter_load_network`) over
the interface in :mod:`.base`.

``mxnet`` runs the GluonCV network itself (:mod:`.mxnet`); ``onnxruntime``
runs it exported to ONNX (:mod:`.onnx`). Both give a :class:`Network` for a
:class:`NetworkRequest` through :func:`iter_load_network`, which keeps the last few loaded in
memory.
"""

from __future__ import annotations

from collections.abc import Generator

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
from .request import NetworkRequest

__all__ = [
    "CACHE_PIXELS",
    "CACHE_SIZE",
    "ENGINES",
    "Engine",
    "Network",
    "NetworkRequest",
    "forget_loaded_networks",
    "iter_cached",
    "iter_load_network",
    "load_network",
]


def iter_load_network(
    engine: Engine, request: NetworkRequest
) -> Generator[Progress, None, Network]:
    """The network of ``engine`` for ``request``, loading it on first use.

    Yields progress while it loads (the one-time ONNX preparation runs in a child process that
    closing this generator ends at once).
    """
    if engine == Engine.ONNXRUNTIME:
        from .onnx import iter_onnx_network

        return (yield from iter_onnx_network(request))
    from .. import _mxnet
    from .mxnet import iter_mxnet_network

    if request.threads is not None:
        _mxnet.set_omp_threads(request.threads)
    return (yield from iter_mxnet_network(request))


def load_network(engine: Engine, request: NetworkRequest) -> Network:
    """:func:`iter_load_network` run to its end (scripts and tests)."""
    events = iter_load_network(engine, request)
    while True:
        try:
            next(events)
        except StopIteration as stop:
            return stop.value
