"""A learned model: one ONNX file holding a zoo model's graph whose last classifier was fitted
on corrected labels (:mod:`napari_gluonseg.core.learn`), with its own classes, colours and
provenance in its ``gluonseg.*`` metadata.

It is chosen like a zoo model, by its path (``segment_image(image, "street.onnx")``, ``--model
street.onnx``): the run takes the base model's sizes, padding and engine from the card, and the
classes from the file (:meth:`LearnedModel.info`).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import WeightsError
from .registry import ModelInfo, model_info

LEARNED = "learned"  # the metadata key (gluonseg.learned) of what learning recorded
_PREFIX = "gluonseg."


def is_model_file(name: Any) -> bool:
    """Whether a model name is a path to a model file (a learned model) rather than a zoo name."""
    return isinstance(name, (str, os.PathLike)) and str(name).lower().endswith(".onnx")


@dataclass(frozen=True)
class LearnedModel:
    """What a learned model file says of itself: its ``base`` zoo model, its classes and
    colours, and ``record``: how it was learned (images, pixels, held-out score, weights)."""

    path: Path
    base: str
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    record: dict[str, Any]

    @property
    def info(self) -> ModelInfo:
        """The base model's facts with this model's classes."""
        return replace(model_info(self.base), class_names=self.class_names, colors=self.colors)


def learned_entries(
    base: str, class_names: tuple[str, ...], colors: tuple[tuple[int, int, int], ...], record: dict
) -> dict[str, str]:
    """The ``gluonseg.*`` entries that make a graph of ``base`` a learned model."""
    learned = {"base": base, "colors": [list(c) for c in colors], **record}
    values = {
        "num_classes": str(len(class_names)),
        "class_names": json.dumps(list(class_names)),
        LEARNED: json.dumps(learned, sort_keys=True),
    }
    return {_PREFIX + k: v for k, v in values.items()}


def is_learned_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a readable ONNX file with a learned-model record (False for
    anything else: the engine that opens it says what is wrong)."""
    file = Path(path)
    if not (is_model_file(path) and file.is_file()):
        return False
    try:
        return LEARNED in _metadata_of(str(file.absolute()), *_version(file))
    except WeightsError:
        return False


def _version(file: Path) -> tuple[int, int]:
    stat = file.stat()
    return stat.st_mtime_ns, stat.st_size


def read_learned(path: str | os.PathLike) -> LearnedModel:
    """The learned model at ``path``; :class:`WeightsError` names the file and what is wrong
    (missing, not an ONNX file, not a learned model, a damaged record)."""
    file = Path(path)
    if not file.is_file():
        raise WeightsError(f"The model file {file} does not exist.")
    return _read(str(file.absolute()), *_version(file))


def _read(path: str, mtime_ns: int, size: int) -> LearnedModel:
    meta = _metadata_of(path, mtime_ns, size)
    if LEARNED not in meta:
        raise WeightsError(
            f"{path} is not a learned model (no {_PREFIX}{LEARNED} record): give a zoo model's "
            "name, or a file made by 'napari-gluonseg learn'."
        )
    try:
        learned = json.loads(meta[LEARNED])
        names = tuple(str(n) for n in json.loads(meta["class_names"]))
        colors = tuple((int(r), int(g), int(b)) for r, g, b in learned["colors"])
        base = str(learned["base"])
        if len(colors) != len(names) or str(len(names)) != meta.get("num_classes"):
            raise ValueError(f"{len(names)} names, {len(colors)} colours")
        model_info(base)  # UnknownModelError: a base this version does not know
    except (KeyError, TypeError, ValueError) as exc:
        raise WeightsError(f"{path}: its learned-model record cannot be read ({exc}).") from exc
    return LearnedModel(Path(path), base, names, colors, learned)


# onnx.proto's ModelProto.metadata_props (field 14): entries {key = 1, value = 2}. Read from the
# file's top level without the onnx package (a run of an exported file imports onnxruntime only)
# and without reading the graph (~130 MB of weights, skipped by its length).
_METADATA_PROPS = 14


@lru_cache(maxsize=16)
def _metadata_of(path: str, _mtime_ns: int, _size: int) -> dict[str, str]:
    """The file's ``gluonseg.*`` metadata, read once per version of the file (its time and
    size are the cache's key)."""
    try:
        with open(path, "rb") as f:
            entries = dict(_top_level_entries(f, os.fstat(f.fileno()).st_size))
    except (ValueError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{path} is not an ONNX model file ({exc}).") from exc
    return {k[len(_PREFIX) :]: v for k, v in entries.items() if k.startswith(_PREFIX)}


def _top_level_entries(f: BinaryIO, size: int) -> Iterator[tuple[str, str]]:
    while f.tell() < size:
        field, wire = _split_tag(_varint(f))
        if wire == 0:
            _varint(f)
        elif wire in (1, 5):
            f.seek(8 if wire == 1 else 4, 1)
        elif wire == 2:
            length = _varint(f)
            if f.tell() + length > size:
                raise ValueError("a field runs past the end of the file")
            if field == _METADATA_PROPS:
                yield _entry(f.read(length))
            else:
                f.seek(length, 1)
        else:
            raise ValueError(f"wire type {wire} at byte {f.tell()}")


def _split_tag(tag: int) -> tuple[int, int]:
    return tag >> 3, tag & 7


def _varint(f: BinaryIO) -> int:
    value, shift = 0, 0
    while True:
        byte = f.read(1)
        if not byte or shift > 63:
            raise ValueError("a truncated or overlong number")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7


def _entry(data: bytes) -> tuple[str, str]:
    """A StringStringEntryProto's (key, value)."""
    found = {1: "", 2: ""}
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        field, wire = _split_tag(_varint(stream))
        if wire != 2:
            raise ValueError("a metadata entry that is not two strings")
        found[field] = stream.read(_varint(stream)).decode()
    return found[1], found[2]
