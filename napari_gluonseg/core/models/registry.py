"""The models napari-gluonseg can run: GluonCV's pretrained semantic-segmentation zoo, as the
model card (:mod:`.card`) lists them, looked up by name.

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
from .card import DATASETS, FAMILIES, MODELS, FamilyRow, has_model, model_row
from .engines.base import Engine

DEFAULT_MODEL = "fcn_resnet50_ade"
# What every zoo model was trained on: RGB in [0, 1] normalized with ImageNet's mean and std.
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

DATASET_TITLES = {name: row.title for name, row in DATASETS.items()}


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
    family: FamilyRow

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def base_size(self) -> int:
        return DATASETS[self.dataset].base_size

    @property
    def crop_size(self) -> int:
        return DATASETS[self.dataset].crop_size

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
    return [DEFAULT_MODEL] + [row.name for row in MODELS if row.name != DEFAULT_MODEL]


def model_info(name: str) -> ModelInfo:
    """Look up a model by name; an unknown name raises an error listing the valid ones."""
    if not (isinstance(name, str) and has_model(name)):
        raise UnknownModelError(
            f"Unknown model {name!r}. Valid models: {', '.join(model_names())}."
        )
    row = model_row(name)
    table = _class_tables()[row.dataset]
    return ModelInfo(
        name=name,
        dataset=row.dataset,
        class_names=tuple(table["classes"]),
        colors=tuple(tuple(c) for c in table["colors"]),
        family=FAMILIES[row.family],
    )


def short_class_name(name: str) -> str:
    """The first synonym of an ADE20K-style name: 'bicycle, bike, wheel, cycle' -> 'bicycle'."""
    return name.split(",")[0].strip()
