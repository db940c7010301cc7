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

from .. import checks
from ..errors import OptionError
from ..events import Progress
from ..models.learned import is_model_file, read_learned
from ..models.registry import model_info
from ..models.scheme import LabelScheme, SchemeLabel
from ..models.weights import iter_resolve_weights
from ..provenance import BATCH_KEY, WEIGHTS
from ..run.options import RunOptions, declared
from ..run.segment import plan_options, run_to_end

# Options are checked on a stand-in image this large (no memory: a broadcast zero).
_PROBE_SHAPE = (4096, 4096, 3)
# Record keys an earlier version wrote, by their names today.
_RENAMED = {"model": "model_name"}


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
    checked = plan.options
    weights = run_to_end(iter_resolve_weights(plan.info.name, checked.weights), on_weights)
    # The checked values, not the arguments: defaults given or not, the same run matches.
    record = {f.name: getattr(checked, f.name) for f, spec in declared() if spec.recorded}
    record["weights_sha1"] = weights.sha1
    if plan.scheme is not None:
        record["scheme"] = dataclasses.asdict(plan.scheme)
        record["scheme"].pop("source")  # the labels matter, not where the file was
    record["overlay"] = bool(overlay)
    if checks.flag(keep_scores, "keep_scores"):  # only then: older records stay matches
        record["keep_scores"] = True
    # Tuples become lists: the form the provenance file gives back.
    record = json.loads(json.dumps(record, default=str, sort_keys=True))
    # A learned model's path (absolute once checked) holds its weights; other weights files
    # are given absolute too: workers may run in other folders.
    weights_path = None if given.weights is None else Path(given.weights).absolute()
    options = dataclasses.replace(
        given, model_name=checked.model_name, weights=weights_path, scheme=plan.scheme
    )
    return BatchSettings(options, bool(overlay), record, keep_scores)


def same_settings(earlier: Any, record: dict[str, Any]) -> bool:
    """Whether an export's settings record (as read back) is this batch's; records of earlier
    versions, with their older names, match too."""
    return isinstance(earlier, dict) and _current(earlier) == record


def _current(record: dict[str, Any]) -> dict[str, Any]:
    """A settings record under today's names (an earlier version wrote "model")."""
    return {_RENAMED.get(key, key): value for key, value in record.items()}


@dataclass(frozen=True)
class RecordedBatch:
    """The settings a batch recorded, read back to do more images the same way."""

    options: RunOptions
    overlay: bool
    keep_scores: bool


def recorded_batch(provenance: dict[str, Any]) -> RecordedBatch:
    """The batch settings an export was made with, read back from its provenance (the record
    :func:`prepare_settings` wrote and the weights file). Raises :class:`OptionError` naming
    what is missing (an export not made by a batch, weights no longer where they were)."""
    batch = provenance.get(BATCH_KEY)
    record = batch.get("settings") if isinstance(batch, dict) else None
    record = _current(record) if isinstance(record, dict) else None
    if record is None or "model_name" not in record:
        raise OptionError("These results were not made by a batch: no settings to repeat.")
    weights = Path(str(provenance.get(WEIGHTS, "")))
    if not weights.is_file():
        raise OptionError(
            f"The weights these results were made with, {weights}, are no longer there."
        )
    name = record["model_name"]  # a zoo name (UnknownModelError names it) or a learned model
    info = read_learned(name).info if is_model_file(name) else model_info(name)
    scheme = _scheme_of(record.get("scheme"), info.num_classes)
    names = scheme.class_names if scheme is not None else info.class_names
    wanted = record.get("probability_classes") or []
    if not (isinstance(wanted, list) and all(_index_in(k, len(names)) for k in wanted)):
        raise OptionError(
            f"The recorded probability_classes, {checks.shown(wanted)}, are not indices of "
            f"the {len(names)} classes: these settings cannot be repeated."
        )
    # JSON gave lists back: the tuples the options hold.
    kept: dict[str, Any] = {
        f.name: tuple(value) if isinstance(value, list) else value
        for f, spec in declared()
        if spec.recorded and (value := record.get(f.name, f.default)) is not None
    }
    kept["probability_classes"] = tuple(names[k] for k in wanted)  # a scheme's by name
    given = None if is_model_file(name) else weights  # a learned model's file is its weights
    options = RunOptions(**{**kept, "weights": given, "scheme": scheme})
    return RecordedBatch(options, bool(record.get("overlay")), bool(record.get("keep_scores")))


def options_of(provenance: dict[str, Any]) -> dict[str, Any]:
    """:func:`recorded_batch` as the keyword arguments of :func:`segment_folder`, so that more
    images of a folder can be done the same way."""
    recorded = recorded_batch(provenance)
    run = {f.name: getattr(recorded.options, f.name) for f, _ in declared()}
    return {**run, "overlay": recorded.overlay, "keep_scores": recorded.keep_scores}


def _index_in(value: Any, count: int) -> bool:
    return checks.is_integer(value) and 0 <= int(value) < count


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
