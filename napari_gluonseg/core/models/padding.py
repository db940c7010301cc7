"""Running a network at any size: pad the input to the size its architecture needs, crop the logits.

GluonCV builds PSP's, DeepLab's, ICNet's and Fast-SCNN's pooling branches for ``side // k`` while
their features are ``ceil(side / k)``, so only sides that are multiples of ``k`` run
(the model card's :class:`~.card.FamilyRow`). GluonCV's own evaluation never meets this: it pads
every window to 480x480. We pad the same way (bottom and right, with the normalized value of a
black pixel, as ``gluoncv.model_zoo.segbase._pad_image``), but only to the next multiple, build the
network for the padded size, and crop its logits back: the cropped logits are the padded image's
over exactly the unpadded region. Every engine, the whole-image and the tiled paths alike, go
through :func:`iter_load_sized`.

A padded network gives logits at its input size, never ``native`` (stride 8): the final resize
maps the padded grid's corners to the padded image's, so no grid of the cropped region exists.
FCN and DANet need no padding and keep their path unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from ..errors import NetworkError
from ..events import Progress
from . import _mxnet
from .engines.mxnet import supports_native
from .engines.request import NetworkRequest
from .registry import IMAGENET_MEAN, IMAGENET_STD, ModelInfo, model_info

# What a normalized black pixel is: GluonCV pads with it.
PAD_VALUES = (-IMAGENET_MEAN / IMAGENET_STD).astype(np.float32)


def padded_size(info: ModelInfo, height: int, width: int) -> tuple[int, int]:
    """The smallest (height, width) at least this large that ``info``'s architecture can run."""
    k, least = info.family.size_multiple, info.family.least_side

    def side(n: int) -> int:
        return max(least, -(-n // k) * k)

    return side(height), side(width)


def runs_native(info: ModelInfo, height: int, width: int) -> bool:
    """Whether logits at the network's own stride-8 resolution can stand for this input size."""
    return supports_native(info.name) and padded_size(info, height, width) == (height, width)


def pad_batch(batch: np.ndarray, height: int, width: int) -> np.ndarray:
    """``batch`` (N, 3, h, w), normalized, padded at the bottom and right to (height, width)
    with normalized black."""
    n, c, h, w = batch.shape
    out = np.empty((n, c, height, width), np.float32)
    out[:] = PAD_VALUES[None, :, None, None]
    out[:, :, :h, :w] = batch
    return out


class PaddedNetwork:
    """A network built for a padded size, taking and answering the unpadded size.

    ``logits`` turns any mxnet error (none is expected) into :class:`NetworkError` naming the
    model and size, so no framework error reaches the user.
    """

    def __init__(self, inner: Any, model_name: str, height: int, width: int) -> None:
        self.inner = inner
        self.model_name = model_name
        self.height = height
        self.width = width
        self.native = bool(inner.native)

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Logits (N, C, h, w) for a normalized batch of (h, w) = this network's size (or
        the stride-8 grid of it where ``native``)."""
        padded = (self.inner.height, self.inner.width)
        x = batch if padded == batch.shape[2:] else pad_batch(batch, *padded)
        with _as_network_error(self.model_name, padded):
            out = self.inner.logits(x)
        if self.native:
            return out
        return out[:, :, : self.height, : self.width]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)  # providers, path...


def iter_load_sized(
    iter_load: Callable[[NetworkRequest], Generator[Progress, None, Any]],
    request: NetworkRequest,
) -> Generator[Progress, None, PaddedNetwork]:
    """``iter_load(request)`` (a generator of progress events, e.g.
    :func:`~.engines.iter_load_network` of an engine) for the padded size, wrapped to take
    ``request``'s (height, width); ``native`` only where the size needs no padding."""
    info = model_info(request.model_name)
    height, width = request.height, request.width
    padded = padded_size(info, height, width)
    native = request.native and runs_native(info, height, width)
    with _as_network_error(info.name, padded):
        inner = yield from iter_load(request.sized(*padded, native))
    return PaddedNetwork(inner, info.name, height, width)


@contextmanager
def _as_network_error(model_name: str, size: tuple[int, int]) -> Iterator[None]:
    """Turn mxnet's errors into :class:`NetworkError` naming the model and input size."""
    try:
        yield
    except _mxnet.loaded_error_types() as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = lines[-1] if lines else type(exc).__name__
        raise NetworkError(
            f"{model_name} cannot run at {size[0]}x{size[1]} pixels: {detail}\n"
            "Please report this; another scale or tile_size may work meanwhile."
        ) from exc
