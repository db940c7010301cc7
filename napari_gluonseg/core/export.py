"""Writing a result to disk: labels image, colour overlay, class table, provenance."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ExportError, OptionError
from .preprocess import as_image_stack
from .result import SegmentationResult, class_table_rows

OVERLAY_ALPHA = 0.5
EXPORT_FORMATS = ("png", "tif")


def colorize(labels: np.ndarray, colors) -> np.ndarray:
    """RGB uint8 image of ``labels`` in the class colours (0 = black)."""
    lut = np.zeros((len(colors) + 1, 3), np.uint8)
    lut[1:] = np.asarray(colors, np.uint8)
    return lut[labels]


def overlay(image, result: SegmentationResult) -> np.ndarray:
    """The 2D image blended with its class colours (RGB uint8)."""
    stack = as_image_stack(image)
    base = (stack.plane_rgb01(0) * 255).round().astype(np.uint8)
    colored = colorize(result.labels.reshape(-1, *base.shape[:2])[0], result.colors)
    mask = (result.labels.reshape(-1, *base.shape[:2])[0] > 0)[..., None]
    blend = base * (1 - OVERLAY_ALPHA) + colored * OVERLAY_ALPHA
    return np.where(mask, blend, base).round().astype(np.uint8)


def write_result(
    result: SegmentationResult, out_dir: str | Path, stem: str, image=None, fmt: str = "png"
) -> dict[str, Path]:
    """Write ``{stem}_labels.png|tif``, ``{stem}_overlay.png`` (2D, with ``image``),
    ``{stem}_classes.csv`` and ``{stem}_provenance.json`` into ``out_dir``; return the paths."""
    from PIL import Image

    paths = write_labels(
        result.labels, result.class_names, result.colors, result.provenance, out_dir, stem, fmt
    )
    if image is not None and result.labels.ndim == 2:
        paths["overlay"] = Path(out_dir) / f"{stem}_overlay.png"
        Image.fromarray(overlay(image, result)).save(paths["overlay"])
    return paths


def write_labels(
    labels: np.ndarray,
    class_names: Sequence[str],
    colors: Sequence[Sequence[int]],
    provenance: dict[str, Any],
    out_dir: str | Path,
    stem: str,
    fmt: str = "png",
) -> dict[str, Path]:
    """Training data: labels (value k + 1 = ``class_names[k]``, 0 = unlabeled) as PNG (8 or 16
    bit, whichever the values need; 2D only) or TIFF (any number of axes), the class table as
    CSV (index, class_name, color, pixels) and the provenance as JSON. Returns the paths."""
    from PIL import Image

    if fmt not in EXPORT_FORMATS:
        raise OptionError(f"Unknown export format {fmt!r}; valid: {', '.join(EXPORT_FORMATS)}.")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "ui" or (labels.size and labels.min() < 0):
        raise OptionError(f"Labels must be non-negative integers; got {labels.dtype}.")
    top = int(labels.max(initial=0))
    if top > 65535 and fmt == "png":
        raise OptionError(f"Label values up to {top} do not fit a 16-bit PNG; export as TIFF.")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if fmt == "png" and labels.ndim == 2:
        paths["labels"] = out / f"{stem}_labels.png"
        dtype = np.uint8 if top < 256 else np.uint16
        Image.fromarray(labels.astype(dtype)).save(paths["labels"])
    else:
        import tifffile

        paths["labels"] = out / f"{stem}_labels.tif"
        dtype = np.uint8 if top < 256 else np.uint16 if top < 65536 else np.uint32
        tifffile.imwrite(paths["labels"], labels.astype(dtype), compression="zlib")
    paths["classes"] = out / f"{stem}_classes.csv"
    with open(paths["classes"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["index", "class_name", "color", "pixels"])
        writer.writeheader()
        writer.writerows(class_table_rows(labels, class_names, colors))
    paths["provenance"] = out / f"{stem}_provenance.json"
    paths["provenance"].write_text(json.dumps(provenance, indent=2, default=str) + "\n")
    return paths


@dataclass
class LabelsExport:
    """An export read back: labels, class names and colours (value k + 1), provenance."""

    labels: np.ndarray
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    provenance: dict[str, Any]


def export_stem(path: str | Path) -> tuple[Path, str] | None:
    """(folder, stem) of a ``{stem}_labels.png|tif|tiff`` file; None for other names."""
    path = Path(path)
    for suffix in ("_labels.png", "_labels.tif", "_labels.tiff"):
        if path.name.lower().endswith(suffix):
            return path.parent, path.name[: -len(suffix)]
    return None


def read_export(path: str | Path) -> LabelsExport:
    """Read ``{stem}_labels.*`` with its ``{stem}_classes.csv`` (and provenance, if there)."""
    from PIL import Image

    found = export_stem(path)
    if found is None:
        raise ExportError(f"{path} is not a labels export ({{stem}}_labels.png or .tif).")
    folder, stem = found
    table = folder / f"{stem}_classes.csv"
    if not table.is_file():
        raise ExportError(f"{path}: its class table {table.name} is missing beside it.")
    if Path(path).suffix.lower() == ".png":
        with Image.open(path) as im:
            labels = np.asarray(im)
    else:
        import tifffile

        labels = tifffile.imread(path)
    names: dict[int, str] = {}
    colors: dict[int, tuple[int, int, int]] = {}
    with open(table, newline="") as f:
        for row in csv.DictReader(f):
            k = int(row["index"])
            if k == 0:
                continue
            names[k] = row["class_name"]
            c = row["color"].lstrip("#")
            colors[k] = (int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16))
    n = max(names, default=0)
    if sorted(names) != list(range(1, n + 1)):
        raise ExportError(f"{table.name}: class indices must run 1..{n} without gaps.")
    prov_path = folder / f"{stem}_provenance.json"
    provenance = json.loads(prov_path.read_text()) if prov_path.is_file() else {}
    return LabelsExport(
        labels=labels,
        class_names=tuple(names[k] for k in range(1, n + 1)),
        colors=tuple(colors[k] for k in range(1, n + 1)),
        provenance=provenance,
    )
