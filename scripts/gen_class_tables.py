"""Regenerate napari_gluonseg/core/models/class_tables.json from gluoncv's datasets and palettes.

The widget lists class names before any network is loaded; reading them from this file keeps
mxnet out of widget start-up. tests/core/test_registry.py checks the file still equals
gluoncv's tables.
"""

import json
from pathlib import Path

from napari_gluonseg.core.models import _mxnet


def build_tables() -> dict:
    _mxnet.gluoncv()
    from gluoncv.data import (
        ADE20KSegmentation,
        CitySegmentation,
        COCOSegmentation,
        VOCSegmentation,
    )
    from gluoncv.utils.viz import segmentation as viz

    def rows(flat, start, n):
        return [flat[3 * i : 3 * i + 3] for i in range(start, start + n)]

    ade = list(ADE20KSegmentation.CLASSES)
    voc = list(VOCSegmentation.CLASSES)
    coco = list(COCOSegmentation.CLASSES)
    citys = list(CitySegmentation.CLASSES)
    # gluoncv colours ADE20K class k with palette row k + 1 (row 0 is background); the VOC,
    # COCO (VOC classes) and Cityscapes palettes are indexed by the class itself.
    return {
        "ade20k": {"classes": ade, "colors": rows(viz.adepallete, 1, len(ade))},
        "pascal_voc": {"classes": voc, "colors": rows(viz.vocpallete, 0, len(voc))},
        "coco": {"classes": coco, "colors": rows(viz.vocpallete, 0, len(coco))},
        "citys": {"classes": citys, "colors": rows(viz.cityspallete, 0, len(citys))},
    }


if __name__ == "__main__":
    out = (
        Path(__file__).resolve().parents[1]
        / "napari_gluonseg"
        / "core"
        / "models"
        / "class_tables.json"
    )
    out.write_text(json.dumps(build_tables(), indent=1) + "\n")
    print(f"wrote {out}")
