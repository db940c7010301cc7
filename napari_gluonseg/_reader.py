"""napari readers: a labels export (``{stem}_labels.png|tif`` + ``{stem}_classes.csv``) opens as
a Labels layer with its class names (shown on hover) and colours; a dataset folder (COCO,
Pascal VOC, CVAT masks, Cityscapes, YOLO; or one image of a COCO, VOC or CVAT one) opens as
image + Labels layers of the dataset's classes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .core.datasets.opened import IMAGE_SUFFIXES, DatasetEntry, OpenedDataset, detect_format
from .core.datasets.voc import IMAGES, MASKS
from .core.errors import DatasetError
from .core.files.names import ExportNames
from .core.files.read_export import export_names, read_export, read_scores
from .layers.corrections import SCORES_KEY, KeptScores
from .layers.data import LayerDataTuple, labels_layer_data, labels_layer_name

# A dataset folder opens whole only when it is small: each image is two layers held in memory
# (a 12 MP photo and its labels: ~50 MB), and napari slows with every layer added. Larger sets
# are corrected one image at a time in the Review dock, which reads each image as it is reached.
MAX_DATASET_IMAGES = 12


def get_reader(path: str | list[str]) -> Callable[[str], list[LayerDataTuple]] | None:
    """The reader for ``path`` if it is a labels export with its class table beside it."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    found = ExportNames.of_labels_file(path)
    if found is None or not found.classes.is_file():
        return None
    return read_labels_export


def read_labels_export(path: str | list[str]) -> list[LayerDataTuple]:
    path = path[0] if isinstance(path, list) else path
    export = read_export(path)
    stem = export_names(path).stem
    meta = {
        "role": "labels",
        "source_file": str(Path(path).resolve()),
        "provenance": export.provenance,
        # No written_digest: an export may hold hand corrections, so a later run asks first.
    }
    data, kwargs, kind = labels_layer_data(
        export.labels, labels_layer_name(stem), export.class_names, export.colors, meta, {}
    )
    scores = read_scores(path, export.labels.shape)  # kept beside it (--keep-scores)
    if scores is not None:  # the Correct dock's likely classes and class brush use them
        kwargs["metadata"][SCORES_KEY] = KeptScores(scores, (0,) * export.labels.ndim)
    return [(data, kwargs, kind)]


def get_dataset_reader(path: str | list[str]) -> Callable[[str], list[LayerDataTuple]] | None:
    """The reader for ``path`` if it is a dataset folder (COCO, VOC, CVAT masks, Cityscapes,
    YOLO), or an image of a COCO, VOC or CVAT one (its labels found cheaply: a VOC/CVAT mask
    of its name, a COCO set's images)."""
    if isinstance(path, list):
        if len(path) != 1:
            return None
        path = path[0]
    target = Path(path)
    if target.is_dir():
        return read_dataset if detect_format(target) is not None else None
    return read_dataset_image if dataset_of_image(target) is not None else None


def dataset_of_image(path: Path) -> Path | None:
    """The dataset folder an image file belongs to, or None (checked without reading it)."""
    if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
        return None
    parent = path.parent
    if parent.name == IMAGES and (parent.parent / MASKS / f"{path.stem}.png").is_file():
        return parent.parent if detect_format(parent.parent) is not None else None
    # COCO: root/images/{split}/x.jpg, root/images/x.jpg or root/x.jpg
    for root in (parent.parent.parent, parent.parent, parent):
        if (root / "annotations").is_dir() and detect_format(root) is not None:
            return root
    return None


def read_dataset(path: str | list[str]) -> list[LayerDataTuple]:
    """Every image of a small dataset folder with its labels, the first pair shown (the others
    hidden: one image at a time, shown by ticking its layers)."""
    from .core.datasets.opened import open_dataset

    path = path[0] if isinstance(path, list) else path
    dataset = open_dataset(path)
    if len(dataset.entries) > MAX_DATASET_IMAGES:
        raise DatasetError(
            f"{path} holds {len(dataset.entries)} images; the reader opens datasets of up to "
            f"{MAX_DATASET_IMAGES} at once. Open it in the Review dock (Plugins > Review folder "
            "> dataset), which shows one image at a time."
        )
    if not dataset.entries:
        raise DatasetError(f"{path} is a {dataset.format.value} dataset without images.")
    layers: list[LayerDataTuple] = []
    for n, entry in enumerate(dataset.entries):
        layers += dataset_entry_layers(dataset, entry, visible=n == 0)
    return layers


def read_dataset_image(path: str | list[str]) -> list[LayerDataTuple]:
    """One image of a dataset folder, with its labels."""
    from .core.datasets.opened import open_dataset

    image = Path(path[0] if isinstance(path, list) else path)
    root = dataset_of_image(image)
    if root is None:
        raise DatasetError(f"{image} is not an image of a dataset folder.")
    dataset = open_dataset(root)
    for entry in dataset.entries:
        if entry.image.resolve() == image.resolve():
            return dataset_entry_layers(dataset, entry)
    raise DatasetError(f"{image} is in the dataset {root}, but the dataset does not list it.")


def dataset_entry_layers(
    dataset: OpenedDataset, entry: DatasetEntry, visible: bool = True
) -> list[LayerDataTuple]:
    """The image layer and the labels layer (class names on hover) of one dataset image."""
    from .core.files.images import read_image

    image = read_image(entry.image)
    meta = {
        "role": "labels",
        "source_file": str(entry.image.resolve()),
        "dataset": str(dataset.root.resolve()),
        "dataset_image": entry.name,
        "provenance": {"dataset_format": dataset.format.value, "split": entry.split},
    }
    data, kwargs, kind = labels_layer_data(
        dataset.read_labels(entry.name),
        labels_layer_name(entry.name),
        dataset.classes.names,
        dataset.classes.colors,
        meta,
        {},
    )
    kwargs["visible"] = visible
    rgb = image.ndim == 3 and image.shape[-1] in (3, 4)
    image_kwargs = {"name": entry.name, "rgb": rgb, "visible": visible}
    return [(image, image_kwargs, "image"), (data, kwargs, kind)]
