"""The sub-commands that list and tidy: ``models``, ``schemes``, ``cache`` and
``export-onnx`` (a portable model file)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Generator
from pathlib import Path

from ..core.atomic import written_path
from ..core.errors import ExportError, ExportExistsError
from ..core.events import Progress
from ..core.models.registry import DATASET_TITLES, model_info, model_names
from ..core.run.segment import run_to_end
from .exits import EXIT_BAD_INPUT
from .progress import ProgressLine


def models() -> int:
    for name in model_names():
        info = model_info(name)
        print(f"{name:36s} {DATASET_TITLES[info.dataset]}, {info.num_classes} classes")
    return 0


def schemes() -> int:
    from ..core.models.scheme import shipped_schemes

    for path in shipped_schemes():
        print(f"{path.stem:24s} {path}")
    print("Use one with --scheme NAME (e.g. --scheme street_ade20k), or copy it to make yours.")
    return 0


def cache(clear: bool, everything: bool) -> int:
    from ..core.models.cache import ZOO_WEIGHTS, cached_files, delete_cached_files
    from ..core.models.weights import cache_dir
    from ..core.run.memory import format_bytes

    if everything and not clear:
        print("error: --all goes with --clear", file=sys.stderr)
        return EXIT_BAD_INPUT
    if clear:
        removed = delete_cached_files(include_weights=everything)
        total = format_bytes(sum(f.size for f in removed))
        print(f"Removed {len(removed)} file(s), {total}, from {cache_dir()}.")
        if not everything and any(f.kind == ZOO_WEIGHTS for f in cached_files()):
            print("Downloaded weights are kept (--clear --all removes them too).")
        return 0
    files = cached_files()
    print(f"Model cache: {cache_dir()}")
    for f in files:
        print(f"  {f.kind:12s} {format_bytes(f.size):>8s}  {f.path.relative_to(cache_dir())}")
    print(f"{len(files)} file(s), {format_bytes(sum(f.size for f in files))} in all.")
    return 0


def export_onnx(
    model: str, weights: Path | None, out: Path, overwrite: bool, exporter: str | None
) -> int:
    from ..core.models.engines.onnx import check_portable, iter_export_model_file
    from ..core.models.weights import iter_resolve_weights

    model_info(model)  # an unknown name fails before anything loads
    check_portable(model, exporter)
    _check_export_file(out, overwrite)

    def export() -> Generator[Progress, None, Path]:
        resolved = yield from iter_resolve_weights(model, weights)
        return (yield from iter_export_model_file(model, resolved, out, exporter))

    line = ProgressLine()
    try:
        run_to_end(export(), on_progress=lambda event: line.show(event.message))
    except OSError as exc:  # a read-only file system, a full disk: written whole or not at all
        if written_path(exc, [out]) is None:
            raise
        raise ExportError(
            f"Cannot write {out}: {exc.strerror or exc}; nothing was written."
        ) from exc
    finally:
        line.end()
    print(f"{model} written to {out.resolve()}: run it with --weights {out}")
    return 0


def _check_export_file(out: Path, overwrite: bool) -> None:
    """Refuse, before the export, a file that cannot be written where asked."""
    if out.suffix.lower() != ".onnx":
        raise ExportError(f"The output file {out} must end in .onnx.")
    if out.is_dir():
        raise ExportError(
            f"{out} is a folder: give the .onnx file to write, e.g. {out / 'model.onnx'}."
        )
    parent = out.absolute().parent
    existing = next(p for p in (parent, *parent.parents) if p.exists())
    if not existing.is_dir():
        raise ExportError(f"{existing} is a file, not a folder: {out} cannot be written under it.")
    if existing != parent:
        raise ExportError(
            f"The folder {parent} of the output file does not exist: make it, or give another -o."
        )
    if out.exists() and not overwrite:
        raise ExportExistsError(f"{out} exists.")
    try:
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:  # no permission, a read-only file system
        raise ExportError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
