"""Writing a result to disk: labels image, colour overlay, class table, provenance."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .preprocess import as_image_stack
from .result import SegmentationResult

OVERLAY_ALPHA = 0.5


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
    result: SegmentationResult, out_dir: str | Path, stem: str, image=None
) -> dict[str, Path]:
    """Write ``{stem}_labels.png|tif``, ``{stem}_overlay.png`` (2D, with ``image``),
    ``{stem}_classes.csv`` and ``{stem}_provenance.json`` into ``out_dir``; return the paths."""
    from PIL import Image

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    if result.labels.ndim == 2:
        paths["labels"] = out / f"{stem}_labels.png"
        Image.fromarray(result.labels).save(paths["labels"])
        if image is not None:
            paths["overlay"] = out / f"{stem}_overlay.png"
            Image.fromarray(overlay(image, result)).save(paths["overlay"])
    else:
        import tifffile

        paths["labels"] = out / f"{stem}_labels.tif"
        tifffile.imwrite(paths["labels"], result.labels, compression="zlib")
    paths["classes"] = out / f"{stem}_classes.csv"
    with open(paths["classes"], "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["index", "class_name", "color", "pixels"])
        writer.writeheader()
        writer.writerows(result.class_table())
    paths["provenance"] = out / f"{stem}_provenance.json"
    paths["provenance"].write_text(json.dumps(result.provenance, indent=2) + "\n")
    return paths
