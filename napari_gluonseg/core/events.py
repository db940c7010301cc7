"""Progress events yielded by the inference generators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One step of a run.

    Parameters
    ----------
    stage : str
        ``"plan"`` (only before a long run: working size and estimated time, see
        :class:`~napari_gluonseg.core.estimate.RunEstimate`), ``"weights"`` (finding or
        downloading), ``"load"`` (building the network),
        ``"infer"`` (network forward passes) or ``"postprocess"``.
    done, total : int
        Steps finished so far out of ``total`` within the stage (bytes while downloading).
    message : str
        A short human-readable description.
    """

    stage: str
    done: int
    total: int
    message: str

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


# Each stage's share of a whole run (percent), in the order the stages start.
STAGE_SHARES = {"plan": 0, "weights": 10, "load": 10, "infer": 70, "postprocess": 5, "layers": 5}


class ProgressTracker:
    """A run's overall percentage from its events, that only ever moves forward.

    Stages interleave (a stack alternates "infer" and "postprocess" per plane), so the total is
    the sum of every stage's share times the furthest fraction that stage has reached.
    """

    def __init__(self) -> None:
        self._reached: dict[str, float] = {}

    def update(self, event: Progress) -> int:
        """Record ``event``; return the run's percentage (0..100)."""
        reached = self._reached.get(event.stage, 0.0)
        self._reached[event.stage] = max(reached, min(event.fraction, 1.0))
        return self.percent

    @property
    def percent(self) -> int:
        total = sum(STAGE_SHARES[s] * f for s, f in self._reached.items() if s in STAGE_SHARES)
        return int(total * 100 / sum(STAGE_SHARES.values()))
