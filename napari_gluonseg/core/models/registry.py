"""The models napari-gluonseg can run: GluonCV's pretrained semantic-segmentation zoo.

Class names and colours come from ``class_tables.json`` (generated from gluoncv, checked by the
tests) so that listing models and classes never imports mxnet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from ..checks import is_integer
from ..errors import OptionError, UnknownModelError
from .engines.base import Engine

DEFAULT_MODEL = "fcn_resnet50_ade"
# What every zoo model was trained on: RGB in [0, 1] normalized with ImageNet's mean and std.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

# Every pretrained semantic-segmentation model of GluonCV 0.10's zoo, by training dataset.
_MODEL_DATASETS: dict[str, str] = {
    "fcn_resnet50_ade": "ade20k",
    "fcn_resnet101_ade": "ade20k",
    "psp_resnet50_ade": "ade20k",
    "psp_resnet101_ade": "ade20k",
    "deeplab_resnet50_ade": "ade20k",
    "deeplab_resnet101_ade": "ade20k",
    "deeplab_resnest50_ade": "ade20k",
    "deeplab_resnest101_ade": "ade20k",
    "deeplab_resnest200_ade": "ade20k",
    "deeplab_resnest269_ade": "ade20k",
    "fcn_resnet101_voc": "pascal_voc",
    "psp_resnet101_voc": "pascal_voc",
    "deeplab_resnet101_voc": "pascal_voc",
    "deeplab_resnet152_voc": "pascal_voc",
    "fcn_resnet101_coco": "coco",
    "psp_resnet101_coco": "coco",
    "deeplab_resnet101_coco": "coco",
    "deeplab_resnet152_coco": "coco",
    "psp_resnet101_citys": "citys",
    "deeplab_resnet50_citys": "citys",
    "deeplab_resnet101_citys": "citys",
    "deeplab_v3b_plus_wideresnet_citys": "citys",
    "icnet_resnet50_citys": "citys",
    "fastscnn_citys": "citys",
    "danet_resnet50_citys": "citys",
    "danet_resnet101_citys": "citys",
}

# GluonCV's training/evaluation sizes: long side resized to base_size, crop_size windows.
DATASET_SIZES = {
    "ade20k": (520, 480),
    "pascal_voc": (520, 480),
    "coco": (520, 480),
    "citys": (2048, 768),
}


@dataclass(frozen=True)
class Family:
    """What an architecture needs of its input and which engines can run it.

    ``size_multiple``: GluonCV builds fixed-size pooling and resize branches for ``side // k``
    while the features are ``ceil(side / k)``, so a side must be a multiple of the largest such
    ``k`` (read from gluoncv's model_zoo and checked at every side 16..160 on the real
    architectures); ``least_side``: below it a branch has no pixel (ICNet's ``side // 32``).
    ``engines``: what can run it, preferred first: onnxruntime runs the graph the package
    builds from the ``.params`` file (:mod:`napari_gluonseg.core.models.onnx_build`, every family);
    MXNet, with the ``[mxnet]`` extra, runs GluonCV's own network.
    """

    size_multiple: int
    least_side: int
    engines: tuple[Engine, ...]


_BOTH = (Engine.ONNXRUNTIME, Engine.MXNET)
_FAMILIES: dict[str, Family] = {
    "fcn": Family(1, 1, _BOTH),
    "psp": Family(8, 8, _BOTH),
    "deeplab": Family(8, 8, _BOTH),  # the ResNet, ResNeSt and WideResNet (v3b+) variants
    "icnet": Family(16, 32, _BOTH),
    "fastscnn": Family(32, 32, _BOTH),
    "danet": Family(1, 1, _BOTH),
}

DATASET_TITLES = {
    "ade20k": "ADE20K",
    "pascal_voc": "Pascal VOC",
    "coco": "COCO (VOC classes)",
    "citys": "Cityscapes",
}


@dataclass(frozen=True)
class ModelInfo:
    """A registered model: its name, training dataset, class names and class colours.

    ``class_names[k]`` and ``colors[k]`` (RGB uint8) belong to class index ``k``, which the
    labels image stores as ``k + 1`` (0 = unlabeled).
    """

    name: str
    dataset: str
    class_names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    family: Family

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def base_size(self) -> int:
        return DATASET_SIZES[self.dataset][0]

    @property
    def crop_size(self) -> int:
        return DATASET_SIZES[self.dataset][1]

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The engines that can run this model, preferred first."""
        return self.family.engines

    def class_index(self, name: str | int) -> int:
        """Index of a class given by index, full name or first synonym ('bicycle')."""
        if is_integer(name):
            index = int(name)
            if 0 <= index < self.num_classes:
                return index
            raise OptionError(f"Class index {name} out of range 0..{self.num_classes - 1}.")
        for i, full in enumerate(self.class_names):
            if name == full or name == short_class_name(full):
                return i
        close = [c for c in self.class_names if str(name).lower() in c.lower()][:5]
        hint = f" Did you mean: {'; '.join(close)}?" if close else ""
        raise OptionError(f"{self.name} has no class {name!r}.{hint}")


@cache
def _class_tables() -> dict:
    text = resources.files("napari_gluonseg.core.models").joinpath("class_tables.json").read_text()
    return json.loads(text)


def model_names() -> list[str]:
    """Names of all registered models, default first."""
    return [DEFAULT_MODEL] + [n for n in _MODEL_DATASETS if n != DEFAULT_MODEL]


def model_info(name: str) -> ModelInfo:
    """Look up a model by name; an unknown name raises an error listing the valid ones."""
    try:
        dataset = _MODEL_DATASETS[name]
    except (KeyError, TypeError):
        raise UnknownModelError(
            f"Unknown model {name!r}. Valid models: {', '.join(model_names())}."
        ) from None
    table = _class_tables()[dataset]
    return ModelInfo(
        name=name,
        dataset=dataset,
        class_names=tuple(table["classes"]),
        colors=tuple(tuple(c) for c in table["colors"]),
        family=_FAMILIES[name.split("_")[0]],
    )


def short_class_name(name: str) -> str:
    """The first synonym of an ADE20K-style name: 'bicycle, bike, wheel, cycle' -> 'bicycle'."""
    return name.split(",")[0].strip()
