"""Progress events yielded by the inference generators."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One step of a run.

    Parameters
    ----------
    stage : str
        ``"weights"`` (finding or downloading), ``"load"`` (building the network),
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
