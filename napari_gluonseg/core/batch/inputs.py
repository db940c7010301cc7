"""Which image files a batch runs on, and where each one's results go.

Every input is a file, a folder or a glob pattern. Each image found keeps its path relative to
a *base* under the output folder:

- a folder: the folder itself (``photos/a/x.jpg`` given ``photos`` -> ``a/x``);
- a glob: its fixed prefix, the folders before the first part with ``*``, ``?`` or ``[``
  (``photos/*/x*.jpg`` -> base ``photos``);
- a file: its own folder (``photos/a/x.jpg`` -> ``x``).

So ``photos/a/x.jpg`` and ``photos/b/x.jpg`` write ``OUT/a/x_labels.png`` and
``OUT/b/x_labels.png``. Folders give their image files only (:data:`IMAGE_SUFFIXES`, hidden
files skipped), sub-folders with ``recursive``; named files are tried whatever their suffix.
Folders and globs never give this package's own results (labels, overlays, probability maps
whose provenance says so, e.g. an earlier run's output folder inside the input tree).
"""

from __future__ import annotations

import glob
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import ExportError, OptionError
from ..files.images import IMAGE_SUFFIXES
from ..files.read_export import is_export_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchItem:
    """One input image: its file (absolute: workers may run elsewhere), and ``key``, the
    results' path under the output folder without the ``_labels.png`` ending (POSIX, ``a/x``)."""

    path: Path
    key: str

    @property
    def stem(self) -> str:
        return PurePosixPath(self.key).name

    def out_folder(self, out_dir: Path) -> Path:
        return out_dir.joinpath(*PurePosixPath(self.key).parent.parts)

    def results_folder(self, out_dir: Path) -> Path:
        """:meth:`out_folder`, to be written: :class:`ExportError` where a link in it leads
        out of ``out_dir`` (results, and an overwrite's removals, stay inside it)."""
        folder = self.out_folder(out_dir)
        resolved = folder.resolve()
        if not resolved.is_relative_to(out_dir.resolve()):
            raise ExportError(
                f"{folder} leads outside the output folder {out_dir} (a link to {resolved}): "
                "results are written only inside the output folder. Remove the link."
            )
        return folder


def collect_inputs(
    inputs: Iterable[str | os.PathLike], recursive: bool = False, exclude: Path | None = None
) -> list[BatchItem]:
    """The images of ``inputs`` (files, folders, globs) in order, each once, none under
    ``exclude`` (the output folder, so a rerun never segments its own results).

    Raises :class:`OptionError` for an input that does not exist, a glob or folder without
    images, or two images whose results would have the same name.
    """
    items: dict[Path, BatchItem] = {}
    skip = exclude.resolve() if exclude is not None else None
    results: Counter[Path] = Counter()
    for entry in inputs:
        found = in_output = 0
        if skip is not None:
            _refuse_inside(str(entry), skip)
        for path, base in _expand(str(entry), recursive):
            resolved = path.resolve()
            if skip is not None and resolved.is_relative_to(skip):
                in_output += 1
                continue
            if path != Path(entry) and is_export_file(path):  # a file named is tried
                results[path.parent] += 1
                continue
            found += 1
            if resolved not in items:  # listed twice (a file and its folder): run once
                rel = path.relative_to(base).with_suffix("")
                key = PurePosixPath(*rel.parts).as_posix()
                items[resolved] = BatchItem(path.absolute(), key)
        if not found:
            _log_results(results)
            if in_output:
                raise OptionError(
                    f"Every image file of '{os.fspath(entry)}' is in the output folder {skip}: "
                    + _OUTPUT_NEVER_INPUT
                )
            raise OptionError(
                f"No image files found in '{os.fspath(entry)}' (looked for {_suffixes()})."
                + _recursive_hint(str(entry), recursive)
            )
    _log_results(results)
    _check_unique(list(items.values()))
    return list(items.values())


_OUTPUT_NEVER_INPUT = (
    "files in the output folder are never inputs (they are mixed with its results). Choose "
    "another output folder (--out)."
)


def _refuse_inside(entry: str, out: Path) -> None:
    """A folder or file given that is, or is inside, the output folder (resolved): none of
    its files would be an input, whatever else it holds."""
    if glob.has_magic(entry) or not Path(entry).exists():
        return
    resolved = Path(entry).resolve()
    if resolved.is_relative_to(out):
        where = "the" if resolved == out else "inside the"
        raise OptionError(f"{entry} is {where} output folder {out}: {_OUTPUT_NEVER_INPUT}")


def _log_results(results: Counter[Path]) -> None:
    for folder, count in sorted(results.items()):
        logger.info(
            "Skipped %d image file(s) in %s: napari-gluonseg results (their provenance says "
            "so), not images to segment.",
            count,
            folder,
        )


def _recursive_hint(entry: str, recursive: bool) -> str:
    """Where a folder holds images only in its sub-folders: say how to take them."""
    if recursive or not Path(entry).is_dir():
        return ""
    deeper = sum(1 for _ in _expand(entry, recursive=True))
    if not deeper:
        return ""
    return (
        f" Its sub-folders hold {deeper} image file(s): add --recursive (recursive=True) to "
        "segment them."
    )


def _expand(entry: str, recursive: bool) -> Iterator[tuple[Path, Path]]:
    """(image file, base) pairs of one input, sorted."""
    if glob.has_magic(entry):
        base = _glob_base(entry)
        for name in sorted(glob.glob(entry, recursive=recursive)):
            if Path(name).is_file() and _is_image(Path(name)):
                yield Path(name), base
        return
    path = Path(entry)
    if path.is_dir():
        pattern = "**/*" if recursive else "*"
        for found in sorted(path.glob(pattern)):
            if found.is_file() and _is_image(found) and not _hidden(found.relative_to(path)):
                yield found, path
    elif path.exists():
        yield path, path.parent
    else:
        raise OptionError(f"No such file or folder: {entry}")


def _glob_base(pattern: str) -> Path:
    """The folders of ``pattern`` before its first part with a wildcard."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _suffixes() -> str:
    return ", ".join(IMAGE_SUFFIXES)


def _check_unique(items: list[BatchItem]) -> None:
    by_key: dict[str, list[Path]] = {}
    for item in items:
        by_key.setdefault(item.key, []).append(item.path)
    clashes = [paths for paths in by_key.values() if len(paths) > 1]
    if clashes:
        listed = "; ".join(" and ".join(map(str, paths)) for paths in clashes[:5])
        same_folder = any(len({p.parent for p in paths}) == 1 for paths in clashes)
        advice = (
            "Files that differ only in their suffix (x.png, x.jpg) get one result name: "
            "rename one of them."
            if same_folder
            else "Give their common folder instead (results keep the sub-folders), or rename them."
        )
        raise OptionError(
            f"{len(clashes)} result name(s) would be shared by several inputs ({listed}): "
            f"their results would replace each other. {advice}"
        )
