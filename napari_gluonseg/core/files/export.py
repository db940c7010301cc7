"""Writing a result to disk: labels image, colour overlay, class table, provenance.

An export is a set of files under one stem. The set is written all at once (all new or all
old, see :func:`..atomic.write_set`: a set interrupted between its renames is finished by the
next reader or writer, :func:`finish_interrupted_exports`), never replaces another set unless
asked, and vouches for itself: the provenance records the sha256 of the labels file and the
class table, which :mod:`.read_export` checks, along with every row of the table against the
labels.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import hashlib
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import (
    TEMP_MARK,
    finish_interrupted_sets,
    longest_name,
    remove_stale_temps,
    write_set,
    written_path,
)
from ..checks import is_integer, shown
from ..errors import ExportError, ExportExistsError, OptionError
from ..models.registry import short_class_name
from ..provenance import CHECKSUMS_KEY, PROBABILITY_MAPS
from ..run.preprocess import as_image_stack
from ..run.result import SegmentationResult, class_table_rows
from ..run.scores import ScoreGrid
from .names import ExportNames

OVERLAY_ALPHA = 0.5
EXPORT_FORMATS = ("png", "tif")
ROWS_KEY = "class_rows"  # in CHECKSUMS_KEY's record
TABLE_COLUMNS = ("index", "class_name", "color", "pixels")
HEX_COLOR = re.compile(r"#([0-9a-fA-F]{6})([0-9a-fA-F]{2})?")


def colorize(labels: np.ndarray, colors: Sequence[Sequence[int]]) -> np.ndarray:
    """RGB uint8 image of ``labels`` in the class colours (0 = black)."""
    lut = np.zeros((len(colors) + 1, 3), np.uint8)
    lut[1:] = np.asarray(colors, np.uint8)
    return lut[labels]


def overlay(image: Any, result: SegmentationResult) -> np.ndarray:
    """The 2D image blended with its class colours (RGB uint8)."""
    stack = as_image_stack(image)
    base = (stack.plane_rgb01(0) * 255).round().astype(np.uint8)
    colored = colorize(result.labels.reshape(-1, *base.shape[:2])[0], result.colors)
    mask = (result.labels.reshape(-1, *base.shape[:2])[0] > 0)[..., None]
    blend = base * (1 - OVERLAY_ALPHA) + colored * OVERLAY_ALPHA
    return np.where(mask, blend, base).round().astype(np.uint8)


def existing_export_files(out_dir: str | Path, stem: str) -> list[Path]:
    """The files of any export under ``stem`` in ``out_dir`` (labels in any format, table,
    provenance, overlay, probability maps): what an export there would replace."""
    out = Path(out_dir)
    names = ExportNames(out, stem)
    maps: set[Path] = set()
    if out.is_dir():
        for pattern in names.map_patterns():
            maps |= set(out.glob(f"{glob.escape(stem)}{pattern}"))
    return sorted({p for p in names.fixed_files if p.exists()} | maps)


def finish_interrupted_exports(out_dir: str | Path, stem: str) -> None:
    """Complete any export in ``out_dir`` whose writer was interrupted between its renames
    (killed, Ctrl-C, a failing disk): before this, such a folder holds a mix of two sets. Then
    remove what dead writers of ``stem`` left before their renames began."""
    out = Path(out_dir)
    # First: the temporaries it renames look stale too. A journal names only its set's files.
    finish_interrupted_sets(out, lambda set_stem, name: ExportNames(out, set_stem).holds(name))
    with contextlib.suppress(OSError):  # a tidy-up: a read-only folder is still read
        remove_stale_temps(out, f".{glob.escape(stem)}_*{TEMP_MARK}*")


def write_result(
    result: SegmentationResult,
    out_dir: str | Path,
    stem: str,
    image: Any = None,
    fmt: str = "png",
    overwrite: bool = False,
    probability_maps: bool = False,
    keep_scores: bool = False,
) -> dict[str, Path]:
    """Write ``{stem}_labels.png|tif``, ``{stem}_classes.csv``, ``{stem}_provenance.json``, with
    ``image`` (2D) ``{stem}_overlay.png``, with ``probability_maps`` one ``{stem}_prob-class.png``
    per probability of the result, and with ``keep_scores`` the run's probabilities on its
    coarse grid as ``{stem}_scores.npz`` (float16; :func:`read_scores` gives them back), into
    ``out_dir``; return the paths.

    Raises :class:`ExportExistsError` if any export under ``stem`` is there, unless
    ``overwrite``, which replaces it (its files that the new set lacks are removed).
    """
    extras: dict[str, tuple[str, bytes]] = {}
    provenance = result.provenance
    names = ExportNames(Path(out_dir), stem)
    if image is not None and result.labels.ndim == 2:
        extras["overlay"] = (names.overlay.name, _png_bytes(overlay(image, result)))
    if probability_maps and result.probabilities:
        maps = _map_names(names, list(result.probabilities))
        for name, prob in result.probabilities.items():
            kind = f"P({short_class_name(name)})"
            kind = f"P({name})" if kind in extras else kind  # two classes, one first synonym
            extras[kind] = (maps[name], _png_bytes((prob * 255).round().astype("uint8")))
        # Which class each map is: names such as '道路' or '天空' leave no trace in the file's.
        provenance = {**provenance, PROBABILITY_MAPS: {f: c for c, f in maps.items()}}
    if keep_scores and result.scores is not None:
        extras["scores"] = (names.scores.name, _scores_bytes(result.scores))
    return _write_set(
        result.labels,
        result.class_names,
        result.colors,
        provenance,
        Path(out_dir),
        stem,
        fmt,
        extras,
        overwrite,
    )


def _map_names(names_of: ExportNames, class_names: Sequence[str]) -> dict[str, str]:
    """Each class's map file name, numbered where two would be the same (``road/street`` and
    ``road street``; names without a Latin letter or digit all give ``prob-class``)."""
    names: dict[str, str] = {}
    for class_name in class_names:
        base = names_of.map(class_name).name.removesuffix(".png")
        name, n = f"{base}.png", 1
        while name in names.values():
            n += 1
            name = f"{base}-{n}.png"
        names[class_name] = name
    return names


def write_labels(
    labels: np.ndarray,
    class_names: Sequence[str],
    colors: Sequence[Sequence[int]],
    provenance: dict[str, Any],
    out_dir: str | Path,
    stem: str,
    fmt: str = "png",
    overwrite: bool = False,
    scores: ScoreGrid | None = None,
) -> dict[str, Path]:
    """Training data: labels (value k + 1 = ``class_names[k]``, 0 = unlabeled) as PNG (8 or 16
    bit, whichever the values need; 2D only) or TIFF (any number of axes), the class table as
    CSV (index, class_name, color, pixels) and the provenance as JSON. Returns the paths.

    Raises :class:`ExportExistsError` if any export under ``stem`` is there, unless
    ``overwrite``, which replaces it (its files that the new set lacks are removed).
    ``scores`` (a run's kept scores for these labels) go beside as ``{stem}_scores.npz``.
    """
    scores_name = ExportNames(Path(out_dir), stem).scores.name
    extras = {} if scores is None else {"scores": (scores_name, _scores_bytes(scores))}
    return _write_set(
        labels, class_names, colors, provenance, Path(out_dir), stem, fmt, extras, overwrite
    )


def _check_stem(stem: str) -> None:
    """A stem names files in the output folder: never a path out of it."""
    if not stem or stem in (".", "..") or any(c in stem for c in "/\\\0"):
        raise ExportError(
            f"The export stem {stem!r} must be a file name, not a path (no '/', '\\', '..')."
        )


def _check_class_table(class_names: Sequence[str], colors: Sequence[Sequence[int]]) -> None:
    if len(class_names) != len(colors):
        raise ExportError(
            f"{len(class_names)} class names but {len(colors)} colours: one colour per class."
        )
    for k, (name, rgb) in enumerate(zip(class_names, colors, strict=True), start=1):
        if not isinstance(name, str) or not name.strip():
            raise ExportError(f"class {k} has no name ({name!r}).")
        values = tuple(rgb)
        if len(values) not in (3, 4) or not all(
            is_integer(v) and 0 <= int(v) <= 255 for v in values
        ):
            raise ExportError(
                f"class {k} ({name!r}): colour {values} is not 3 values in 0..255 (RGB)."
            )


def _write_set(
    labels: np.ndarray,
    class_names: Sequence[str],
    colors: Sequence[Sequence[int]],
    provenance: dict[str, Any],
    out: Path,
    stem: str,
    fmt: str,
    extras: dict[str, tuple[str, bytes]],
    overwrite: bool,
) -> dict[str, Path]:
    if fmt not in EXPORT_FORMATS:
        raise OptionError(f"Unknown export format {fmt!r}; valid: {', '.join(EXPORT_FORMATS)}.")
    if not isinstance(provenance, Mapping):
        raise OptionError(
            f"provenance must be a mapping (a dict of JSON values); got {shown(provenance)}."
        )
    _check_stem(stem)
    _check_class_table(class_names, colors)
    names = ExportNames(out, stem)
    labels = np.asarray(labels)
    if labels.ndim < 2 or 0 in labels.shape:
        raise ExportError(
            f"Labels need two non-empty image axes (height, width), after any leading axes; "
            f"got shape {labels.shape}."
        )
    labels_name, labels_bytes = _labels_file(labels, names, fmt)
    table_name = names.classes.name
    check_label_values(np.asarray(labels), len(class_names), labels_name, table_name)
    table_rows = class_table_rows(labels, class_names, colors)
    table_bytes = _table_bytes(table_rows)
    checksums: dict[str, Any] = {"labels": _sha256(labels_bytes), "classes": _sha256(table_bytes)}
    # What each row said, "#rrggbb name": an edited table's error names the row and the edit.
    checksums[ROWS_KEY] = [f"{row['color'][:7]} {row['class_name']}" for row in table_rows]
    if "scores" in extras:
        checksums["scores"] = _sha256(extras["scores"][1])
    prov = {**provenance, CHECKSUMS_KEY: checksums}
    contents = {
        "labels": (labels_name, labels_bytes),
        "classes": (table_name, table_bytes),
        **extras,
        # Last: it vouches for the others, so an interrupted set never matches it.
        "provenance": (names.provenance.name, _json_bytes(prov)),
    }
    paths = {kind: out / name for kind, (name, _) in contents.items()}
    check_name_lengths(names, [name for name, _ in contents.values()])
    _make_folder(out)
    finish_interrupted_exports(out, stem)
    existing = existing_export_files(out, stem)
    if existing and not overwrite:
        raise ExportExistsError(
            f"An export named {stem!r} is already in {out}: "
            f"{', '.join(p.name for p in existing)}. Choose another name or folder, or pass "
            "overwrite=True to replace it."
        )
    try:
        write_set(
            {paths[kind]: data for kind, (_, data) in contents.items()},
            journal=names.journal,
            remove=existing,  # e.g. the PNG of a set now written as TIFF
        )
    except OSError as exc:  # a read-only folder, a full disk: name the file, not a temporary
        target = written_path(exc, [*paths.values(), *existing]) or paths["labels"]
        after = (
            f"the export {stem!r} is finished from {names.journal.name} when the folder is "
            "next read or written"
            if names.journal.exists()
            else f"nothing of the export {stem!r} was changed"
        )
        raise ExportError(f"Cannot write {target}: {exc.strerror or exc}; {after}.") from exc
    return paths


def check_name_lengths(names: ExportNames, file_names: Sequence[str] = ()) -> None:
    """Refuse a stem whose files' names (``file_names``, the fixed ones and the journal's)
    would not fit the file system's limit with their temporaries' endings: an
    :class:`ExportError` naming the stem and how long it may be."""
    every = [*file_names, *(p.name for p in names.fixed_files), names.journal.name]
    longest = max(every, key=lambda name: len(os.fsencode(name)))
    excess = len(os.fsencode(longest)) - longest_name(names.folder)
    if excess > 0:
        stem = names.stem
        allowed = len(os.fsencode(stem)) - excess
        unit = "characters" if stem.isascii() else "bytes as the file system encodes them"
        raise ExportError(
            f"The export name {stem!r} ({len(stem)} characters) is too long for "
            f"{names.folder}: with its files' endings ('_provenance.json' and the like) and "
            "the temporary each file is first written to, a name would exceed the file system's "
            f"limit. Choose a shorter name (at most {allowed} {unit})."
        )


def _make_folder(out: Path) -> None:
    """The export folder, made if missing; :class:`ExportError` where it cannot be a folder."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next(p for p in (out, *out.parents) if p.exists() and not p.is_dir())
        raise ExportError(
            f"The export folder {out} cannot be made: {blocker} is a file. Give a folder."
        ) from None
    except OSError as exc:  # no permission, a read-only disk
        raise ExportError(f"Cannot make the export folder {out}: {exc.strerror or exc}.") from exc


def _scores_bytes(scores: ScoreGrid) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        probs=scores.probs.astype(np.float16),
        leading_shape=np.array(scores.leading_shape, np.int64),
        image_shape=np.array(scores.image_shape, np.int64),
        class_ids=np.array(scores.class_ids, np.int64),
    )
    return buffer.getvalue()


def _labels_file(labels: np.ndarray, names: ExportNames, fmt: str) -> tuple[str, bytes]:
    """The labels file's name and content: PNG for 2D values up to 16 bits, else TIFF."""
    if labels.dtype.kind not in "ui" or (labels.size and labels.min() < 0):
        raise ExportError(f"Labels must be non-negative integers; got {labels.dtype}.")
    top = int(labels.max(initial=0))
    if top > 65535 and fmt == "png":
        raise ExportError(f"Label values up to {top} do not fit a 16-bit PNG; export as TIFF.")
    if fmt == "png" and labels.ndim == 2:
        data = labels.astype(np.uint8 if top < 256 else np.uint16)
        return names.labels("png").name, _png_bytes(data)
    import tifffile

    dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
    buffer = io.BytesIO()
    # Planes, never colour: unless told, tifffile tags a (3 or 4, H, W) array as RGB(A).
    tifffile.imwrite(buffer, labels.astype(dtype), compression="zlib", photometric="minisblack")
    return names.labels("tif").name, buffer.getvalue()


def _png_bytes(array: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _table_bytes(rows: list[dict[str, Any]]) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(TABLE_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue().encode()


def _json_bytes(provenance: dict[str, Any]) -> bytes:
    return (json.dumps(provenance, indent=2, default=str) + "\n").encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_label_values(labels: np.ndarray, n_classes: int, labels_name: str, table: str) -> None:
    top = int(labels.max(initial=0))
    if top > n_classes:
        count = int((labels == top).sum())
        raise ExportError(
            f"{labels_name}: label value {top} ({count} pixels) is not in the class table "
            f"{table} (values 0..{n_classes})."
        )
