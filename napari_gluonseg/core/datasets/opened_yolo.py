"""YOLO segmentation datasets opened to correct (see :mod:`.opened`): the classes of
``data.yaml`` (class ``c`` is label value ``c + 1``), the images of ``images/{split}/``, each
line of ``labels/{split}/{name}.txt`` a polygon drawn as OpenCV's ``fillPoly`` draws it
(vertices times the image's size, rounded to pixel centres; the outline's pixels included),
later lines on top. Saving keeps the lines of the classes whose pixels did not change and writes
the changed classes' parts anew (:mod:`.polygons`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_files
from ..errors import DatasetError
from .export import DatasetFormat
from .items import Classes
from .opened_base import IMAGE_SUFFIXES, DatasetEntry, OpenedDataset, checked, sidecar_colors
from .writer import voc_palette
from .yolo import DATA_YAML, polygon_lines


class YoloDataset(OpenedDataset):
    format = DatasetFormat.YOLO

    def __init__(self, root: Path) -> None:
        import yaml

        self.root = root
        path = root / DATA_YAML
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            names = data["names"]
            names = [names[k] for k in sorted(names)] if isinstance(names, dict) else list(names)
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise DatasetError(f"Cannot read the class names of {path}: {exc}") from exc
        colors = sidecar_colors(root, len(names))
        palette = voc_palette()
        self.classes = Classes(
            tuple(str(n) for n in names),
            tuple(
                colors or [tuple(int(v) for v in palette[(k + 1) % 256]) for k in range(len(names))]
            ),
        )
        self.entries = []
        self._labels: dict[str, Path] = {}
        for image in sorted((root / "images").glob("*/*")):
            if image.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            split = image.parent.name
            if image.stem in self._labels:
                raise DatasetError(f"{image}: the name {image.stem} is in the dataset twice.")
            self._labels[image.stem] = root / "labels" / split / f"{image.stem}.txt"
            self.entries.append(DatasetEntry(image.stem, image, split))
        for text in sorted((root / "labels").glob("*/*.txt")):
            if self._labels.get(text.stem) != text:
                raise DatasetError(
                    f"{text} has no image in {root / 'images' / text.parent.name}: put it back "
                    "(or the labels away) before correcting the set."
                )

    def labels_file(self, name: str) -> Path:
        self.entry(name)
        return self._labels[name]

    def _lines(self, name: str) -> list[tuple[int, str]]:
        path = self._labels[name]
        if not path.is_file():
            return []  # an image with nothing labelled
        out = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    out.append((int(line.split()[0]), line))
                except ValueError:
                    raise DatasetError(f"{path}, line {number}: no class number first.") from None
        return out

    def read_labels(self, name: str) -> np.ndarray:
        from .export import image_size

        entry = self.entry(name)
        size = image_size(entry.image)
        if size is None:
            raise DatasetError(f"Cannot tell the size of {entry.image}.")
        labels = np.zeros(size, np.uint8 if len(self.classes.names) < 256 else np.uint16)
        path = self._labels[name]
        for number, (c, line) in enumerate(self._lines(name), start=1):
            if not 0 <= c < len(self.classes.names):
                raise DatasetError(
                    f"{path}, line {number}: class {c}; {self.root / DATA_YAML} names "
                    f"{len(self.classes.names)}."
                )
            labels[_fill(line, size, path, number)] = c + 1
        return labels

    def save_labels(self, name: str, labels: np.ndarray) -> None:
        before = self.read_labels(name)
        path = self._labels[name]
        labels = checked(labels, before.shape, len(self.classes.names), path)
        edited = before != labels
        changed = {int(v) for v in np.unique(np.concatenate([before[edited], labels[edited]]))}
        changed.discard(0)
        kept = [line for c, line in self._lines(name) if c + 1 not in changed]
        new = polygon_lines(np.where(np.isin(labels, list(changed)), labels, 0))
        text = "\n".join(kept + new)
        write_files({path: (text + "\n" if text else "").encode()})


def _fill(line: str, size: tuple[int, int], path: Path, number: int) -> np.ndarray:
    """The pixels of one polygon line, as ``fillPoly`` draws it."""
    from skimage.draw import line as segment
    from skimage.draw import polygon

    h, w = size
    try:
        xy = np.asarray(line.split()[1:], np.float64).reshape(-1, 2) * (w, h)
    except ValueError:
        raise DatasetError(f"{path}, line {number}: not pairs of coordinates.") from None
    xy = np.round(xy)
    mask = np.zeros(size, bool)
    rr, cc = polygon(xy[:, 1], xy[:, 0], shape=size)
    mask[rr, cc] = True
    ends = xy.astype(np.int64)
    for (x0, y0), (x1, y1) in zip(ends, np.roll(ends, -1, axis=0), strict=True):
        rr, cc = segment(y0, x0, y1, x1)  # the outline, as fillPoly draws it too
        inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        mask[rr[inside], cc[inside]] = True
    return mask
