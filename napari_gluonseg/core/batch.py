"""Segmenting a folder of images: one image in memory at a time per worker, resumable.

:func:`plan_batch` checks everything that is not an image (inputs, options, weights) before any
image is read; :func:`run_batch` then segments the images one by one (here, or on a Dask
cluster, see :mod:`.cluster`), each with :func:`process_image`, and writes ``summary.csv``.

An image's results are the export :func:`~.export.write_result` writes, whose provenance also
records the input file (size, blake2b) and the batch settings: a later run skips the image while
both still match, and refuses to replace results that do not (unless ``overwrite``). A bad image
is reported, with its path and reason, and the batch goes on.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from . import options
from .errors import ExportError, GluonsegError, OptionError, WeightsError
from .export import existing_export_files, read_provenance, write_result
from .files import write_files
from .images import decode_image
from .inputs import BatchItem, collect_inputs
from .registry import DEFAULT_MODEL, model_info
from .result import SegmentationResult
from .scheme import LabelScheme, SchemeLabel
from .segment import check_run, run_to_end, segment_image
from .uncertain import MARGIN_THRESHOLD
from .weights import iter_resolve_weights

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
# Provenance keys of a batch export: the input file, and the settings it was made with.
INPUT_KEY = "input"
BATCH_KEY = "batch"
# Set by a person's review: such labels are never replaced by a batch, overwrite or not.
CORRECTED_KEY = "corrected_by_hand"
# Options are checked on a stand-in image this large (no memory: a broadcast zero).
_PROBE_SHAPE = (4096, 4096, 3)


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
class BatchSettings:
    """The checked options of every image's run, and ``record``, their JSON form kept in each
    export's provenance (what a rerun compares to skip an image)."""

    segment_kwargs: dict[str, Any]
    overlay: bool
    record: dict[str, Any]
    keep_scores: bool = False


@dataclass(frozen=True)
class BatchPlan:
    """A checked batch: images, output folder, settings, where it runs."""

    items: tuple[BatchItem, ...]
    out_dir: Path
    settings: BatchSettings
    overwrite: bool = False
    workers: int | None = None
    scheduler: str | None = None


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


def plan_batch(
    inputs: Iterable[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    recursive: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    overlay: bool = False,
    keep_scores: bool = False,
    model_name: str = DEFAULT_MODEL,
    **segment_kwargs: Any,
) -> BatchPlan:
    """Check a batch before any image is read: inputs, options, workers, weights.

    Raises :class:`OptionError` (and the other errors of :func:`~.segment.check_run`) for bad
    arguments and :class:`~.errors.WeightsUnavailableError` for missing weights.
    """
    out = Path(out_dir).absolute()
    if out.exists() and not out.is_dir():
        raise OptionError(f"The output folder {out} is a file; give a folder.")
    items = collect_inputs(inputs, recursive, exclude=out)
    if workers is not None and scheduler is not None:
        raise OptionError("Give either workers (a local cluster) or a scheduler address.")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise OptionError(f"workers must be a whole number >= 1; got {workers!r}.")
    settings = prepare_settings(model_name, overlay, segment_kwargs, keep_scores)
    return BatchPlan(tuple(items), out, settings, overwrite, workers, scheduler)


def prepare_settings(
    model_name: str, overlay: bool, segment_kwargs: dict, keep_scores: bool = False
) -> BatchSettings:
    """Check the options on a stand-in image and resolve the weights (fetched if missing).

    Workers get absolute paths and the loaded scheme: they may run in other folders, or on
    other machines that share the files.
    """
    stand_in = np.broadcast_to(np.uint8(0), _PROBE_SHAPE)
    plan = check_run(stand_in, model_name, check_memory_first=False, **segment_kwargs)
    weights = run_to_end(iter_resolve_weights(model_name, plan.weights))
    scheme = None if plan.scheme is None else dataclasses.asdict(plan.scheme)
    if scheme is not None:
        scheme.pop("source")  # the labels matter, not where the file was
    # The checked values, not the arguments: defaults given or not, the same run matches.
    record = {
        "model": model_name,
        "weights_sha1": weights.sha1,
        "engine": plan.engine,
        "scale": plan.scale,
        "tile_size": plan.tile,
        "flip": plan.flip,
        "tta_scales": plan.factors,
        "classes": plan.subset,
        "probability_classes": plan.wanted,
        "min_confidence": plan.min_confidence,
        "intensity_range": plan.stack.intensity_range,
        "rgb": segment_kwargs.get("rgb"),
        "scheme": scheme,
        "overlay": bool(overlay),
    }
    if options.flag(keep_scores, "keep_scores"):  # only then: older records stay matches
        record["keep_scores"] = True
    # Tuples become lists: the form the provenance file gives back.
    record = json.loads(json.dumps(record, default=str, sort_keys=True))
    kwargs = {**segment_kwargs, "model_name": model_name, "scheme": plan.scheme}
    if plan.weights is not None:
        kwargs["weights"] = Path(plan.weights).absolute()
    return BatchSettings(kwargs, bool(overlay), record, keep_scores)


def options_of(provenance: dict[str, Any]) -> dict[str, Any]:
    """The :func:`segment_folder` options an export was made with, read back from its
    provenance (the record :func:`prepare_settings` wrote and the weights file), so that more
    images of the folder can be done the same way. Raises :class:`OptionError` naming what is
    missing (an export not made by a batch, weights no longer where they were)."""
    batch = provenance.get(BATCH_KEY)
    record = batch.get("settings") if isinstance(batch, dict) else None
    if not isinstance(record, dict) or "model" not in record:
        raise OptionError("These results were not made by a batch: no settings to repeat.")
    weights = Path(str(provenance.get("weights", "")))
    if not weights.is_file():
        raise OptionError(
            f"The weights these results were made with, {weights}, are no longer there."
        )
    scheme = _scheme_of(record.get("scheme"))
    names = scheme.class_names if scheme is not None else model_info(record["model"]).class_names
    kwargs = {
        "model_name": record["model"],
        "weights": weights,
        "scheme": scheme,
        "probability_classes": [names[k] for k in record.get("probability_classes") or ()],
        "overlay": bool(record.get("overlay")),
        "keep_scores": bool(record.get("keep_scores")),
    }
    for key in ("engine", "scale", "tile_size", "flip", "min_confidence", "rgb", "classes"):
        kwargs[key] = record.get(key)
    kwargs["tta_scales"] = record.get("tta_scales") or ()
    if record.get("intensity_range") is not None:
        kwargs["intensity_range"] = tuple(record["intensity_range"])
    return kwargs


def _scheme_of(record: Any) -> LabelScheme | None:
    if not isinstance(record, dict):
        return None
    labels = tuple(
        SchemeLabel(lab["value"], lab["name"], tuple(lab["color"]), tuple(lab["classes"]))
        for lab in record["labels"]
    )
    return LabelScheme(record["name"], labels)


def run_batch(
    plan: BatchPlan,
    on_image: Callable[[ImageReport], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> BatchSummary:
    """Segment the plan's images; ``on_image`` hears of each as it ends, ``should_stop`` is
    asked before each (True: start no other image; those running finish). Writes
    ``summary.csv`` (also when stopped or failing) and returns the summary."""
    return run_to_end(iter_batch(plan, should_stop), on_image)


def iter_batch(
    plan: BatchPlan, should_stop: Callable[[], bool] | None = None
) -> Generator[ImageReport, None, BatchSummary]:
    """:func:`run_batch` as a generator of each image's report (for a napari thread worker);
    returns the summary. Closing it stops after the images running, summary written."""
    task = partial(
        process_image, out_dir=plan.out_dir, settings=plan.settings, overwrite=plan.overwrite
    )
    stop = should_stop if should_stop is not None else lambda: False
    if plan.workers is None and plan.scheduler is None:
        runner: Generator[ImageReport, None, None] = _run_here(plan.items, task, stop)
    else:
        from .cluster import run_on_dask

        runner = run_on_dask(plan.items, task, stop, plan.workers, plan.scheduler)
    started = time.perf_counter()
    reports: list[ImageReport] = []
    try:
        for report in runner:
            reports.append(report)
            yield report
    finally:
        runner.close()
        order = {item.key: n for n, item in enumerate(plan.items)}
        reports.sort(key=lambda r: order[r.key])
        elapsed = time.perf_counter() - started
        stopped = len(reports) < len(plan.items)
        summary = BatchSummary(plan.out_dir, tuple(reports), len(plan.items), elapsed, stopped)
        write_summary(summary)
    return summary


def _run_here(
    items: Iterable[BatchItem], task: Callable, should_stop: Callable[[], bool]
) -> Generator[ImageReport, None, None]:
    for item in items:
        if should_stop():
            return
        yield task(item)


def segment_folder(
    inputs: Iterable[str | os.PathLike] | str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    recursive: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    overlay: bool = False,
    keep_scores: bool = False,
    **segment_kwargs: Any,
) -> BatchSummary:
    """Segment image files, folders or globs into ``out_dir``, as the command line does.

    Parameters
    ----------
    inputs : path, glob, or iterable of them
        Results keep each image's path relative to its folder, glob prefix or (a file) its
        parent (:mod:`.inputs`).
    out_dir : path
        ``{key}_labels.png``, ``_classes.csv``, ``_provenance.json`` (and ``_overlay.png``,
        ``_P(class).png``) per image, and ``summary.csv``.
    recursive : bool
        Descend into sub-folders (and let ``**`` in globs match folders).
    workers : int, optional
        Run on a local Dask cluster of this many processes (each loads the model once).
    scheduler : str, optional
        Run on the Dask scheduler at this address; its workers must see the same files.
    overwrite : bool
        Redo images whose results exist (else they are skipped if made from the same file
        with the same settings, and failed otherwise). Hand-corrected labels are never redone.
    overlay : bool
        Also write the image blended with its labels.
    keep_scores : bool
        Also write the run's probabilities on its coarse grid (``_scores.npz``): the review
        dock shows any class's probability and the model's doubtful places from them.
    **segment_kwargs
        ``model_name`` and the options of :func:`~.segment.segment_image`.

    Returns
    -------
    BatchSummary
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    plan = plan_batch(
        inputs,
        out_dir,
        recursive=recursive,
        workers=workers,
        scheduler=scheduler,
        overwrite=overwrite,
        overlay=overlay,
        keep_scores=keep_scores,
        **segment_kwargs,
    )
    return run_batch(plan)


def process_image(
    item: BatchItem, out_dir: Path, settings: BatchSettings, overwrite: bool
) -> ImageReport:
    """Segment one image and write its results, or skip it, or report why it failed.

    Errors about the image (unreadable, corrupt, too large, results in the way) become a failed
    report; a :class:`WeightsError` (the same for every image) and bugs are raised.
    """
    started = time.perf_counter()
    report = partial(ImageReport, str(item.path), item.key)
    try:
        data = item.path.read_bytes()
    except OSError as exc:
        return report("failed", f"{item.path}: cannot read it: {exc.strerror or exc}")
    file_bytes = len(data)
    source = {"file": item.key, "bytes": file_bytes, "blake2b": hashlib.blake2b(data).hexdigest()}
    folder = item.out_folder(out_dir)
    existing = existing_export_files(folder, item.stem)
    if existing:
        kept = _kept_export(existing, out_dir, item, source, settings, overwrite)
        if kept is not None:
            return dataclasses.replace(kept, seconds=time.perf_counter() - started)
    try:
        image = decode_image(data, item.path)
        del data  # one image in memory: the decoded one
        result = segment_image(image, **settings.segment_kwargs)
        quality = _quality(result, settings.segment_kwargs.get("min_confidence", 0.0))
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
    provenance = stored_provenance(folder / f"{item.stem}_provenance.json")
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
    if provenance.get(INPUT_KEY) == source and earlier.get("settings") == settings.record:
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


def _quality(result: SegmentationResult, min_confidence: float) -> Quality:
    """Mean confidence, and the fraction of pixels below ``min_confidence`` or whose two best
    classes are within MARGIN_THRESHOLD (where a person should look first)."""
    confidence = result.confidence
    uncertain = confidence < min_confidence
    if result.scores is not None:
        uncertain |= result.scores.margin_map() < MARGIN_THRESHOLD
    height, width = result.labels.shape[-2:]
    return {
        "height": int(height),
        "width": int(width),
        "mean_confidence": round(float(confidence.mean(dtype=np.float64)), 6),
        "uncertain_fraction": round(float(uncertain.mean(dtype=np.float64)), 6),
        "margin_threshold": MARGIN_THRESHOLD,
    }


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
