"""A learned model file: the network with a learned head in place of its final classifier, as a
portable ONNX graph that takes any size (issue 32).

Its logits are ``resize(mean over the neighbourhood of (W . features + b))``
(:func:`~napari_gluonseg.core.models.onnx_build.build_model` with ``head``), so a run reads it
as any export of the package: its ``gluonseg.*`` metadata are the base model's (model, weights
sha1, normalisation, format), but ``num_classes`` and ``class_names`` are the head's, and the
caller's own keys are added.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_files
from ..errors import OptionError, WeightsError
from ..models.engines.metadata import ExportSpec, metadata_for, read_metadata
from ..models.engines.onnx import is_onnx_file
from ..models.onnx_build.head import Head
from ..models.registry import model_info
from ..models.weights import ResolvedWeights

PREFIX = "gluonseg."  # every key of the package's ONNX metadata (engines/metadata.py)


def learned_metadata(
    model_name: str, sha1: str, classes: int, metadata: dict[str, str]
) -> dict[str, str]:
    """The ``gluonseg.*`` metadata of a learned file: ``metadata_for``'s for the base model,
    with ``num_classes`` and ``class_names`` those of ``metadata`` where it has them (else
    ``classes`` and ``class 1``... ``class K``), and the other keys of ``metadata`` (given
    with or without the ``gluonseg.`` prefix) added; a base key among them is refused."""
    given = {k.removeprefix(PREFIX): v for k, v in metadata.items()}
    names = json.loads(given.get("class_names", "null")) or [
        f"class {k + 1}" for k in range(classes)
    ]
    if given.get("num_classes", str(classes)) != str(classes) or len(names) != classes:
        raise OptionError(
            f"a learned head of {classes} classes with metadata of num_classes "
            f"{given.get('num_classes')!r} and {len(names)} class names: they must agree."
        )
    values = read_metadata(metadata_for(ExportSpec(model_name, sha1, dynamic=True)))
    kept = sorted(set(given) & set(values) - {"num_classes", "class_names"})
    if kept:  # the base model's: what a run checks the file against
        raise OptionError(f"a learned file keeps the base model's {', '.join(kept)}.")
    values |= given | {"num_classes": str(classes), "class_names": json.dumps(names)}
    return {PREFIX + k: v for k, v in values.items()}


def write_learned_model(
    path: str | Path,
    model_name: str,
    weights: ResolvedWeights,
    head: Head,
    metadata: dict[str, str],
) -> Path:
    """Write ``model_name`` with ``weights`` (its ``.params`` file) and ``head`` = (weight
    (K, C), bias (K,)[, neighbourhood]) in place of its final classifier to ``path`` (whole or
    not at all), with :func:`learned_metadata`; returns the path. About a second for ResNet-50
    models."""
    from ..models.onnx_build import build_model
    from ..models.params_file import read_weights

    if is_onnx_file(weights.path):
        raise WeightsError(
            f"{weights.path} is an ONNX model file: a learned model is built from the .params "
            "weights; give those."
        )
    info = model_info(model_name)
    meta = learned_metadata(model_name, weights.sha1, len(head[0]), metadata)
    model = build_model(model_name, read_weights(weights.path), info.num_classes, meta, head=head)
    out = Path(path)
    write_files({out: model.to_bytes()})
    return out
