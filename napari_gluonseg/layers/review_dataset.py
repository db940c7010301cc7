"""A dataset made elsewhere (COCO, Pascal VOC, CVAT masks, Cityscapes, YOLO) reviewed in the Review
dock as a folder's results are: its images listed by name and split, each opened with its labels
in the dataset's classes and colours, and a correction saved back into the dataset in its own
format (:meth:`~napari_gluonseg.core.datasets.opened.OpenedDataset.save_labels`: one file
replaced atomically, the rest unchanged).

Nothing else is written into the dataset: where the person stopped is kept for the session only,
and pre-annotating and learning (which write results beside a folder) are not offered.

Qt-free; it lives here rather than in ``core`` because it joins two floors of the core, the
review of ``core.batch`` and the datasets of ``core.datasets``, which sits above it."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..core.batch.review import OpenedItem, ReviewItem, ReviewSession, ReviewStatus, file_stamp
from ..core.datasets.opened import DatasetEntry, OpenedDataset, open_dataset
from ..core.errors import OptionError
from ..core.files.images import read_image
from ..core.files.read_export import LabelsExport
from ..core.provenance import CORRECTED_KEY

DATASET_FORMAT_KEY = "dataset_format"  # in the provenance of a dataset image's labels layer


@dataclass(frozen=True)
class DatasetItem(ReviewItem):
    """One image of an opened dataset: ``labels`` is the file its labels are in (its mask, or
    the COCO annotation file), ``split`` the dataset's."""

    split: str = ""
    dataset: OpenedDataset | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        """``x  [train]``, ``x  [train, saved]`` once corrected in this session."""
        saved = ", saved" if self.status is ReviewStatus.REVIEWED else ""
        return f"{self.key}  [{self.split}{saved}]"

    def open(self) -> OpenedItem:
        dataset = self.dataset
        assert dataset is not None
        paths = [self.image] if self.labels is None else [self.image, self.labels]
        # Stamped before reading: a file rewritten meanwhile no longer matches its stamp.
        stamps = tuple(s for s in map(file_stamp, paths) if s is not None)
        labels = dataset.read_labels(self.key)
        provenance = {DATASET_FORMAT_KEY: dataset.format.value, "split": self.split}
        export = LabelsExport(labels, dataset.classes.names, dataset.classes.colors, provenance)
        return OpenedItem(self.key, read_image(self.image), export, stamps)


class DatasetSession(ReviewSession):
    """The images of the dataset folder ``path``, reviewed as a folder's results are (see the
    module's notes).

    Parameters
    ----------
    path : path
        A COCO, Pascal VOC, CVAT mask, Cityscapes or YOLO dataset folder; DatasetError
        where it is none.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.dataset = open_dataset(path)
        self.images_dir = self.results_dir = self.dataset.root.absolute()
        self._recursive, self._by_uncertainty = False, False
        self._saved: set[str] = set()
        self._last: str | None = None
        self.items: list[ReviewItem] = []
        self.refresh()

    def refresh(self) -> list[ReviewItem]:
        dataset = self.dataset
        self.items = [
            DatasetItem(e.name, e.image, _labels_file(dataset, e), self._status(e.name),
                        split=e.split, dataset=dataset)
            for e in dataset.entries
        ]  # fmt: skip
        return self.items

    def _status(self, name: str) -> ReviewStatus:
        return ReviewStatus.REVIEWED if name in self._saved else ReviewStatus.PRE_ANNOTATED

    def last_key(self) -> str | None:
        return self._last

    def remember(self, key: str) -> None:
        self._last = key  # not written: the dataset holds only its own files

    def write_corrections(
        self,
        item: ReviewItem,
        labels: np.ndarray,
        class_names: Sequence[str],
        colors: Sequence[Sequence[int]],
        provenance: dict[str, Any],
        hand_edits: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Save ``labels`` as ``item``'s in the dataset, in its format (the class table is the
        dataset's: ``class_names`` and ``colors`` are those it was opened with)."""
        self.dataset.save_labels(item.key, np.asarray(labels))
        self._saved.add(item.key)
        return {**provenance, CORRECTED_KEY: True}

    def recorded_batch(self) -> NoReturn:
        raise _not_for_datasets()

    def iter_pre_annotate(
        self, should_stop: Callable[[], bool], model: str | None = None
    ) -> Generator[Any, None, Any]:
        raise _not_for_datasets()


def _labels_file(dataset: OpenedDataset, entry: DatasetEntry) -> Path | None:
    """The file ``entry``'s labels are read from (its stamp tells a copy read ahead is stale):
    its mask, its YOLO text, or the COCO annotation file of its split."""
    path = dataset.labels_file(entry.name)
    return path if path.is_file() else None


def _not_for_datasets() -> OptionError:
    return OptionError(
        "A dataset opened to correct is saved in its own format only: pre-annotating and "
        "learning write results beside a folder of images; open the images and a results "
        "folder for them."
    )
