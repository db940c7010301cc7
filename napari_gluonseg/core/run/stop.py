"""Stopping a run from another thread, whatever engine runs it (a dock's Cancel).

The run's worker iterates it inside :func:`stoppable`, which gives the worker's thread id;
:func:`stop` with that id ends the network call running there where the engine can (onnxruntime
at once; MXNet's forward pass finishes) and refuses every call the run starts after, so the run
ends at its next network call even where its generator is not asked again (napari's worker
stops a generator only at its next yield).
"""

from __future__ import annotations

from ..models.engines.stopping import stop_calls_in as stop
from ..models.engines.stopping import stoppable_calls as stoppable

__all__ = ["stop", "stoppable"]
