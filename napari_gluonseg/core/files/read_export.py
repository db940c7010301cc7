"""Reading an export set back: its labels, class table, provenance and kept scores, each
checked against the checksums the provenance holds (:mod:`.export` writes the set).

Each file's name, row or value is named in the :class:`ExportError` of anything that does not
fit; a set interrupted between its renames is finished before it is read.
"""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import strict_image_reads
from ..errors import ExportError
from ..provenance import CHECKSUMS_KEY
from ..run.scores import ScoreGrid
from .export import (
    HEX_COLOR,
    ROWS_KEY,
    TABLE_COLUMNS,
    check_label_values,
    finish_interrupted_exports,
)
from .names import ExportNames


def is_export_file(path: str | Path) -> bool:
    """Whether ``path`` is an image of an export this package wrote (labels, overlay or a
    probability map beside a provenance that carries the set's checksums): a result, not a
    photo to segment."""
    names = ExportNames.of_result_image(path)
    if names is None:
        return False
    try:
        provenance = read_provenance(names.provenance)
    except ExportError:
        return False  # not vouched for: treated as any other image
    return CHECKSUMS_KEY in provenance


def export_names(labels_path: str | Path) -> ExportNames:
    """The set a labels export's file belongs to; :class:`ExportError` for other names."""
    found = ExportNames.of_labels_file(labels_path)
    if found is None:
        raise ExportError(f"{labels_path} is not a labels export ({{stem}}_labels.png or .tif).")
    return found


def read_scores(labels_path: str | Path, labels_shape: tuple[int, ...]) -> ScoreGrid | None:
    """The kept scores of the export whose labels file is ``labels_path`` (``{stem}_scores.npz``
    beside it), checked against its provenance and the labels' shape (as read with
    :func:`read_export`); None where none were kept.

    Raises :class:`ExportError` naming the file for a damaged, changed or mismatched file.
    """
    names = export_names(labels_path)
    finish_interrupted_exports(names.folder, names.stem)
    path = names.scores
    if not path.is_file():
        return None
    prov_path = names.provenance
    checksums = read_provenance(prov_path).get(CHECKSUMS_KEY, {})
    _check_checksum(path, checksums.get("scores") if isinstance(checksums, dict) else None,
                    prov_path, "scores")  # fmt: skip
    try:
        with np.load(path, allow_pickle=False) as data:
            probs = data["probs"]
            leading = tuple(int(n) for n in data["leading_shape"])
            image_shape = tuple(int(n) for n in data["image_shape"])
            class_ids = tuple(int(n) for n in data["class_ids"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise ExportError(f"Cannot read the kept scores {path}: {exc}") from exc
    shape, labels_shape = labels_shape, (*leading, *image_shape)
    if (
        probs.ndim != 4
        or len(image_shape) != 2
        or probs.shape[0] != int(np.prod(leading))
        or probs.shape[1] != len(class_ids)
        or labels_shape != tuple(shape)
    ):
        raise ExportError(
            f"{path}: scores of shape {probs.shape} for an image of {labels_shape} do not "
            f"belong to {Path(labels_path).name}."
        )
    return ScoreGrid(probs, leading, (image_shape[0], image_shape[1]), class_ids)


@dataclass
class LabelsExport:
    """An export read back: labels, class names and colours (value k + 1), provenance."""

    labels: np.ndarray
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    provenance: dict[str, Any]


@dataclass(frozen=True)
class _TableRow:
    line: int
    index: int
    name: str
    color: tuple[int, int, int]
    pixels: int


def read_export(path: str | Path) -> LabelsExport:
    """Read ``{stem}_labels.*`` with its ``{stem}_classes.csv`` (and provenance, if there).

    Raises :class:`ExportError`, naming the file (and row), for a truncated labels file, a
    malformed or edited class table, label values the table lacks, or files of the set that do
    not match the checksums in its provenance (mixed from two exports, changed since).
    """
    path = Path(path)
    names = export_names(path)
    finish_interrupted_exports(names.folder, names.stem)
    table = names.classes
    if not table.is_file():
        raise ExportError(f"{path}: its class table {table.name} is missing beside it.")
    labels = _read_labels_file(path)
    rows = _read_table(table)
    check_label_values(labels, len(rows) - 1, str(path), str(table))
    prov_path = names.provenance
    provenance = read_provenance(prov_path)
    checksums = provenance.pop(CHECKSUMS_KEY, {})
    if not isinstance(checksums, dict):
        raise ExportError(f"{prov_path}: {CHECKSUMS_KEY!r} is not a record of checksums.")
    _check_checksum(path, checksums.get("labels"), prov_path, "labels")
    counts = np.bincount(labels.ravel().astype(np.int64), minlength=len(rows))
    for row in rows:
        if row.pixels != counts[row.index]:
            raise ExportError(
                f"{table}, row {row.line}: {row.pixels} pixels of {row.name!r} in the table, "
                f"{counts[row.index]} in {path.name}: the table does not belong to these labels."
            )
    if not _checksum_matches(table, checksums.get("classes")):
        edit = _edited_row(rows, checksums.get(ROWS_KEY), table)
        raise ExportError(edit or _changed_message(table, prov_path, "classes"))
    return LabelsExport(
        labels=labels,
        class_names=tuple(row.name for row in rows[1:]),
        colors=tuple(row.color for row in rows[1:]),
        provenance=provenance,
    )


def read_class_table(path: str | Path) -> tuple[tuple[str, ...], tuple[tuple[int, int, int], ...]]:
    """The class names and colours of the labels export ``path`` (its ``{stem}_classes.csv``
    alone, the labels not read: :func:`read_export` checks them against it)."""
    names = export_names(Path(path))
    if not names.classes.is_file():
        raise ExportError(f"{path}: its class table {names.classes.name} is missing beside it.")
    rows = _read_table(names.classes)[1:]
    return tuple(r.name for r in rows), tuple(r.color for r in rows)


def _read_labels_file(path: Path) -> np.ndarray:
    """The labels, read strictly: a truncated file is an error, never rows of zeros."""
    from PIL import Image

    try:
        if path.suffix.lower() == ".png":
            with strict_image_reads(), Image.open(path) as im:
                im.load()
                labels = np.array(im)  # writable: the layer it becomes gets painted on
        else:
            import tifffile

            labels = tifffile.imread(path)
    except Exception as exc:  # a damaged file: zlib.error, struct.error, imagecodecs' errors...
        raise ExportError(f"Cannot read the labels file {path}: {exc}") from exc
    if labels.dtype.kind not in "ui":
        raise ExportError(f"{path} holds {labels.dtype} values, not integer labels.")
    return labels


def _read_table(table: Path) -> list[_TableRow]:
    """The class table's rows, index 0, 1, 2, ... in order; errors name the row."""
    rows: list[_TableRow] = []
    try:
        with open(table, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in TABLE_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ExportError(f"{table}: no column {', '.join(missing)} in its first row.")
            for cells in reader:
                rows.append(_table_row(cells, reader.line_num, table, rows))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"Cannot read the class table {table}: {exc}") from exc
    if not rows:
        raise ExportError(f"{table} has no rows.")
    return rows


def _table_row(cells: dict, line: int, table: Path, before: list[_TableRow]) -> _TableRow:
    where = f"{table}, row {line}"
    empty = [c for c in TABLE_COLUMNS if not (cells.get(c) or "").strip()]
    if empty:
        raise ExportError(f"{where}: missing {', '.join(empty)}.")
    try:
        index, pixels = int(cells["index"]), int(cells["pixels"])
    except ValueError:
        raise ExportError(
            f"{where}: index and pixels must be whole numbers; got {cells['index']!r}, "
            f"{cells['pixels']!r}."
        ) from None
    if 0 <= index < len(before):  # rows so far are 0, 1, 2, ... in order: before[index] has it
        raise ExportError(f"{where}: index {index} again (first on row {before[index].line}).")
    if index != len(before):
        raise ExportError(
            f"{where}: index {index}, expected {len(before)} (rows run 0, 1, 2, ... in order)."
        )
    color = HEX_COLOR.fullmatch(cells["color"].strip())
    if color is None:
        raise ExportError(f"{where}: colour {cells['color']!r} is not #rrggbb.")
    rgb = bytes.fromhex(color.group(1))
    return _TableRow(line, index, cells["class_name"], (rgb[0], rgb[1], rgb[2]), pixels)


def read_provenance(path: Path) -> dict[str, Any]:
    """An export's provenance record ({} where there is none); ExportError if unreadable."""
    if not path.is_file():
        return {}  # a set made by hand: nothing to check against
    try:
        provenance = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"Cannot read the provenance {path}: {exc}") from exc
    if not isinstance(provenance, dict):
        raise ExportError(f"{path} does not hold a provenance record (a JSON object).")
    return provenance


def _check_checksum(path: Path, expected: str | None, provenance: Path, role: str) -> None:
    if not _checksum_matches(path, expected):
        raise ExportError(_changed_message(path, provenance, role))


def _checksum_matches(path: Path, expected: str | None) -> bool:
    if expected is None:
        return True
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest() == expected


def _changed_message(path: Path, provenance: Path, role: str) -> str:
    edited = " (a class name or colour edited by hand?)" if role == "classes" else ""
    return (
        f"{path} was changed after export{edited} or comes from another export "
        f"(an interrupted overwrite?): its sha256 does not match the one in {provenance}. "
        "Export again, or remove the provenance file to read the set unchecked."
    )


def _edited_row(rows: list[_TableRow], written: Any, table: Path) -> str | None:
    """The first row whose name or colour differs from what the export wrote (None: no record
    of the rows, as in older exports, or no such row: another change, or another export)."""
    if not isinstance(written, list) or len(written) != len(rows):
        return None
    for row, record in zip(rows, written, strict=True):
        color, _, name = str(record).partition(" ")
        now = "#{:02x}{:02x}{:02x}".format(*row.color)
        if name != row.name:
            what = f"class name {row.name!r}, the export wrote {name!r}"
        elif color.lower() != now:
            what = f"colour {now}, the export wrote {color}"
        else:
            continue
        return (
            f"{table}, row {row.line}: {what}. The table was edited after export: put it "
            "back, or remove the provenance file beside it to read the set unchecked."
        )
    return None
