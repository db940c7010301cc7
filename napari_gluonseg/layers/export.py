"""Export of a labels layer as it is now (hand corrections included) for training: the labels,
their class names and colours, the provenance (what was set by hand, with which tool) and, if
asked, the scores its run kept.

Qt-free.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

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
    names = layer_class_names(layer, int(data.max(initial=0)))
    colors = [
        tuple(int(c * 255 + 0.5) for c in layer.colormap.map(k + 1)[:3]) for k in range(len(names))
    ]
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
