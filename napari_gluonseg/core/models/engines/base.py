"""The engines' interface: which engines there are (:class:`Engine`), what each gives
(:class:`Network`), and the memory of loaded networks every engine loads through
(:func:`iter_cached`). Imports no engine: the engines and the registry import it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Generator, Hashable
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypeVar, cast, runtime_checkable

import numpy as np

from ...events import Progress


class Engine(StrEnum):
    """What runs a network; equal to its string value (``engine="mxnet"`` works too)."""

    MXNET = "mxnet"
    ONNXRUNTIME = "onnxruntime"


ENGINES = tuple(Engine)
# Each loaded entry holds its own copy of the weights (~130 MB for FCN-ResNet50) and, for MXNet,
# static activation buffers of its input size.
CACHE_SIZE = 3

T = TypeVar("T")


@runtime_checkable
class Network(Protocol):
    """A network ready to run, as every engine gives it.

    Attributes
    ----------
    engine : Engine
        Which engine runs it.
    providers : list of str
        Where it runs (onnxruntime's execution providers, e.g. ``["CUDAExecutionProvider",
        "CPUExecutionProvider"]``; ``["cpu"]`` for MXNet).
    model_file : Path
        The file the network was loaded from (weights or ONNX model), for provenance.
    """

    engine: Engine
    model_file: Path

    @property
    def providers(self) -> list[str]: ...

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Main-head logits (N, classes, h, w) float32 of a normalized (N, 3, H, W) batch: at
        the input size, or at the network's own resolution where it was loaded ``native``."""
        ...


# Input pixels of the MXNet networks kept: each holds static activation buffers for its size
# (~0.85 KB per pixel for FCN-ResNet50, roughly 1.5 KB for the ResNet101 PSP), so a few grid-window
# shapes of 2 MP would otherwise keep gigabytes.
CACHE_PIXELS = 2_500_000

_cache: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
_cache_lock = threading.Lock()


def iter_cached(
    key: Hashable, load: Callable[[], Generator[Progress, None, T]], pixels: int = 0
) -> Generator[Progress, None, T]:
    """The entry loaded for ``key``: from memory, or from ``load()`` (then kept, LRU: at most
    CACHE_SIZE entries, whose ``pixels`` (the static buffers they hold) sum to at most
    CACHE_PIXELS besides the newest)."""
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return cast(T, _cache[key][0])  # what load() gave for this key
    value = yield from load()
    with _cache_lock:
        _cache[key] = (value, pixels)
        while len(_cache) > CACHE_SIZE or (
            len(_cache) > 1 and sum(p for _, p in _cache.values()) > CACHE_PIXELS
        ):
            _cache.popitem(last=False)
    return value


def forget_loaded_networks() -> None:
    """Forget every loaded network (as a new process would start)."""
    with _cache_lock:
        _cache.clear()
