"""A batch's settings: checked once for every image, kept in each export's provenance (what a
rerun compares to skip an image), and read back from it (:func:`options_of`) to do more images of
a folder the same way.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import checks as options
from ..errors import OptionError
from ..events import Progress
from ..models.registry import model_info
from ..models.scheme import LabelScheme, SchemeLabel
from ..models.weights import iter_resolve_weights
from ..provenance import BATCH_KEY, WEIGHTS
from ..run.options import RunOptions
from ..run.segment import plan_options, run_to_end

# Options are checked on a stand-in image this large (no memory: a broadcast zero).
_PROBE_SHAPE = (4096, 4096, 3)


@dataclass(frozen=True)
class BatchSettings:
    """The checked options of every image's run, and ``record``, their JSON form kept in each
    export's provenance (what a rerun compares to skip an image)."""

    options: RunOptions
    overlay: bool
    record: dict[str, Any]
    keep_scores: bool = False


def prepare_settings(
    given: RunOptions,
    overlay: bool,
    keep_scores: bool = False,
    on_weights: Callable[[Progress], None] | None = None,
) -> BatchSettings:
    """Check the options on a stand-in image and resolve the weights (fetched if missing;
    ``on_weights`` hears the download's progress).

    Workers get absolute paths and the loaded scheme: they may run in other folders, or on
    other machines that share the files.
    """
    stand_in = np.broadcast_to(np.uint8(0), _PROBE_SHAPE)
    plan = plan_options(stand_in, dataclasses.replace(given, check_memory_first=False))
    model_name = plan.model_name
    weights = run_to_end(iter_resolve_weights(model_name, plan.weights), on_weights)
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
        "rgb": given.rgb,
        "scheme": scheme,
        "overlay": bool(overlay),
    }
    if options.flag(keep_scores, "keep_scores"):  # only then: older records stay matches
        record["keep_scores"] = True
    # Tuples become lists: the form the provenance file gives back.
    record = json.loads(json.dumps(record, default=str, sort_keys=True))
    weights_path = None if plan.weights is None else Path(plan.weights).absolute()
    options_ = dataclasses.replace(given, weights=weights_path, scheme=plan.scheme)
    return BatchSettings(options_, bool(overlay), record, keep_scores)


def options_of(provenance: dict[str, Any]) -> dict[str, Any]:
    """The :func:`segment_folder` options an export was made with, read back from its
    provenance (the record :func:`prepare_settings` wrote and the weights file), so that more
    images of the folder can be done the same way. Raises :class:`OptionError` naming what is
    missing (an export not made by a batch, weights no longer where they were)."""
    batch = provenance.get(BATCH_KEY)
    record = batch.get("settings") if isinstance(batch, dict) else None
    if not isinstance(record, dict) or "model" not in record:
        raise OptionError("These results were not made by a batch: no settings to repeat.")
    weights = Path(str(provenance.get(WEIGHTS, "")))
    if not weights.is_file():
        raise OptionError(
            f"The weights these results were made with, {weights}, are no longer there."
        )
    info = model_info(record["model"])  # UnknownModelError naming it
    scheme = _scheme_of(record.get("scheme"), info.num_classes)
    names = scheme.class_names if scheme is not None else info.class_names
    wanted = record.get("probability_classes") or []
    if not (isinstance(wanted, list) and all(_index_in(k, len(names)) for k in wanted)):
        raise OptionError(
            f"The recorded probability_classes, {options.shown(wanted)}, are not indices of "
            f"the {len(names)} classes: these settings cannot be repeated."
        )
    kwargs = {
        "model_name": record["model"],
        "weights": weights,
        "scheme": scheme,
        "probability_classes": [names[k] for k in wanted],
        "overlay": bool(record.get("overlay")),
        "keep_scores": bool(record.get("keep_scores")),
    }
    for key in ("engine", "scale", "tile_size", "flip", "min_confidence", "rgb", "classes"):
        kwargs[key] = record.get(key)
    kwargs["tta_scales"] = record.get("tta_scales") or ()
    if record.get("intensity_range") is not None:
        kwargs["intensity_range"] = tuple(record["intensity_range"])
    return kwargs


def _index_in(value: Any, count: int) -> bool:
    return options.is_integer(value) and 0 <= int(value) < count


def _scheme_of(record: Any, num_classes: int) -> LabelScheme | None:
    """The label scheme a settings record holds (as :func:`prepare_settings` wrote it), checked:
    the record is a file anyone could have edited."""
    if record is None:
        return None
    try:
        labels = tuple(_scheme_label(lab, num_classes) for lab in record["labels"])
        if not (isinstance(record["name"], str) and labels):
            raise ValueError("no name, or no label")
    except (KeyError, TypeError, ValueError) as exc:
        raise OptionError(
            f"The recorded label scheme cannot be read back ({type(exc).__name__}: {exc}): "
            "these settings cannot be repeated."
        ) from exc
    return LabelScheme(record["name"], labels)


def _scheme_label(record: dict[str, Any], num_classes: int) -> SchemeLabel:
    value, name, color, classes = (record[k] for k in ("value", "name", "color", "classes"))
    if not (_index_in(value, 65536) and value >= 1 and isinstance(name, str)):
        raise ValueError(f"label {value!r} {name!r}: a value in 1..65535 and a name")
    if not (len(color) == 3 and all(_index_in(c, 256) for c in color)):
        raise ValueError(f"label {name!r}: colour {color!r}")
    if not (classes and all(_index_in(k, num_classes) for k in classes)):
        raise ValueError(f"label {name!r}: classes {classes!r} of {num_classes}")
    return SchemeLabel(int(value), name, (color[0], color[1], color[2]), tuple(classes))
