"""What a dataset is written from: each image with its labels (read when its turn comes, one
at a time), the class table they share, and the split each image goes to."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..batch.review import ReviewSession, ReviewStatus
from ..errors import DatasetError
from ..files.read_export import read_class_table

TRAIN, VAL = "train", "val"
Color = tuple[int, int, int]


@dataclass(frozen=True)
class Classes:
    """A dataset's classes: label value ``k`` (1, 2, ...) is ``names[k - 1]`` in
    ``colors[k - 1]``; 0 is unlabeled."""

    names: tuple[str, ...]
    colors: tuple[Color, ...]

    def short(self) -> Classes:
        """Each name up to its first comma, spaces as underscores (``"building, edifice"`` →
        ``"building"``), for formats whose files cannot hold spaces; DatasetError where two
        classes would then share a name."""
        names = tuple(re.sub(r"\s+", "_", n.split(",")[0].strip()) for n in self.names)
        check_unique_names(names, "shortened ")
        return Classes(names, self.colors)


@dataclass(frozen=True)
class SourceItem:
    """One image of the dataset: its ``name`` in the dataset (unique, no folder), its file, its
    split, a reader of its labels (values as in :class:`Classes`) and its place in the set
    (``index``: 0, 1, ... in the order given)."""

    name: str
    image: Path
    split: str
    read_labels: Callable[[], np.ndarray]
    index: int = 0


def results_items(
    images_dir: str | os.PathLike,
    results_dir: str | os.PathLike,
    *,
    recursive: bool = False,
    corrected_only: bool = False,
) -> tuple[list[tuple[str, Path, Path]], Classes]:
    """The (key, image, labels file) of each image of a batch's output that has labels (only
    those corrected by hand, with ``corrected_only``), and their shared class table.

    Raises :class:`DatasetError` naming the file: no labels, labels of two class tables, an
    image gone."""
    session = ReviewSession(images_dir, results_dir, recursive, by_uncertainty=False)
    wanted = {ReviewStatus.REVIEWED} if corrected_only else {
        ReviewStatus.REVIEWED, ReviewStatus.PRE_ANNOTATED}  # fmt: skip
    found = [i for i in session.items if i.status in wanted and i.labels is not None]
    if not found:
        what = "corrected image" if corrected_only else "result"
        raise DatasetError(
            f"No {what} in {session.results_dir} for the images of {session.images_dir}."
        )
    table: Classes | None = None
    source = None
    out = []
    for item in found:
        assert item.labels is not None
        classes = Classes(*read_class_table(item.labels))  # the labels: read when written
        if table is None:
            table, source = classes, item.labels
        elif classes != table:
            raise DatasetError(
                f"{item.labels} has another class table than {source}: one dataset holds "
                "the labels of one model or scheme. Export them separately."
            )
        out.append((item.key, item.image, item.labels))
    assert table is not None
    check_unique_names(table.names, "")
    return out, table


def split_of(names: Sequence[str], val_fraction: float, seed: int) -> dict[str, str]:
    """Each name's split: ``round(val_fraction * n)`` names drawn by ``seed`` go to
    :data:`VAL` (at least one where the fraction is above 0 and there are two names or more),
    the rest to :data:`TRAIN`; the same names, fraction and seed always give the same split."""
    if not 0 <= val_fraction < 1:
        raise DatasetError(f"The validation share must be in [0, 1); got {val_fraction}.")
    ordered = sorted(names)
    n_val = round(val_fraction * len(ordered))
    if val_fraction > 0 and len(ordered) > 1:
        n_val = min(max(n_val, 1), len(ordered) - 1)
    chosen = set(np.random.default_rng(seed).permutation(len(ordered))[:n_val].tolist())
    return {name: VAL if i in chosen else TRAIN for i, name in enumerate(ordered)}


def dataset_names(keys: Sequence[str]) -> dict[str, str]:
    """Each image key's name in a dataset: its path without the suffix, folders joined by
    ``__`` (formats keep images side by side); DatasetError naming both images where two get
    one name."""
    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key in keys:
        path = Path(key)
        name = "__".join((*path.parent.parts, path.stem))
        if name in seen:
            raise DatasetError(
                f"The images {seen[name]} and {key} would both be {name!r} in the dataset "
                "(formats name an image by its stem): rename one."
            )
        seen[name] = key
        out[key] = name
    return out


def check_unique_names(names: Sequence[str], what: str) -> None:
    first: dict[str, int] = {}
    for k, name in enumerate(names, start=1):
        if name in first:
            raise DatasetError(
                f"Classes {first[name]} and {k} have the same {what}name {name!r}: a dataset "
                "tells classes apart by name."
            )
        first[name] = k
