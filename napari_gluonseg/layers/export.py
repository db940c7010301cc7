"""Export of a labels layer as it is now (hand corrections included) for training: the labels,
their class names and colours, the provenance (what was set by hand, with which tool) and, if
asked, the scores its run kept; or, with its image's file, as a dataset of a format trainers
and annotation tools read (COCO, VOC, Cityscapes, CVAT masks, YOLO).

Qt-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..core.datasets.export import (
    DatasetFormat,
    DatasetSummary,
    LabelledImage,
    write_dataset,
    writer_of,
)
from ..core.datasets.items import Classes
from ..core.errors import DatasetError
from ..core.files.export import write_labels
from ..core.provenance import EDITED_BY_HAND, EXPORTED_LAYER, HAND_TRACKING_COMPLETE
from .data import METADATA_KEY, is_unedited_output
from .hand_edits import hand_tracker
from .kept_scores import kept_scores
from .plugin_layers import layer_class_names


def export_layer(
    layer: Any,
    folder: str | Path,
    fmt: str,
    stem: str | None = None,
    keep_scores: bool = False,
    **kwargs: Any,
) -> dict[str, Path]:
    """Write ``layer`` as it is now (hand corrections included) for training, as ``stem``
    (default: the layer's name), with its kept scores if asked and they cover the whole layer;
    see :func:`napari_gluonseg.core.files.export.write_labels`."""
    data = np.asarray(layer.data)
    names, colors = layer_classes(layer, data)
    meta = layer.metadata.get(METADATA_KEY, {})
    provenance = {
        **meta.get("provenance", {}),
        EXPORTED_LAYER: layer.name,
        EDITED_BY_HAND: not is_unedited_output(layer),
    }
    tracker = hand_tracker(layer, create=False)
    if tracker is not None:
        provenance.update(tracker.provenance(), **{HAND_TRACKING_COMPLETE: tracker.complete})
    stem = stem or export_stem_of(layer)
    kept = kept_scores(layer) if keep_scores else None
    scores = kept.grid if kept is not None and kept.whole(data.shape) else None
    return write_labels(data, names, colors, provenance, folder, stem, fmt, scores=scores, **kwargs)


def export_stem_of(layer: Any) -> str:
    """The file stem an export of ``layer`` gets (``dog classes`` -> ``dog``)."""
    return layer.name.removesuffix(" classes").replace(" ", "_")


DATASET_FORMATS = tuple(f.value for f in DatasetFormat)


def layer_classes(layer: Any, data: np.ndarray) -> tuple[list[str], list[tuple[int, ...]]]:
    """The class names of the values of ``data`` (the layer's), and their colours in it."""
    names = layer_class_names(layer, int(data.max(initial=0)))
    colors = [
        tuple(int(c * 255 + 0.5) for c in layer.colormap.map(k + 1)[:3]) for k in range(len(names))
    ]
    return names, colors


def export_layer_dataset(layer: Any, image: Any, out: str | Path, fmt: str) -> DatasetSummary:
    """Write ``layer`` as it is now, with the file ``image`` (a layer) was opened from, as a
    dataset of ``fmt`` in the empty folder ``out`` (see
    :func:`~napari_gluonseg.core.datasets.export.write_dataset`)."""
    source = getattr(getattr(image, "source", None), "path", None)
    if source is None:
        what = "no image is chosen" if image is None else f"the image '{image.name}' has no file"
        raise DatasetError(
            f"A dataset holds image files, and {what}: open the image from its file (or save "
            f"it and open it again), then export '{layer.name}'."
        )
    data = np.asarray(layer.data)
    names, colors = layer_classes(layer, data)
    classes = Classes(tuple(names), tuple((c[0], c[1], c[2]) for c in colors))
    images = [LabelledImage(image.name, Path(source), data)]
    # A format whose files cannot hold spaces gets the names up to their first comma, spaces
    # as underscores ("building, edifice" -> "building"): the dock has no other choice to offer.
    short = writer_of(fmt).names_without_spaces
    return write_dataset(images, classes, out, fmt, short_names=short)
