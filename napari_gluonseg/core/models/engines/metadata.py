"""What an exported ONNX file says about itself, and the checks made when one is opened.

Every export carries its model, dataset, class names, the sha1 of the weights it came from, the
exporter's versions, the input normalisation and its input size (``dynamic`` or one size) in the
ONNX file's metadata (``gluonseg.*`` keys). Reading it needs onnxruntime only.
"""

from __future__ import annotations

import importlib.metadata
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ...errors import WeightsError
from ..registry import IMAGENET_MEAN, IMAGENET_STD, ModelInfo, model_info

BUILDER = "builder"
MXNET_EXPORTER = "mxnet"
EXPORTERS = (BUILDER, MXNET_EXPORTER)
# Bumped whenever the exported graph changes meaning: older cached files are then rebuilt.
EXPORT_FORMAT = "3"
_PREFIX = "gluonseg."


@dataclass(frozen=True)
class ExportSpec:
    """What one export is: the model, its weights, and the input size it accepts.

    ``dynamic``: any height and width (``height``/``width``/``native`` unused, 0/False);
    otherwise exactly ``height`` x ``width``, logits at the network's own resolution if
    ``native``. ``exporter``: :data:`BUILDER` (the package's own graph from the ``.params``
    arrays, no MXNet) or :data:`MXNET_EXPORTER` (MXNet's ONNX exporter, the ``[mxnet]`` extra).
    """

    model: str
    weights_sha1: str
    dynamic: bool
    height: int = 0
    width: int = 0
    native: bool = False
    exporter: str = "builder"

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ExportSpec:
        return cls(**json.loads(text))

    @property
    def input_size(self) -> str:
        if self.dynamic:
            return "dynamic"
        return f"{self.height}x{self.width}{'-native' if self.native else ''}"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def metadata_for(spec: ExportSpec) -> dict[str, str]:
    """The ``gluonseg.*`` metadata written into the export of ``spec``."""
    info = model_info(spec.model)
    values = {
        "format": EXPORT_FORMAT,
        "model": spec.model,
        "dataset": info.dataset,
        "num_classes": str(info.num_classes),
        "class_names": json.dumps(info.class_names),
        "weights_sha1": spec.weights_sha1,
        "input_size": spec.input_size,
        "mean": json.dumps([round(float(v), 6) for v in IMAGENET_MEAN]),
        "std": json.dumps([round(float(v), 6) for v in IMAGENET_STD]),
        "built_by": spec.exporter,
        "exporter": json.dumps(
            {p: _version(p) for p in ("mxnet", "gluoncv", "onnx")}
            if spec.exporter == MXNET_EXPORTER
            else {p: _version(p) for p in ("napari-gluonseg", "onnx")}
        ),
        "napari_gluonseg": _version("napari-gluonseg"),
    }
    return {_PREFIX + k: v for k, v in values.items()}


def read_metadata(custom: dict[str, str]) -> dict[str, str]:
    """The ``gluonseg.*`` entries of an ONNX file's custom metadata, without the prefix."""
    return {k[len(_PREFIX) :]: v for k, v in custom.items() if k.startswith(_PREFIX)}


def stale_reason(meta: dict[str, str], spec: ExportSpec) -> str | None:
    """Why a cached export does not hold ``spec`` (None: it does)."""
    expected = {k[len(_PREFIX) :]: v for k, v in metadata_for(spec).items()}
    keys = ("format", "built_by", "model", "weights_sha1", "input_size", "num_classes", "mean")
    for key in (*keys, "std"):
        if meta.get(key) != expected[key]:
            return f"its {key} is {meta.get(key)!r}, expected {expected[key]!r}"
    return None


def check_model_file(meta: dict[str, str], path: Path, info: ModelInfo) -> None:
    """Refuse a user's ONNX file that is not a dynamic export of ``info``'s model."""
    what = "export it with: napari-gluonseg export-onnx MODEL --weights FILE.params -o FILE.onnx"
    if not meta:
        raise WeightsError(f"{path} is not an ONNX file exported by napari-gluonseg; {what}.")
    if meta.get("format") != EXPORT_FORMAT:
        raise WeightsError(
            f"{path} was exported by another version of napari-gluonseg (format "
            f"{meta.get('format')!r}, this one reads {EXPORT_FORMAT!r}); {what}."
        )
    model, classes = meta.get("model"), meta.get("num_classes")
    if model != info.name or classes != str(info.num_classes):
        raise WeightsError(
            f"{path} holds {model} with {classes} classes, not {info.name} "
            f"({info.num_classes} classes): choose model {model}, or the file for {info.name}."
        )
    expected = {k[len(_PREFIX) :]: v for k, v in metadata_for(ExportSpec(model, "", True)).items()}
    expected["class_names"] = json.dumps(list(info.class_names))  # a learned model's own
    for key in ("class_names", "mean", "std", "input_size"):
        if meta.get(key) != expected[key]:
            raise WeightsError(
                f"{path}: its {key} ({meta.get(key)}) differs from {info.name}'s; {what}."
            )
