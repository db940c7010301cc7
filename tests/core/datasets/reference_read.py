"""Reads a dataset with the formats' own reference readers, in the readers' venv
(``.venv-readers``: datumaro, pycocotools and supervision, pinned in
requirements/readers-py3.13.txt), never importing napari_gluonseg: what another tool sees.

    .venv-readers/bin/python tests/core/datasets/reference_read.py FORMAT ROOT OUT.npz

OUT.npz holds ``names`` (JSON: the class names, index 0 being unlabeled) and, per image, its
labels as indices into them (``item/{name}``) and its split (JSON ``splits``).
"""

import json
import sys
from pathlib import Path

import numpy as np

UNLABELED = ("background", "unlabeled", "ignored")  # CVAT, Cityscapes, VOC (void)


class Collect:
    def __init__(self) -> None:
        self.names = [""]
        self.items: dict[str, np.ndarray] = {}
        self.splits: dict[str, str] = {}

    def index(self, name: str) -> int:
        if name in UNLABELED:
            return 0
        if name not in self.names:
            self.names.append(name)
        return self.names.index(name)

    def add(self, key: str, split: str, shape, masks) -> None:
        """``masks``: (class name, boolean mask) pairs, later ones on top."""
        key = Path(key).name
        if key in self.items:
            raise SystemExit(f"{key} twice")
        labels = np.zeros(shape, np.int32)
        for name, mask in masks:
            labels[np.asarray(mask, bool)] = self.index(name)
        self.items[key], self.splits[key] = labels, split


def coco(root: Path, out: Collect) -> None:
    from pycocotools.coco import COCO

    for path in sorted((root / "annotations").glob("instances_*.json")):
        split = path.stem.removeprefix("instances_")
        api = COCO(str(path))
        names = {c["id"]: c["name"] for c in api.loadCats(api.getCatIds())}
        for image in api.loadImgs(api.getImgIds()):
            anns = api.loadAnns(api.getAnnIds(imgIds=image["id"]))
            masks = [(names[a["category_id"]], api.annToMask(a)) for a in anns]
            out.add(Path(image["file_name"]).stem, split, (image["height"], image["width"]),
                    masks)  # fmt: skip


def datumaro(root: Path, out: Collect, fmt: str) -> None:
    from datumaro.components.annotation import AnnotationType
    from datumaro.components.dataset import Dataset

    dataset = Dataset.import_from(str(root), fmt)
    labels = dataset.categories()[AnnotationType.label]
    for item in dataset:
        h, w = item.media.data.shape[:2]
        masks = [(labels[a.label].name, a.image) for a in item.annotations
                 if a.type == AnnotationType.mask]  # fmt: skip
        key = item.id.removesuffix("_leftImg8bit")
        out.add(key, item.subset, (h, w), masks)


def yolo(root: Path, out: Collect) -> None:
    import supervision as sv

    for split in ("train", "val"):
        if not (root / "images" / split).is_dir():
            continue
        ds = sv.DetectionDataset.from_yolo(
            str(root / "images" / split), str(root / "labels" / split),
            str(root / "data.yaml"), force_masks=True,
        )  # fmt: skip
        for path, image, detections in ds:
            masks = []
            if detections.mask is not None:
                pairs = zip(detections.class_id, detections.mask, strict=True)
                masks = [(ds.classes[c], m) for c, m in pairs]
            out.add(Path(path).stem, split, image.shape[:2], masks)


def main() -> None:
    fmt, root, target = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    out = Collect()
    if fmt == "coco":
        coco(root, out)
    elif fmt == "yolo":
        yolo(root, out)
    else:
        datumaro(root, out, {"voc": "voc_segmentation", "cvat": "voc_segmentation",
                             "cityscapes": "cityscapes"}[fmt])  # fmt: skip
    arrays = {f"item/{k}": v for k, v in out.items.items()}
    np.savez(target, names=json.dumps(out.names), splits=json.dumps(out.splits), **arrays)


if __name__ == "__main__":
    main()
