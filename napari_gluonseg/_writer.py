"""napari writer for labels layers, symmetric with the reader: File > Save Selected Layer(s) as
``NAME_labels.png`` (or ``.tif``) writes the export set (labels, class table, provenance) that
File > Open reads back with its class names and colours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .layers.results import export_layer

_FORMATS = {".png": "png", ".tif": "tif", ".tiff": "tif"}


def write_labels_layer(path: str, data: Any, meta: dict[str, Any]) -> list[str]:
    """Write one labels layer (its data and napari's state of it) as an export; return the
    files written. napari's save dialog has already asked before replacing ``path``."""
    from napari.layers import Labels

    target = Path(path)
    fmt = _FORMATS.get(target.suffix.lower(), "png")
    stem = target.name[: -len(target.suffix)] if target.suffix else target.name
    layer = Labels(data, **{k: v for k, v in meta.items() if k in _LABELS_STATE})
    stem = stem.removesuffix("_labels")
    paths = export_layer(layer, target.parent, fmt, stem=stem, overwrite=True)
    return [str(p) for p in paths.values()]


# What of a labels layer's state the export needs: its values' names and colours, its metadata.
_LABELS_STATE = ("name", "features", "colormap", "metadata")
