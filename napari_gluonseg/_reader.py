"""napari reader: a labels export (``{stem}_labels.png|tif`` + ``{stem}_classes.csv``) opens as
a Labels layer with its class names (shown on hover) and colours."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .core.files.names import ExportNames
from .core.files.read_export import export_names, read_export, read_scores
from .layers.corrections import SCORES_KEY, KeptScores
from .layers.data import LayerDataTuple, labels_layer_data, labels_layer_name


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
