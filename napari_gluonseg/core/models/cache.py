"""What napari-gluonseg keeps in the model cache (``$MXNET_HOME/models``), and emptying it.

Two kinds of files: weights downloaded from the model zoo (``{model}-{sha1[:8]}.params``, the
names gluoncv uses, so other gluoncv programs share them) and ONNX exports under ``onnx/``
(rebuilt when needed, ~130 MB each for ResNet-50 models). Listing imports neither mxnet nor
onnxruntime.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..atomic import TEMP_MARK, remove_stale_temps
from .engines.onnx import onnx_dir
from .engines.onnx_export import EXPORT_PREFIX
from .registry import model_names
from .weights import cache_dir

logger = logging.getLogger(__name__)

ONNX_EXPORT = "onnx export"
ZOO_WEIGHTS = "zoo weights"


@dataclass(frozen=True)
class CachedFile:
    """One file of the cache: its kind (:data:`ONNX_EXPORT` or :data:`ZOO_WEIGHTS`), path and
    size in bytes."""

    kind: str
    path: Path
    size: int


def cached_files() -> list[CachedFile]:
    """The ONNX exports, then the zoo weights of the registry's models, by name."""
    exports = sorted(onnx_dir().glob("*.onnx")) if onnx_dir().is_dir() else []
    weights = sorted(
        p for name in model_names() for p in cache_dir().glob(f"{name}-{'[0-9a-f]' * 8}.params")
    )
    return [CachedFile(ONNX_EXPORT, p, _size(p)) for p in exports] + [
        CachedFile(ZOO_WEIGHTS, p, _size(p)) for p in weights
    ]


def _size(path: Path) -> int:
    """The file's size; a link's own where it leads nowhere (it is listed, and cleared, as any
    file of the cache: never followed)."""
    try:
        return path.stat().st_size
    except OSError:
        return path.lstat().st_size


def delete_cached_files(include_weights: bool = False) -> list[CachedFile]:
    """Remove the ONNX exports (and, with ``include_weights``, the downloaded zoo weights);
    return what was removed. Exports running in other processes are left alone."""
    removed = [f for f in cached_files() if include_weights or f.kind == ONNX_EXPORT]
    for f in removed:
        logger.debug("Removing %s", f.path)
        f.path.unlink(missing_ok=True)
    for pattern in (f"{EXPORT_PREFIX}*", f".*{TEMP_MARK}*"):
        remove_stale_temps(onnx_dir(), pattern)
    return removed
