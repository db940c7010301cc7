"""napari layer data for a SegmentationResult, as ``(data, kwargs, layer_type)`` tuples.

Pure data (no napari or Qt import): the widget and scripts build layers from it, and the tests
check it without a viewer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.models.registry import short_class_name
from ..core.run.result import SegmentationResult

if TYPE_CHECKING:  # pandas loads when a layer is made
    import pandas as pd

METADATA_KEY = "napari_gluonseg"
LABELS_OPACITY = 0.6
PROBABILITY_COLORMAP = "magma"

LayerDataTuple = tuple[Any, dict[str, Any], str]


def labels_layer_name(image_name: str) -> str:
    return f"{image_name} classes"


def probability_layer_name(image_name: str, class_name: str) -> str:
    return f"{image_name} P({short_class_name(class_name)})"


def spatial_shape(image: Any) -> tuple[int, ...]:
    """The labels' shape for an image layer: its data's shape without the colour axis (any
    other layer: its data's shape)."""
    shape = tuple(int(n) for n in image.data.shape)
    return shape[:-1] if getattr(image, "rgb", False) else shape


def data_digest(data: np.ndarray) -> str:
    """A fingerprint of layer data, to tell whether the user has edited it since we wrote it."""
    arr = np.ascontiguousarray(data)
    return hashlib.blake2b(arr.view(np.uint8).data, digest_size=16).hexdigest()


def label_colormap(colors: Sequence[Sequence[int]]) -> dict[int | None, Any]:
    """Label value -> RGBA: class index k (label k + 1) gets ``colors[k]``; 0 is transparent."""
    cmap: dict[int | None, Any] = {0: (0.0, 0.0, 0.0, 0.0), None: (0.0, 0.0, 0.0, 0.0)}
    for k, rgb in enumerate(colors):
        cmap[k + 1] = (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1.0)
    return cmap


def class_features(class_names: Sequence[str]) -> pd.DataFrame:
    """The labels layer's ``features``: row per label value, so hovering shows the class name."""
    import pandas as pd

    return pd.DataFrame(
        {
            "index": np.arange(len(class_names) + 1),
            "class_name": ["unlabeled", *class_names],
        }
    )


def result_layer_data(
    result: SegmentationResult,
    image_name: str,
    *,
    scale: Sequence[float] | None = None,
    translate: Sequence[float] | None = None,
) -> list[LayerDataTuple]:
    """The labels layer and one probability image layer per class in ``result.probabilities``.

    Layers are named after the image (``"dog classes"``, ``"dog P(bicycle)"``) and carry its
    ``scale`` and ``translate`` so they overlay it exactly.
    """
    placement: dict[str, Any] = {}
    if scale is not None:
        placement["scale"] = tuple(scale)
    if translate is not None:
        placement["translate"] = tuple(translate)
    labels_meta = {
        "role": "labels",
        "source_image": image_name,
        "provenance": result.provenance,
        "written_digest": data_digest(result.labels),
    }
    layers = [
        labels_layer_data(
            result.labels,
            labels_layer_name(image_name),
            result.class_names,
            result.colors,
            labels_meta,
            placement,
        )
    ]
    for class_name, prob in result.probabilities.items():
        layers.append(probability_layer_data(prob, image_name, class_name, placement))
    return layers


def labels_layer_data(
    labels: np.ndarray,
    name: str,
    class_names: Sequence[str],
    colors: Sequence[Sequence[int]],
    meta: dict[str, Any],
    placement: dict[str, Any],
) -> LayerDataTuple:
    """A labels layer whose values name ``class_names`` (value k + 1) in ``colors``."""
    kwargs = {
        "name": name,
        "colormap": label_colormap(colors),
        "features": class_features(class_names),
        "opacity": LABELS_OPACITY,
        "metadata": {METADATA_KEY: meta},
        **placement,
    }
    return (labels, kwargs, "labels")


def probability_layer_data(
    prob: np.ndarray, image_name: str, class_name: str, placement: dict[str, Any]
) -> LayerDataTuple:
    """P(class) as an image layer over the image (magma, additive, limits 0..1)."""
    return map_layer_data(
        prob,
        probability_layer_name(image_name, class_name),
        {"role": "probability", "class_name": class_name, "source_image": image_name},
        placement,
    )


def map_layer_data(
    data: np.ndarray, name: str, meta: dict[str, Any], placement: dict[str, Any]
) -> LayerDataTuple:
    """A [0, 1] map (probability, confidence, margin) as an image layer over the image."""
    return (
        data,
        {
            "name": name,
            "colormap": PROBABILITY_COLORMAP,
            "contrast_limits": (0.0, 1.0),
            "blending": "additive",
            "metadata": {METADATA_KEY: meta},
            **placement,
        },
        "image",
    )


def uncertainty_layer_data(
    result: SegmentationResult, image_name: str, kinds: Sequence[str], placement: dict[str, Any]
) -> list[LayerDataTuple]:
    """Optional layers that point an annotator at doubtful regions.

    ``"confidence"``: the top class's probability; ``"margin"``: top minus runner-up (low where
    the model hesitates between two classes). Both in [0, 1], bright = sure.
    """
    layers = []
    for kind in kinds:
        if kind == "confidence":
            data = result.confidence
        elif kind == "margin" and result.scores is not None:
            data = result.scores.margin_map()
        else:
            continue
        meta = {"role": kind, "source_image": image_name}
        layers.append(map_layer_data(data, f"{image_name} {kind}", meta, placement))
    return layers


def layer_key(layer: Any) -> str:
    """What identifies a layer, the same for the layer and every proxy of it. napari hands a
    plugin's dock a ``PublicOnlyProxy`` of the viewer, whose layers are proxies too, a new one at
    each access: ``is`` and ``id()`` tell a proxy from its layer, ``unique_id`` does not."""
    return str(layer.unique_id)


def same_layer(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are one layer (either may be a proxy of it, or None)."""
    return a is not None and b is not None and layer_key(a) == layer_key(b)


def is_unedited_output(layer: Any) -> bool:
    """True when the layer holds exactly what the plugin last wrote into it."""
    written = layer.metadata.get(METADATA_KEY, {}).get("written_digest")
    return written is not None and written == data_digest(np.asarray(layer.data))


def import_for_new_layers() -> None:
    """Import, in the calling thread, what napari imports the first time a labels layer is made
    (pandas, for its features table): ~190 ms of napari's GUI thread otherwise, once per
    session. The docks call it from their workers."""
    import pandas  # noqa: F401
