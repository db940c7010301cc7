"""The corrections a review saved, read back to learn from: each image the person marked
corrected (the Review dock's save, or an export with ``corrected_by_hand``), its labels and the
class table they share, and the model and weights the folder was pre-annotated with.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..batch.image import stored_provenance
from ..batch.review import ReviewSession, ReviewStatus
from ..batch.settings import recorded_batch
from ..errors import GluonsegError, LearningError
from ..events import Progress, Stage
from ..files.images import read_image
from ..files.names import PROVENANCE_SUFFIX, ExportNames
from ..files.read_export import read_export
from ..models.learned import LearnedModel, is_model_file, read_learned
from ..models.registry import DEFAULT_MODEL
from ..models.weights import file_sha1
from ..provenance import CORRECTED_KEY
from ..run.options import RunOptions
from ..run.segment import run_to_end
from .learn import CorrectedImage, Learned, check_learned_path, iter_learn, save_learned


@dataclass(frozen=True)
class CorrectedFolder:
    """What a review folder gives learning: its corrected ``images``, their shared class
    table, and the ``model_name``/``weights`` its results were made with (None: unknown)."""

    images: tuple[CorrectedImage, ...]
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    model_name: str | None
    weights: Path | None


def corrected_folder(
    images_dir: str | os.PathLike, results_dir: str | os.PathLike, recursive: bool = False
) -> CorrectedFolder:
    """The corrected images of a batch's output. Raises :class:`LearningError` naming the file:
    none corrected, an image gone, labels of another class table (another model or scheme)."""
    return run_to_end(iter_corrected_folder(images_dir, results_dir, recursive))


def iter_corrected_folder(
    images_dir: str | os.PathLike, results_dir: str | os.PathLike, recursive: bool = False
) -> Generator[Progress, None, CorrectedFolder]:
    """:func:`corrected_folder` as a generator: a progress event before each image is read
    (a worker stops there when cancelled: twenty photos of 12 MP take seconds to read)."""
    session = ReviewSession(images_dir, results_dir, recursive, by_uncertainty=False)
    reviewed = [i for i in session.items if i.status is ReviewStatus.REVIEWED]
    _check_no_image_gone(session, {i.key for i in session.items})
    if not reviewed:
        raise LearningError(
            f"No corrected image in {session.results_dir}: correct some in the Review dock "
            "(or mark results corrected_by_hand), then learn."
        )
    images, table, source = [], None, None
    for n, item in enumerate(reviewed):
        yield Progress(Stage.PLAN, n, len(reviewed), f"reading the corrected image {item.key}")
        assert item.labels is not None  # reviewed: its labels were saved
        export = read_export(item.labels)
        if table is None:
            table, source = (export.class_names, export.colors), item.labels
        elif (export.class_names, export.colors) != table:
            raise LearningError(
                f"{item.labels} has another class table than {source}: labels of another "
                "model or scheme cannot teach one head. Learn from one kind at a time."
            )
        if not item.image.is_file():
            raise LearningError(f"The image of {item.labels}, {item.image}, is not there.")
        shown = _image_options(item.labels)  # as its run fed it to the network
        images.append(CorrectedImage(item.key, read_image(item.image), export.labels, None, shown))
    assert table is not None
    model_name, weights = _made_with(reviewed[0].labels)
    return CorrectedFolder(tuple(images), *table, model_name, weights)


def _check_no_image_gone(session: ReviewSession, keys: set[str]) -> None:
    """Refuse corrections whose image is no longer in the image folder: learning from what is
    left would silently drop work the person did."""
    for record in sorted(session.results_dir.rglob(f"*{PROVENANCE_SUFFIX}")):
        key = str(record.relative_to(session.results_dir))[: -len(PROVENANCE_SUFFIX)]
        if key not in keys and stored_provenance(record).get(CORRECTED_KEY):
            raise LearningError(
                f"{record} holds corrections of {key}, whose image is not in "
                f"{session.images_dir}: put it back, or move its results away, then learn."
            )


def _run_options(labels: Path | None) -> RunOptions | None:
    """The options of the batch run that made a result (None: not made by a batch, or its
    weights moved)."""
    found = ExportNames.of_labels_file(labels) if labels is not None else None
    if found is None:
        return None
    try:
        return recorded_batch(stored_provenance(found.provenance)).options
    except GluonsegError:
        return None


def _image_options(labels: Path | None) -> dict[str, Any]:
    """How a result's run fed its image to the network: its batch's options; where those cannot
    be read back (its weights moved), the scale its provenance records."""
    options = _run_options(labels)
    if options is not None:
        return options.image_options()
    found = ExportNames.of_labels_file(labels) if labels is not None else None
    scale = stored_provenance(found.provenance).get("scale") if found is not None else None
    return {} if scale is None else {"scale": scale}


def _made_with(labels: Path | None) -> tuple[str | None, Path | None]:
    """The model and weights file a result was made with, as its batch recorded them."""
    options = _run_options(labels)
    if options is None:  # the caller says which model it learns on
        return None, None
    if is_model_file(options.model_name):  # made with a learned model: learn on its base
        return _base_of(read_learned(options.model_name))
    weights = None if options.weights is None else Path(options.weights)
    return options.model_name, weights


def _base_of(learned: LearnedModel) -> tuple[str, Path | None]:
    """A learned model's base model, and its weights file where it still is (the same sha1):
    new corrections teach a head on the same features."""
    path = Path(str(learned.record.get("base_weights", "")))
    same = path.is_file() and file_sha1(path) == learned.record.get("base_weights_sha1")
    return learned.base, path if same else None


def learn_from_folder(
    images_dir: str | os.PathLike,
    results_dir: str | os.PathLike,
    out: str | os.PathLike,
    model_name: str | None = None,
    weights: str | os.PathLike | None = None,
    recursive: bool = False,
    overwrite: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
) -> Learned:
    """Learn a model from a review folder's corrections and write it to ``out`` (``.onnx``),
    to be chosen afterwards by its path like a zoo model's name. The base model and weights
    are the ones the folder's results were made with, unless given. Nothing in the folder is
    written to. Raises :class:`LearningError` (and the package's other errors) naming the
    file or class that cannot teach a head."""
    check_learned_path(out, overwrite)
    folder = run_to_end(iter_corrected_folder(images_dir, results_dir, recursive), on_progress)
    base = model_name or folder.model_name or DEFAULT_MODEL
    given = weights if weights is not None or model_name else folder.weights
    events = iter_learn(folder.images, folder.class_names, folder.colors, base, given)
    learned = run_to_end(events, on_progress)
    save_learned(learned, out, overwrite)
    return learned
