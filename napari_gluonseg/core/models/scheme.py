"""Label schemes: the user's own labels, each made of one or more of the model's classes.

A scheme merges the model's classes (e.g. ADE20K's 150) into the labels of a project, with the
project's values, names and colours. A label's probability is the sum of its classes'
probabilities; the classes no label lists form an implicit "unmapped" group whose pixels stay
unlabeled (0). Two file formats (examples in ``napari_gluonseg/schemes/``):

- YAML: ``labels: [{value, name, color, classes: [class, ...]}, ...]``, optional ``name`` and
  ``dataset``;
- CSV: columns ``source_class, value, name, color``, one row per model class (``#`` comments).

Classes are named as the registry accepts them: full name, first synonym, or index. A YAML
scheme's ``dataset`` (``ade20k``, ``pascal_voc``, ``coco``, ``citys``) must be the model's, or one
of the same classes. Values and class indices written as text are ASCII digits alone.

The shipped schemes are found by name (``street_ade20k``, ``street_ade20k.csv``) wherever the
package is installed, unless a file of that name is where the path points.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from ..checks import is_integer
from ..errors import OptionError, SchemeError
from .registry import DATASET_TITLES, ModelInfo, model_info, model_names

EXAMPLES = Path(__file__).resolve().parents[2] / "schemes"
UNUSED = "(unused)"
SCHEME_SUFFIXES = (".yaml", ".yml", ".csv")
_DIGITS = re.compile(r"[0-9]+")  # what int() reads as a number, less '1_0', '+5' and '١٠'

# One label as read, before any check: (where, value, name, colour, classes). The values are as
# the file holds them: YAML gives any type, CSV text.
_RawLabel: TypeAlias = tuple[str, Any, Any, Any, list[Any]]


@dataclass(frozen=True)
class SchemeLabel:
    value: int
    name: str
    color: tuple[int, int, int]
    classes: tuple[int, ...]  # model class indices


@dataclass(frozen=True)
class LabelScheme:
    name: str
    labels: tuple[SchemeLabel, ...]
    source: str = ""

    @property
    def class_names(self) -> tuple[str, ...]:
        """Name of label value ``k + 1`` (gaps between values are ``(unused)``)."""
        names = [UNUSED] * max(lab.value for lab in self.labels)
        for lab in self.labels:
            names[lab.value - 1] = lab.name
        return tuple(names)

    @property
    def colors(self) -> tuple[tuple[int, int, int], ...]:
        colors = [(128, 128, 128)] * max(lab.value for lab in self.labels)
        for lab in self.labels:
            colors[lab.value - 1] = lab.color
        return tuple(colors)

    def groups(self, num_classes: int) -> list[np.ndarray]:
        """Model class indices of each label, then of the unmapped group (possibly empty)."""
        mapped = {k for lab in self.labels for k in lab.classes}
        unmapped = [k for k in range(num_classes) if k not in mapped]
        return [np.array(lab.classes) for lab in self.labels] + [np.array(unmapped, int)]

    def row_ids(self) -> np.ndarray:
        """Per group: the result's class index (value - 1); -1 for unmapped (label 0)."""
        return np.array([lab.value - 1 for lab in self.labels] + [-1])

    def index_of(self, name: str | int) -> int:
        """Result class index of a label given by name or value."""
        for lab in self.labels:
            if name == lab.name or (is_integer(name) and name == lab.value):
                return lab.value - 1
        raise OptionError(
            f"The label scheme {self.name!r} has no label {name!r}; its labels: "
            f"{', '.join(lab.name for lab in self.labels)}."
        )


def shipped_schemes() -> list[Path]:
    """The label scheme files that come with the package, by name."""
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix.lower() in SCHEME_SUFFIXES)


def _scheme_file(path: Path) -> Path:
    """``path``, or the shipped scheme a bare name (``street_ade20k``) stands for."""
    if path.is_file():
        return path
    shipped = shipped_schemes()
    if path.parent == Path():
        for found in shipped:
            if path.name in (found.name, found.stem):
                return found
    raise SchemeError(
        f"Label scheme file {path} does not exist. The schemes shipped with napari-gluonseg "
        f"are found by name: {', '.join(p.stem for p in shipped)}."
    )


def load_scheme(path: str | os.PathLike, info: ModelInfo) -> LabelScheme:
    """Read and check a scheme file (or a shipped scheme by name) against the model's
    classes."""
    path = _scheme_file(Path(path))
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        raw, name, dataset = _read_yaml(path)
        _check_dataset(dataset, path, info)
    elif suffix == ".csv":
        raw, name = _read_csv(path), path.stem
    else:
        raise SchemeError(f"{path}: a label scheme is a .yaml, .yml or .csv file.")
    if not raw:
        raise SchemeError(f"{path}: the scheme defines no labels.")
    labels: list[SchemeLabel] = []
    seen_values: set[int] = set()
    owner: dict[int, object] = {}  # class index -> the name of the label that has it
    named: dict[str, str] = {}  # label name -> where it was defined
    for where, value, label_name, color, classes in raw:
        value = _label_value(value, path, where)
        label_name = _label_name(label_name, path, where)
        if label_name in named:
            raise SchemeError(
                f"{path}, {where}: the name {label_name!r} is also {named[label_name]}'s; "
                "each label needs a name of its own (its probability map is named after it)."
            )
        named[label_name] = where
        if not 1 <= value <= 65535:
            raise SchemeError(
                f"{path}, {where}: value {value} must be in 1..65535 (0 = unlabeled)."
            )
        if value in seen_values:
            raise SchemeError(f"{path}, {where}: value {value} is used by two labels.")
        seen_values.add(value)
        indices = []
        for c in classes:
            try:
                k = info.class_index(_class_key(c))
            except OptionError as exc:
                raise SchemeError(f"{path}, {where}: {exc}") from None
            if k in owner:
                raise SchemeError(
                    f"{path}, {where}: class {info.class_names[k]!r} is already in label "
                    f"{owner[k]!r}; a class can belong to one label only."
                )
            owner[k] = label_name
            indices.append(k)
        if not indices:
            raise SchemeError(f"{path}, {where}: label {label_name!r} lists no classes.")
        labels.append(
            SchemeLabel(value, str(label_name), _color(color, path, where), tuple(indices))
        )
    labels.sort(key=lambda lab: lab.value)
    return LabelScheme(name=name, labels=tuple(labels), source=str(path))


def _class_key(given: object) -> str | int:
    """A class as the registry takes it: an index (an integer, or ASCII digits), or a name."""
    if is_integer(given):
        return int(given)
    text = str(given).strip()
    return int(text) if _DIGITS.fullmatch(text) else text


def _check_dataset(dataset: object, path: Path, info: ModelInfo) -> None:
    """A scheme's ``dataset``: a known one, and the model's (or one of the same classes)."""
    if dataset is None:
        return
    if not (isinstance(dataset, str) and dataset in DATASET_TITLES):
        known = ", ".join(map(repr, DATASET_TITLES))
        raise SchemeError(f"{path}: dataset {dataset!r} is not one of {known}.")
    if dataset != info.dataset and _classes_of(dataset) != info.class_names:
        raise SchemeError(
            f"{path} is a scheme for the dataset {dataset!r} ({DATASET_TITLES[dataset]}), but "
            f"{info.name} was trained on {info.dataset!r} ({DATASET_TITLES[info.dataset]}), "
            f"whose classes are others. Choose a model of {dataset!r} (napari-gluonseg models) "
            f"or a scheme for {info.dataset!r}."
        )


def _classes_of(dataset: str) -> tuple[str, ...]:
    name = next(n for n in model_names() if model_info(n).dataset == dataset)
    return model_info(name).class_names


def _label_name(name: object, path: Path, where: str) -> str:
    """A non-empty name (YAML may give a number: its text)."""
    if isinstance(name, (str, int, float)) and not isinstance(name, bool) and str(name).strip():
        return str(name).strip()
    raise SchemeError(f"{path}, {where}: a label needs a name; got {name!r}.")


def _label_value(value: object, path: Path, where: str) -> int:
    """An integer (YAML) or its ASCII digits (CSV); 1.9, true or '1_0' are not label values."""
    if is_integer(value):
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    raise SchemeError(
        f"{path}, {where}: value {value!r} is not an integer written in the digits 0-9 alone."
    )


def _read_text(path: Path) -> str:
    """The file as text; a UTF-8 byte order mark (spreadsheets write one) is dropped."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SchemeError(
            f"{path} is not a UTF-8 text file (byte {exc.start}: {exc.reason}); a label scheme "
            "is a .yaml or .csv text file."
        ) from None


def _read_yaml(path: Path) -> tuple[list[_RawLabel], str, object]:
    """The labels as read, the scheme's name and its ``dataset`` (None if not given)."""
    import yaml

    try:
        doc = yaml.safe_load(_read_text(path))
    except yaml.YAMLError as exc:
        raise SchemeError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("labels"), list):
        raise SchemeError(f"{path}: expected a mapping with a 'labels' list.")
    raw: list[_RawLabel] = []
    for i, item in enumerate(doc["labels"]):
        if not isinstance(item, dict) or not {"value", "name", "classes"} <= set(item):
            raise SchemeError(f"{path}, label {i + 1}: needs value, name and classes.")
        classes = item["classes"] if isinstance(item["classes"], list) else [item["classes"]]
        raw.append((f"label {i + 1}", item["value"], item["name"], item.get("color"), classes))
    return raw, str(doc.get("name", path.stem)), doc.get("dataset")


def _read_csv(path: Path) -> list[_RawLabel]:
    text = _read_text(path)
    # Comment and blank lines are left out; rows keep the file's line numbers. Lines end as a CSV
    # reader ends them (str.splitlines also breaks at U+2028, \x1c and the like, within a cell).
    lines = re.split(r"\r\n|\r|\n", text)
    kept = [(n, line) for n, line in enumerate(lines, start=1)]
    kept = [(n, line) for n, line in kept if line.strip() and not line.lstrip().startswith("#")]
    line_numbers = [n for n, _ in kept[1:]]
    try:
        rows = list(csv.DictReader(line for _, line in kept))
    except csv.Error as exc:
        raise SchemeError(f"{path} is not a readable CSV file: {exc}") from None
    need = {"source_class", "value", "name"}
    if not rows or not need <= set(rows[0]):
        raise SchemeError(f"{path}: needs the columns source_class, value, name (and color).")
    by_value: dict[str, list[Any]] = {}
    for n, row in zip(line_numbers, rows, strict=False):
        missing = [k for k in ("source_class", "value", "name") if not (row.get(k) or "").strip()]
        if missing:
            raise SchemeError(f"{path}, row {n}: no {', '.join(missing)}.")
        name, color = row["name"].strip(), (row.get("color") or "").strip()
        entry = by_value.setdefault(
            row["value"].strip(), [f"row {n}", row["value"], name, color, []]
        )
        _same_label(entry, name, color, f"{path}, row {n}: value {row['value'].strip()}")
        entry[4].append(row["source_class"].strip())
    return [tuple(e) for e in by_value.values()]


def _same_label(entry: list[Any], name: str, color: str, where: str) -> None:
    """Rows of one value are one label: they must not name or colour it differently."""
    first_row, _, first_name, first_color, _ = entry
    if name != first_name:
        raise SchemeError(f"{where} is named {name!r} here but {first_name!r} in {first_row}.")
    if color and first_color and color.lower() != first_color.lower():
        raise SchemeError(f"{where} has colour {color!r} here but {first_color!r} in {first_row}.")
    if color and not first_color:
        entry[3] = color


def _color(text: object, path: Path, where: str) -> tuple[int, int, int]:
    if text is None or str(text).strip() == "":
        return (128, 128, 128)
    s = str(text).strip().lstrip("#")
    if len(s) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in s):
        raise SchemeError(f"{path}, {where}: colour {text!r} is not #rrggbb.")
    return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)


def group_probabilities(probs: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """(C, ...) class probabilities -> (len(groups), ...) sums over each group."""
    out = np.zeros((len(groups), *probs.shape[1:]), np.float32)
    for g, members in enumerate(groups):
        if len(members):
            np.sum(probs[members], axis=0, out=out[g])
    return out
