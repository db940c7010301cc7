"""What a network is loaded for (:class:`NetworkRequest`): the one value every engine's loader
takes (:func:`~.iter_load_network`), and the engines' cache keys are made of."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..weights import ResolvedWeights


@dataclass(frozen=True)
class NetworkRequest:
    """A network of ``model_name`` with ``weights``, for inputs of (height, width).

    ``native``: logits at the network's own resolution where the architecture allows it.
    ``threads``: onnxruntime's intra-op threads (None: all cores); MXNet's OpenMP threads for
    the process.
    """

    model_name: str
    weights: ResolvedWeights
    height: int
    width: int
    native: bool = False
    threads: int | None = None

    def sized(self, height: int, width: int, native: bool) -> NetworkRequest:
        """The same network for another input size (and ``native``)."""
        return replace(self, height=height, width=width, native=native)
