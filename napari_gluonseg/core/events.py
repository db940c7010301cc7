"""Progress events yielded by the inference generators."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    """The stages of a run, in the order they start (a stack interleaves INFER and POSTPROCESS).

    ``PLAN`` only before a long run: working size and estimated time (see
    :class:`~napari_gluonseg.core.run.estimate.RunEstimate`); ``WEIGHTS``: finding or downloading
    them; ``LOAD``: building the network; ``INFER``: its forward passes; ``POSTPROCESS``: labels
    and probabilities; ``LAYERS``: the widget making napari layers of the result.
    """

    PLAN = "plan"
    WEIGHTS = "weights"
    LOAD = "load"
    INFER = "infer"
    POSTPROCESS = "postprocess"
    LAYERS = "layers"


@dataclass(frozen=True)
class Progress:
    """One step of a run.

    Parameters
    ----------
    stage : Stage
        Which part of the run this is (equal to its string value, e.g. ``"infer"``).
    done, total : int
        Steps finished so far out of ``total`` within the stage (bytes while downloading).
    message : str
        A short human-readable description.
    notice : bool
        Worth a line of its own that stays (a long run's estimate, a download, the one-time
        preparation of the weights): not a step the next event replaces.
    expected_s : float, optional
        How long the step that starts now is expected to take (a network window: the run's
        estimate), for a display that moves while one long step runs.
    """

    stage: Stage
    done: int
    total: int
    message: str
    notice: bool = False
    expected_s: float | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


# Each stage's share of a whole run (percent), in the order the stages start.
STAGE_SHARES = {
    Stage.PLAN: 0,
    Stage.WEIGHTS: 10,
    Stage.LOAD: 10,
    Stage.INFER: 70,
    Stage.POSTPROCESS: 5,
    Stage.LAYERS: 5,
}


class ProgressTracker:
    """A run's overall percentage from its events, that only ever moves forward.

    Stages interleave (a stack alternates "infer" and "postprocess" per plane), so the total is
    the sum of every stage's share times the furthest fraction that stage has reached.
    """

    def __init__(self) -> None:
        self._reached: dict[Stage, float] = {}

    def update(self, event: Progress) -> int:
        """Record ``event``; return the run's percentage (0..100)."""
        reached = self._reached.get(event.stage, 0.0)
        self._reached[event.stage] = max(reached, min(event.fraction, 1.0))
        return self.percent

    @property
    def percent(self) -> int:
        total = sum(STAGE_SHARES[s] * f for s, f in self._reached.items() if s in STAGE_SHARES)
        return int(total * 100 / sum(STAGE_SHARES.values()))
