"""One image of a batch: segmented and written, skipped (its results are there, made from the
same file with the same settings, or corrected by hand), or failed with the reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from ..edits.uncertain import MARGIN_THRESHOLD, uncertain_mask
from ..errors import ExportError, GluonsegError, ImageError, WeightsError
from ..events import Progress
from ..files.export import (
    check_name_lengths,
    existing_export_files,
    finish_interrupted_exports,
    write_result,
)
from ..files.images import decode_planes, read_file_bytes
from ..files.names import ExportNames
from ..files.read_export import read_provenance
from ..provenance import BATCH_KEY, CORRECTED_KEY, INPUT_KEY
from ..run.result import SegmentationResult
from ..run.segment import iter_segment, run_to_end
from .inputs import BatchItem
from .settings import BatchSettings, same_settings
from .summary import ImageReport

# Hears an image's progress events: (the image, the event).
OnProgress = Callable[[BatchItem, Progress], None]


def process_image(
    item: BatchItem,
    out_dir: Path,
    settings: BatchSettings,
    overwrite: bool,
    on_progress: OnProgress | None = None,
) -> ImageReport:
    """Segment one image and write its results, or skip it, or report why it failed.

    Errors about the image (unreadable, corrupt, too large, results in the way) become a failed
    report; a :class:`WeightsError` (the same for every image) and bugs are raised.
    ``on_progress`` hears the run's progress events with the item they belong to.
    """
    started = time.perf_counter()
    report = partial(ImageReport, str(item.path), item.key)
    try:
        data = read_file_bytes(item.path)
    except ImageError as exc:
        return report("failed", str(exc))
    file_bytes = len(data)
    source = {"file": item.key, "bytes": file_bytes, "blake2b": hashlib.blake2b(data).hexdigest()}
    try:
        folder = item.results_folder(out_dir)
        check_name_lengths(ExportNames(folder, item.stem))  # e.g. a 245-character file name
        # A set an interrupted run left half-renamed is finished, then judged as any other.
        finish_interrupted_exports(folder, item.stem)
        existing = existing_export_files(folder, item.stem)
    except (ExportError, OSError) as exc:
        return report("failed", _reason(item, exc), file_bytes=file_bytes)
    if existing:
        kept = _kept_export(existing, out_dir, item, source, settings, overwrite)
        if kept is not None:
            return dataclasses.replace(kept, seconds=time.perf_counter() - started)
    try:
        image, rgb = decode_planes(data, item.path)
        del data  # one image in memory: the decoded one
        options = settings.options
        if options.rgb is None and rgb is not None:  # the file says what the shape cannot
            options = dataclasses.replace(options, rgb=rgb)
        events = iter_segment(image, options)
        heard = None if on_progress is None else partial(on_progress, item)
        result = run_to_end(events, heard)
        quality = _quality(result)
        batch = {**quality, "settings": settings.record}
        result.provenance.update({INPUT_KEY: source, BATCH_KEY: batch})
        paths = write_result(
            result,
            folder,
            item.stem,
            image=image if settings.overlay else None,
            overwrite=overwrite,
            probability_maps=True,
            keep_scores=settings.keep_scores,
        )
    except WeightsError:
        raise
    except (GluonsegError, MemoryError, OSError) as exc:
        seconds = time.perf_counter() - started
        return report("failed", _reason(item, exc), file_bytes=file_bytes, seconds=seconds)
    return report(
        "done",
        outputs=_relative(paths.values(), out_dir),
        file_bytes=file_bytes,
        seconds=time.perf_counter() - started,
        height=quality["height"],
        width=quality["width"],
        mean_confidence=quality["mean_confidence"],
        uncertain_fraction=quality["uncertain_fraction"],
    )


def _kept_export(
    existing: list[Path],
    out_dir: Path,
    item: BatchItem,
    source: dict[str, Any],
    settings: BatchSettings,
    overwrite: bool,
) -> ImageReport | None:
    """The report for an image whose results are already there, or None to (re)do it; its
    figures are those the export's provenance recorded (:func:`_quality`)."""
    folder = item.out_folder(out_dir)
    provenance = stored_provenance(ExportNames(folder, item.stem).provenance)
    batch = provenance.get(BATCH_KEY)
    earlier: dict[str, Any] = batch if isinstance(batch, dict) else {}
    report = partial(
        ImageReport,
        str(item.path),
        item.key,
        outputs=_relative(existing, out_dir),
        file_bytes=source["bytes"],
        height=earlier.get("height"),
        width=earlier.get("width"),
        mean_confidence=earlier.get("mean_confidence"),
        uncertain_fraction=earlier.get("uncertain_fraction"),
    )
    if provenance.get(CORRECTED_KEY):
        return report("skipped", f"{item.path}: its labels were corrected by hand; kept.")
    if overwrite:
        return None
    if provenance.get(INPUT_KEY) == source and same_settings(
        earlier.get("settings"), settings.record
    ):
        return report("skipped")
    return dataclasses.replace(
        report("failed"),
        error=f"{item.path}: results made from another version of this file or with other "
        f"settings are in {folder} ({', '.join(p.name for p in existing)}); "
        "overwrite (--overwrite) redoes them.",
    )


def stored_provenance(path: Path) -> dict[str, Any]:
    """The provenance record, or {} when there is none or it is unreadable (never a match)."""
    try:
        return read_provenance(path)
    except ExportError:
        return {}


def _relative(paths: Iterable[Path], out_dir: Path) -> tuple[str, ...]:
    return tuple(sorted(p.relative_to(out_dir).as_posix() for p in paths))


def _reason(item: BatchItem, exc: BaseException) -> str:
    """The error's message, naming the input file (package errors about arrays do not)."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, MemoryError) and not isinstance(exc, GluonsegError):
        text = f"out of memory ({text})"
    return text if str(item.path) in text else f"{item.path}: {text}"


class Quality(TypedDict):
    """What :func:`_quality` measures, kept in the export's provenance."""

    height: int
    width: int
    mean_confidence: float
    uncertain_fraction: float
    margin_threshold: float


def _quality(result: SegmentationResult) -> Quality:
    """Mean confidence, and the fraction of pixels the review will show as uncertain
    (:func:`~..edits.uncertain.uncertain_mask`: unlabeled, or two best classes close)."""
    confidence = result.confidence
    uncertain = uncertain_mask(result.labels, result.scores)
    height, width = result.labels.shape[-2:]
    return {
        "height": int(height),
        "width": int(width),
        "mean_confidence": round(float(confidence.mean(dtype=np.float64)), 6),
        "uncertain_fraction": round(float(uncertain.mean(dtype=np.float64)), 6),
        "margin_threshold": MARGIN_THRESHOLD,
    }
