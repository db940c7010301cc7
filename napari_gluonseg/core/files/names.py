"""The file names of an export set, spelled in one place: ``{stem}_labels.png|tif``,
``{stem}_classes.csv``, ``{stem}_provenance.json``, ``{stem}_overlay.png``,
``{stem}_scores.npz``, ``{stem}_prob-{class}.png`` and the journal of a set being replaced."""

from __future__ import annotations

import fnmatch
import glob
import re
from dataclasses import dataclass
from pathlib import Path

from ..atomic import set_journal
from ..models.registry import short_class_name

LABELS_SUFFIXES = ("_labels.png", "_labels.tif", "_labels.tiff")
OVERLAY_SUFFIX = "_overlay.png"
PROVENANCE_SUFFIX = "_provenance.json"
# A probability map: {stem}_prob-{class}.png; before 0.1, {stem}_P({class}).png.
MAP_INFIX = "_prob-"
OLD_MAP_INFIX = "_P("
_FIXED_SUFFIXES = (
    *LABELS_SUFFIXES,
    "_classes.csv",
    OVERLAY_SUFFIX,
    "_scores.npz",
    PROVENANCE_SUFFIX,
)


@dataclass(frozen=True)
class ExportNames:
    """The files of the export set ``stem`` in ``folder``."""

    folder: Path
    stem: str

    @classmethod
    def of_labels_file(cls, path: str | Path) -> ExportNames | None:
        """The set a ``{stem}_labels.png|tif|tiff`` file belongs to; None for other names."""
        path = Path(path)
        for suffix in LABELS_SUFFIXES:
            if path.name.lower().endswith(suffix):
                return cls(path.parent, path.name[: -len(suffix)])
        return None

    @classmethod
    def of_result_image(cls, path: str | Path) -> ExportNames | None:
        """The set a labels file, an overlay or a probability map belongs to, by its name."""
        path = Path(path)
        found = cls.of_labels_file(path)
        if found is not None:
            return found
        name = path.name
        if name.endswith(OVERLAY_SUFFIX):
            return cls(path.parent, name[: -len(OVERLAY_SUFFIX)])
        for infix in (MAP_INFIX, OLD_MAP_INFIX):
            if infix in name:
                return cls(path.parent, name[: name.rindex(infix)])
        return None

    def _file(self, suffix: str) -> Path:
        return self.folder / f"{self.stem}{suffix}"

    def labels(self, fmt: str = "png") -> Path:
        return self._file(f"_labels.{fmt}")

    @property
    def labels_candidates(self) -> tuple[Path, ...]:
        """Where the labels may be, in the order they are looked for."""
        return tuple(self._file(s) for s in LABELS_SUFFIXES)

    @property
    def classes(self) -> Path:
        return self._file("_classes.csv")

    @property
    def provenance(self) -> Path:
        return self._file(PROVENANCE_SUFFIX)

    @property
    def overlay(self) -> Path:
        return self._file(OVERLAY_SUFFIX)

    @property
    def scores(self) -> Path:
        return self._file("_scores.npz")

    @property
    def journal(self) -> Path:
        """The record of the set being replaced (see :func:`~..atomic.write_set`)."""
        return set_journal(self.folder, self.stem)

    def holds(self, name: str) -> bool:
        """Whether ``name`` is one of the set's files (all that its journal may name)."""
        stem = glob.escape(self.stem)
        patterns = [stem + s for s in (*_FIXED_SUFFIXES, *self.map_patterns())]
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)

    @property
    def fixed_files(self) -> tuple[Path, ...]:
        """Every file of the set but its probability maps."""
        return tuple(self._file(s) for s in _FIXED_SUFFIXES)

    def map(self, class_name: str) -> Path:
        """``dog_prob-bicycle.png``: safe in every shell (the class's first synonym, characters
        other than letters, digits, ``.`` and ``-`` as ``-``)."""
        slug = re.sub(r"[^A-Za-z0-9.-]+", "-", short_class_name(class_name)).strip("-.")
        return self._file(f"{MAP_INFIX}{slug or 'class'}.png")

    def map_patterns(self) -> tuple[str, ...]:
        """Glob patterns (of an escaped stem) of the set's probability maps, old names too."""
        return (f"{MAP_INFIX}*.png", f"{OLD_MAP_INFIX}*).png")
