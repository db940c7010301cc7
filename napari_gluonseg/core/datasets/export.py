"""Writing a batch's results (or labels in memory) as a dataset of a format other tools read:
checked first, written into a scratch folder beside ``out``, then moved into place whole: an
error or Ctrl-C on the way leaves ``out`` as it was."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from itertools import islice
from pathlib import Path

import numpy as np

from ..atomic import temp_name
from ..errors import DatasetError, ExportExistsError
from ..events import Progress, Stage
from .cityscapes import CityscapesWriter
from .coco import CocoWriter
from .items import Classes, SourceItem, dataset_names, results_items, split_of
from .voc import CvatMaskWriter, VocWriter
from .writer import DatasetWriter
from .yolo import YoloWriter

WORKERS = min(4, os.cpu_count() or 1)  # threads writing a dataset's images
SIDECAR = "gluonseg_dataset.json"  # the scheme's names and colours, and where the set came from


class DatasetFormat(StrEnum):
    COCO = "coco"
    VOC = "voc"
    CITYSCAPES = "cityscapes"
    CVAT = "cvat"
    YOLO = "yolo"


def parse_format(fmt: DatasetFormat | str) -> DatasetFormat:
    """The format of a name; DatasetError listing the names for another."""
    try:
        return DatasetFormat(fmt)
    except ValueError:
        names = ", ".join(f.value for f in DatasetFormat)
        raise DatasetError(f"No dataset format {fmt!r}; choose one of {names}.") from None


def writer_of(fmt: DatasetFormat | str, polygons: bool = False) -> DatasetWriter:
    """The writer of a format, by its name; DatasetError listing the names for another."""
    fmt = parse_format(fmt)
    if polygons and fmt is not DatasetFormat.COCO:
        raise DatasetError(f"Polygons are an option of COCO; {fmt.value} has its own shapes.")
    writers: dict[DatasetFormat, Callable[[], DatasetWriter]] = {
        DatasetFormat.COCO: lambda: CocoWriter(polygons),
        DatasetFormat.VOC: VocWriter,
        DatasetFormat.CITYSCAPES: CityscapesWriter,
        DatasetFormat.CVAT: CvatMaskWriter,
        DatasetFormat.YOLO: YoloWriter,
    }
    return writers[fmt]()


@dataclass
class DatasetSummary:
    """What was written: where, in which format, how many images per split, the classes."""

    out: Path
    format: DatasetFormat
    splits: dict[str, int]
    classes: Classes
    unlabeled_images: list[str] = field(default_factory=list)

    def describe(self) -> str:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(self.splits.items()))
        note = ""
        if self.unlabeled_images:
            note = f"; {len(self.unlabeled_images)} without a labelled pixel"
        return (
            f"Wrote a {self.format.value} dataset to {self.out}: {counts} images, "
            f"{len(self.classes.names)} classes{note}."
        )


@dataclass(frozen=True)
class LabelledImage:
    """An image file and its labels (values of ``classes``; 0 unlabeled), for
    :func:`write_dataset` from memory (the viewer's layers)."""

    key: str
    image: Path
    labels: np.ndarray


def export_dataset(
    images_dir: str | os.PathLike,
    results_dir: str | os.PathLike,
    out: str | os.PathLike,
    fmt: DatasetFormat | str,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    link_images: bool = False,
    corrected_only: bool = False,
    polygons: bool = False,
    short_names: bool = False,
    recursive: bool = False,
    overwrite: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> DatasetSummary:
    """Write a batch's results (``results_dir``, made from ``images_dir``) as a dataset of
    ``fmt`` in ``out``: images split into train and val by ``seed``, copied (or linked),
    labels in the format's own files, the classes with their names and colours.

    Raises :class:`DatasetError` naming the file, class or value the format cannot take, and
    :class:`ExportExistsError` where ``out`` holds files and ``overwrite`` is not set; in
    both cases nothing is written."""
    found, classes = results_items(images_dir, results_dir, recursive=recursive,
                                   corrected_only=corrected_only)  # fmt: skip
    sources = [(key, image, partial(_labels_of, labels)) for key, image, labels in found]
    options = DatasetOptions(parse_format(fmt), val_fraction, seed, link_images, polygons,
                             short_names, overwrite)  # fmt: skip
    origin = {"results": str(Path(results_dir))}
    return _write(sources, classes, Path(out), options, on_progress, origin)


def write_dataset(
    images: Sequence[LabelledImage],
    classes: Classes,
    out: str | os.PathLike,
    fmt: DatasetFormat | str,
    *,
    val_fraction: float = 0.2,
    seed: int = 0,
    link_images: bool = False,
    polygons: bool = False,
    short_names: bool = False,
    overwrite: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> DatasetSummary:
    """:func:`export_dataset` for labels in memory (the viewer's Labels layers)."""
    if not images:
        raise DatasetError("No labelled image to write a dataset of.")
    sources = [(i.key, Path(i.image), partial(np.asarray, i.labels)) for i in images]
    options = DatasetOptions(parse_format(fmt), val_fraction, seed, link_images, polygons,
                             short_names, overwrite)  # fmt: skip
    return _write(sources, classes, Path(out), options, on_progress, {})


def _labels_of(path: Path) -> np.ndarray:
    from ..files.read_export import read_export

    return read_export(path).labels


@dataclass(frozen=True)
class DatasetOptions:
    """How a dataset is written (see :func:`export_dataset`)."""

    fmt: DatasetFormat
    val_fraction: float = 0.2
    seed: int = 0
    link_images: bool = False
    polygons: bool = False
    short_names: bool = False
    overwrite: bool = False


def _write(
    sources: Sequence[tuple[str, Path, Callable[[], np.ndarray]]],
    classes: Classes,
    out: Path,
    options: DatasetOptions,
    on_progress: Callable[[Progress], None] | None,
    origin: dict,
) -> DatasetSummary:
    fmt = options.fmt
    writer = writer_of(fmt, options.polygons)
    if options.short_names:
        classes = classes.short()
    writer.check(classes)
    _check_out(out, options.overwrite)
    names = dataset_names([key for key, _, _ in sources])
    splits = split_of(list(names.values()), options.val_fraction, options.seed)
    items = [SourceItem(names[key], image, splits[names[key]], read, n)
             for n, (key, image, read) in enumerate(sources)]  # fmt: skip
    for item in items:
        if not item.image.is_file():
            raise DatasetError(f"The image {item.image} is not there.")
        if item.image.stat().st_size == 0:
            raise DatasetError(f"The image {item.image} is an empty file.")
    writer.start(classes)
    summary = DatasetSummary(out, fmt, {}, classes)
    with _staging(out, options.overwrite) as root:

        def write_one(item: SourceItem) -> bool:
            labels = _checked_labels(item, classes)
            _place_image(item.image, writer.image_path(root, item), options.link_images)
            writer.write_labels(root, item, labels)
            return bool(labels.any())

        for n, (item, labelled) in enumerate(_in_threads(write_one, items), start=1):
            if not labelled:
                summary.unlabeled_images.append(item.name)
            summary.splits[item.split] = summary.splits.get(item.split, 0) + 1
            if on_progress is not None:
                said = f"{item.name} ({item.split})"
                on_progress(Progress(Stage.POSTPROCESS, n, len(items), said))
        writer.finish(root, classes, items)
        sidecar = {"format": fmt.value, "classes": list(classes.names),
                   "colors": ["#{:02x}{:02x}{:02x}".format(*c) for c in classes.colors],
                   "splits": {i.name: i.split for i in items}, "seed": options.seed,
                   "val_fraction": options.val_fraction, **origin}  # fmt: skip
        (root / SIDECAR).write_text(json.dumps(sidecar, indent=1) + "\n", encoding="utf-8")
    return summary


def _in_threads(
    work: Callable[[SourceItem], bool], items: list[SourceItem]
) -> Iterator[tuple[SourceItem, bool]]:
    """``work`` on each item in a few threads (PNG coding and numpy let go of the GIL: two
    cores write a set in about half the time), results in the items' order, at most two per
    thread in flight (each holds an image's labels). An error, or Ctrl-C, stops the rest."""
    workers = max(1, min(WORKERS, len(items)))
    with ThreadPoolExecutor(workers, thread_name_prefix="dataset") as pool:
        pending: deque[tuple[SourceItem, Future[bool]]] = deque()
        queue = iter(items)
        try:
            for item in islice(queue, 2 * workers):
                pending.append((item, pool.submit(work, item)))
            while pending:
                item, future = pending.popleft()
                yield item, future.result()
                for nxt in islice(queue, 1):
                    pending.append((nxt, pool.submit(work, nxt)))
        finally:
            for _, future in pending:
                future.cancel()


def _checked_labels(item: SourceItem, classes: Classes) -> np.ndarray:
    labels = np.asarray(item.read_labels())
    if labels.ndim != 2 or labels.size == 0:
        raise DatasetError(
            f"The labels of {item.image} are of shape {labels.shape}: a dataset holds one "
            "2-D labels image per image."
        )
    if labels.dtype.kind not in "ui" or int(labels.min()) < 0:
        raise DatasetError(f"The labels of {item.image} are {labels.dtype}, not class values.")
    top = int(labels.max())
    if top > len(classes.names):
        raise DatasetError(
            f"The labels of {item.image} hold value {top}, beyond the {len(classes.names)} "
            "classes of the scheme."
        )
    size = image_size(item.image)
    if size is not None and size != labels.shape:
        raise DatasetError(
            f"The labels of {item.image} are {labels.shape[0]}x{labels.shape[1]}, the image "
            f"{size[0]}x{size[1]}: they do not belong together."
        )
    return labels


def image_size(path: Path) -> tuple[int, int] | None:
    """(height, width) of an image file from its header; None where PIL cannot tell."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return im.height, im.width
    except (UnidentifiedImageError, OSError):
        return None


def _place_image(source: Path, target: Path, link: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        os.symlink(source.absolute(), target)
    else:
        shutil.copyfile(source, target)


def _check_out(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file, not a folder to write a dataset into.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ExportExistsError(
            f"{out} already holds files; choose an empty folder, or overwrite to replace it."
        )


@contextlib.contextmanager
def _staging(out: Path, overwrite: bool) -> Iterator[Path]:
    """A scratch folder beside ``out``, moved into its place when the block ends well,
    removed when it does not; a previous ``out`` is replaced only then."""
    out = out.absolute()
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = out.parent / temp_name(f".{out.name}.partial-")
    old = out.parent / temp_name(f".{out.name}.old-")
    scratch.mkdir()
    try:
        yield scratch
        if out.exists():
            if any(out.iterdir()) and not overwrite:  # filled while we wrote
                raise ExportExistsError(f"{out} was filled while the dataset was written.")
            out.rename(old)
        scratch.rename(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
