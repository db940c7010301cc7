"""A batch's reports: what became of each image, the batch's summary, and ``summary.csv``
(one row per image of every batch run into the folder: a later batch's row for an image
replaces the earlier one, rows of images it did not run are kept)."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_files
from ..errors import ExportError

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
    """``summary.csv`` in the output folder, one row per image, merged with the rows earlier
    batches wrote there (written atomically). Raises :class:`ExportError` naming an earlier
    summary that cannot be read, or the summary where it cannot be written."""
    rows = {row["input"]: row for row in read_summary_rows(summary.summary_csv)}
    for r in summary.reports:  # this batch's row of an image replaces an earlier one
        row = dataclasses.asdict(r)
        row["outputs"] = ";".join(r.outputs)
        row["seconds"] = round(r.seconds, 3)
        rows[r.input] = {k: "" if row[k] is None else row[k] for k in SUMMARY_COLUMNS}
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(SUMMARY_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows.values())
    try:
        summary.out_dir.mkdir(parents=True, exist_ok=True)
        write_files({summary.summary_csv: text.getvalue().encode()})
    except OSError as exc:  # a full or read-only disk: the earlier summary is kept as it was
        raise ExportError(
            f"Cannot write {summary.summary_csv}: {exc.strerror or exc}; any earlier summary "
            "there is kept as it was."
        ) from exc
    return summary.summary_csv


def read_summary_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a ``summary.csv`` ([] where there is none); :class:`ExportError` naming the
    file for one that cannot be read (a batch checks this before it starts: its rows would be
    lost)."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if "input" not in (reader.fieldnames or []):
                raise ExportError(
                    f"{path} has no 'input' column in its first row: it is not a batch summary "
                    "this batch can add its rows to. Move it aside, or give another folder."
                )
            return [{k: v or "" for k, v in row.items() if k in SUMMARY_COLUMNS} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(
            f"Cannot read {path} to add this batch's rows to it: {exc}. Move it aside, or give "
            "another folder."
        ) from exc
