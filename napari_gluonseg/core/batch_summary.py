"""A batch's reports: what became of each image, the batch's summary, and ``summary.csv``."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

from .files import write_files

SUMMARY_NAME = "summary.csv"
SUMMARY_COLUMNS = (
    "input",
    "outputs",
    "status",
    "error",
    "height",
    "width",
    "file_bytes",
    "seconds",
    "mean_confidence",
    "uncertain_fraction",
)


@dataclass(frozen=True)
class ImageReport:
    """What became of one image: ``status`` is ``done``, ``skipped`` or ``failed`` (``error``
    says why); ``outputs`` are paths relative to the output folder."""

    input: str
    key: str
    status: str
    error: str = ""
    outputs: tuple[str, ...] = ()
    height: int | None = None
    width: int | None = None
    file_bytes: int | None = None
    seconds: float = 0.0
    mean_confidence: float | None = None
    uncertain_fraction: float | None = None


@dataclass(frozen=True)
class BatchSummary:
    """A batch's reports in input order, its wall time, and whether it was stopped early."""

    out_dir: Path
    reports: tuple[ImageReport, ...]
    total: int
    seconds: float
    stopped: bool

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.reports)

    @property
    def seconds_per_image(self) -> float | None:
        """Wall time per image segmented (skipped ones excluded); None if none was."""
        done = self.count("done")
        return self.seconds / done if done else None

    @property
    def summary_csv(self) -> Path:
        return self.out_dir / SUMMARY_NAME


def write_summary(summary: BatchSummary) -> Path:
    """``summary.csv`` in the output folder, one row per image (written atomically)."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(SUMMARY_COLUMNS))
    writer.writeheader()
    for r in summary.reports:
        row = dataclasses.asdict(r)
        row["outputs"] = ";".join(r.outputs)
        row["seconds"] = round(r.seconds, 3)
        writer.writerow({k: "" if row[k] is None else row[k] for k in SUMMARY_COLUMNS})
    summary.out_dir.mkdir(parents=True, exist_ok=True)
    write_files({summary.summary_csv: text.getvalue().encode()})
    return summary.summary_csv
