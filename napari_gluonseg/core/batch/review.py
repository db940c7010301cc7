"""Reviewing a folder of pre-annotations: which images there are, in which order to check them,
where the person stopped, and saving their corrections. Qt-free (the dock is an adapter).

The images are listed with the batch's keys (:func:`~.core.inputs.collect_inputs`), so
``images/a/x.jpg`` pairs with ``results/a/x_labels.png``. Corrections replace the export
atomically and mark its provenance :data:`~.core.batch_settings.CORRECTED_KEY`: a later batch
keeps them.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import time
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import write_files
from ..errors import ExportError, OptionError
from ..files.export import write_labels
from ..files.images import read_image
from ..files.names import ExportNames
from ..files.read_export import LabelsExport, read_export, read_scores
from ..provenance import BATCH_KEY, CORRECTED_KEY, CORRECTIONS_KEY
from ..run.options import RunOptions
from ..run.scores import ScoreGrid
from .folder import iter_batch, plan_batch
from .image import stored_provenance
from .inputs import BatchItem, collect_inputs
from .settings import RecordedBatch, recorded_batch
from .summary import SUMMARY_NAME, BatchSummary, ImageReport

REVIEW_FILE = "review.json"
# Where a review records each save: how many pixels it changed against the labels it replaced.


class ReviewStatus(StrEnum):
    """Where an image stands: results to check, checked, or none (failed, or not run yet)."""

    PRE_ANNOTATED = "pre-annotated"
    REVIEWED = "reviewed"
    FAILED = "failed"
    MISSING = "missing"


@dataclass(frozen=True)
class ReviewItem:
    """One image of the folder, its labels export (if any) and how sure the model was."""

    key: str
    image: Path
    labels: Path | None
    status: ReviewStatus
    mean_confidence: float | None = None
    uncertain_fraction: float | None = None
    error: str = ""

    def describe(self) -> str:
        """``a/x  [pre-annotated, 12% uncertain]``: one line of the dock's list."""
        extra = [self.status.value]
        if self.uncertain_fraction is not None:
            extra.append(f"{self.uncertain_fraction:.0%} uncertain")
        return f"{self.key}  [{', '.join(extra)}]"

    def open(self) -> OpenedItem:
        """The image and its labels as read from disk (the package's errors name the file)."""
        return open_item(self)


class ReviewSession:
    """The images of ``images_dir`` and their results in ``results_dir`` (a batch's output).

    Parameters
    ----------
    images_dir, results_dir : path
        The folder the batch read, and its output folder.
    recursive : bool
        Whether the batch descended into sub-folders.
    by_uncertainty : bool
        Least confident first (most uncertain pixels, then lowest mean confidence); else by key.
    """

    def __init__(
        self,
        images_dir: str | os.PathLike,
        results_dir: str | os.PathLike,
        recursive: bool = False,
        by_uncertainty: bool = True,
    ) -> None:
        self.images_dir = Path(images_dir).absolute()
        self.results_dir = Path(results_dir).absolute()
        if not self.images_dir.is_dir():
            raise OptionError(f"The image folder {self.images_dir} is not a folder.")
        self._recursive = recursive
        self._by_uncertainty = by_uncertainty
        self.items: list[ReviewItem] = []
        self.refresh()

    def refresh(self) -> list[ReviewItem]:
        """List the images again (statuses change as the person saves)."""
        inputs = collect_inputs([self.images_dir], self._recursive, exclude=self.results_dir)
        failures = _failures(self.results_dir / SUMMARY_NAME)
        items = [_review_item(i, self.results_dir, failures.get(str(i.path))) for i in inputs]
        self.items = sorted(items, key=_uncertainty_order) if self._by_uncertainty else items
        return self.items

    @property
    def recursive(self) -> bool:
        """Whether the folder's sub-folders are listed too."""
        return self._recursive

    def index_of(self, key: str) -> int | None:
        return next((n for n, item in enumerate(self.items) if item.key == key), None)

    @property
    def review_file(self) -> Path:
        return self.results_dir / REVIEW_FILE

    def last_key(self) -> str | None:
        """The image opened last (saved by :meth:`remember`), or None."""
        try:
            record = json.loads(self.review_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        key = record.get("last_key") if isinstance(record, dict) else None
        return key if isinstance(key, str) else None

    def remember(self, key: str) -> None:
        """Record ``key`` as where the person is, so reopening the folder resumes there."""
        self.results_dir.mkdir(parents=True, exist_ok=True)
        record = {"images_dir": str(self.images_dir), "last_key": key}
        write_files({self.review_file: (json.dumps(record, indent=2) + "\n").encode()})

    def write_corrections(
        self,
        item: ReviewItem,
        labels: np.ndarray,
        class_names: Sequence[str],
        colors: Sequence[Sequence[int]],
        provenance: dict[str, Any],
        hand_edits: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Replace ``item``'s export with corrected ``labels``, atomically, marked as corrected
        by hand with the number of pixels changed against the labels replaced (and
        ``hand_edits``, what the hand-edit tracker counted: pixels set by hand, pixels by tool).
        Returns the provenance written (pass it to the next save of the same image).

        The session's list is left as it is (:meth:`refresh` it after, to see the image marked
        reviewed): a worker thread may write while the list is read."""
        labels = np.asarray(labels)
        changed, scores = labels.size, None
        if item.labels is not None:
            before = read_export(item.labels).labels
            if before.shape == labels.shape:
                changed = int(np.count_nonzero(before != labels))
                scores = _kept_scores_of(item.labels, labels.shape)
        history = list(provenance.get(CORRECTIONS_KEY, []))
        saved = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        history.append({"pixels_changed": changed, "saved": saved, **(hand_edits or {})})
        record = {**provenance, CORRECTED_KEY: True, CORRECTIONS_KEY: history}
        batch_item = BatchItem(item.image, item.key)
        folder = batch_item.results_folder(self.results_dir)
        stem = batch_item.stem
        write_labels(
            labels, class_names, colors, record, folder, stem, overwrite=True, scores=scores
        )
        return record

    def recorded_batch(self) -> RecordedBatch:
        """The settings this folder's results were made with (:func:`~.settings.recorded_batch`),
        to pre-annotate the other images the same way; the defaults where none has results.
        Results not corrected by hand come first: they are what the last pre-annotation made
        (with a learned model, say), where a correction keeps the record of its first run."""
        by_hand = ReviewStatus.REVIEWED
        for item in sorted(self.items, key=lambda i: i.status is by_hand):
            found = ExportNames.of_labels_file(item.labels) if item.labels is not None else None
            if found is not None:
                return recorded_batch(stored_provenance(found.provenance))
        return RecordedBatch(RunOptions(), overlay=False, keep_scores=False)

    def iter_pre_annotate(
        self, should_stop: Callable[[], bool], model: str | None = None
    ) -> Generator[ImageReport, None, BatchSummary]:
        """Pre-annotate the images without results (and those that failed) as the batch did
        the others, one report per image; results already made, and corrections, are kept.

        With ``model`` (a learned model's path), the results not corrected
        by hand are done again with it too, with the folder's other recorded settings: its class
        table is the one of the labels it learned from, so a scheme is no longer given (nor a
        choice among the classes the scheme grouped). Corrected results are never redone
        (:func:`~.image.process_image`)."""
        recorded = self.recorded_batch()
        options = recorded.options
        if model is not None:
            grouped = options.scheme is not None
            options = dataclasses.replace(
                options,
                model_name=model,
                weights=None,
                scheme=None,
                classes=None if grouped else options.classes,
            )
        plan = plan_batch(
            [self.images_dir],
            self.results_dir,
            options,
            recursive=self._recursive,
            overwrite=model is not None,
            overlay=recorded.overlay,
            keep_scores=recorded.keep_scores,
        )
        return (yield from iter_batch(plan, should_stop))


@dataclass(frozen=True)
class OpenedItem:
    """An image of the review and its labels export as read from disk: what Next shows.

    ``stamps``: (path, modification time, size) of each file read, so a copy read ahead is used
    only while the files are unchanged (a batch may rewrite them meanwhile).
    """

    key: str
    image: np.ndarray
    export: LabelsExport | None
    stamps: tuple[tuple[Path, int, int], ...]
    scores: ScoreGrid | None = None  # kept by the batch (--keep-scores)

    def is_current(self) -> bool:
        return all(file_stamp(path) == (path, mtime, size) for path, mtime, size in self.stamps)


def open_item(item: ReviewItem) -> OpenedItem:
    """Read ``item``'s image and labels export (raises the package's errors, naming the file)."""
    paths = [item.image] if item.labels is None else [item.image, item.labels]
    found = ExportNames.of_labels_file(item.labels) if item.labels is not None else None
    if found is not None:  # a scores file that changes makes this copy stale too
        paths.append(found.scores)
    # Stamped before reading: a file rewritten meanwhile no longer matches its stamp.
    stamps = tuple(stamp for stamp in map(file_stamp, paths) if stamp is not None)
    export = scores = None
    if item.labels is not None:
        export = read_export(item.labels)
        scores = read_scores(item.labels, export.labels.shape)
    return OpenedItem(item.key, read_image(item.image), export, stamps, scores)


def file_stamp(path: Path) -> tuple[Path, int, int] | None:
    """(path, modification time in ns, size) of a file, None where it is not there."""
    try:
        st = path.stat()
    except OSError:
        return None
    return path, st.st_mtime_ns, st.st_size


class ReadAhead:
    """Reads the images a person is likely to open next while they work on this one, in one
    background thread, so that Next shows a large photo at once instead of decoding it then.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="gluonseg-review")
        self._pending: dict[str, Future[OpenedItem]] = {}
        self._calls: list[Future[Any]] = []

    def read_ahead(self, items: Sequence[ReviewItem]) -> None:
        """Keep ``items`` read (in this order), forgetting any other read ahead."""
        keep = {item.key for item in items}
        for key in [k for k in self._pending if k not in keep]:
            self._pending.pop(key).cancel()
        for item in items:
            if item.key not in self._pending:
                self._pending[item.key] = self._pool.submit(item.open)

    def take(self, item: ReviewItem) -> OpenedItem:
        """``item`` opened: the copy read ahead if it is done or under way and still current,
        else read now (so errors are raised here, in the caller's thread)."""
        return finish_reading(item, self.claim(item))

    def claim(self, item: ReviewItem) -> Future[OpenedItem] | None:
        """The read of ``item`` under way or done, taken out of those kept (None: none was
        asked for); :func:`finish_reading` waits for it, in any thread."""
        return self._pending.pop(item.key, None)

    def call(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` in the background thread, after what was asked before it (small
        synced writes that need not hold up the person; :meth:`flush` waits for them)."""
        self._calls = [f for f in self._calls if not f.done()]
        self._calls.append(self._pool.submit(fn, *args))

    def flush(self) -> None:
        """Wait for every :meth:`call` (raising the first error)."""
        calls, self._calls = self._calls, []
        for future in calls:
            future.result()

    def close(self) -> None:
        """Forget what was read ahead; finish the calls."""
        for future in self._pending.values():
            future.cancel()
        self._pending.clear()
        try:
            self.flush()
        finally:
            self._pool.shutdown(wait=False)


def finish_reading(item: ReviewItem, future: Future[OpenedItem] | None) -> OpenedItem:
    """``item`` opened: what ``future`` read (:meth:`ReadAhead.claim`) if it is still current,
    else read now (so errors are raised here, in the caller's thread)."""
    if future is not None and not future.cancelled():
        try:
            opened = future.result()
        except Exception:  # read again below: the error is raised to the caller
            opened = None
        same_files = opened is not None and (opened.export is None) == (item.labels is None)
        if opened is not None and same_files and opened.is_current():
            return opened
    return item.open()


def _review_item(item: BatchItem, results_dir: Path, failure: str | None) -> ReviewItem:
    folder = item.out_folder(results_dir)
    names = ExportNames(folder, item.stem)
    labels = next((path for path in names.labels_candidates if path.is_file()), None)
    if labels is None:
        status = ReviewStatus.MISSING if failure is None else ReviewStatus.FAILED
        return ReviewItem(item.key, item.path, None, status, error=failure or "")
    provenance = stored_provenance(names.provenance)
    batch = provenance.get(BATCH_KEY)
    batch = batch if isinstance(batch, dict) else {}
    reviewed = bool(provenance.get(CORRECTED_KEY))
    return ReviewItem(
        item.key,
        item.path,
        labels,
        ReviewStatus.REVIEWED if reviewed else ReviewStatus.PRE_ANNOTATED,
        _number(batch.get("mean_confidence")),
        _number(batch.get("uncertain_fraction")),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None


def _uncertainty_order(item: ReviewItem) -> tuple:
    """Images with results first, most uncertain first; those without results last, by key."""
    if item.labels is None:
        return (1, 0.0, 0.0, item.key)
    fraction = item.uncertain_fraction if item.uncertain_fraction is not None else 0.0
    confidence = item.mean_confidence if item.mean_confidence is not None else 1.0
    return (0, -fraction, confidence, item.key)


def _failures(summary_csv: Path) -> dict[str, str]:
    """input path -> error of the images the last batch failed on ({} without a summary)."""
    try:
        with open(summary_csv, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error):
        return {}
    return {r.get("input", ""): r.get("error", "") for r in rows if r.get("status") == "failed"}


def _kept_scores_of(labels_path: Path, shape: tuple[int, ...]) -> ScoreGrid | None:
    """The scores kept beside an export, to keep beside its corrected labels too (a damaged
    file is not worth refusing the corrections for: it is left out)."""
    try:
        return read_scores(labels_path, shape)
    except ExportError:
        return None
