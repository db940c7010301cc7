"""The model card: every fact the package keeps about a dataset, an architecture family and a
model, one row each. The registry, the weights (zoo sha1), the ONNX builders (which module
builds which model), the engines (which families give logits at their own stride) and the run
estimate (GMAC) all read their facts here; nothing else keeps a per-model or per-family table.

Generated data, all beside this module, each written by one script (they need the ``[mxnet]``
extra: ``.venv/bin/python scripts/...``) and checked against gluoncv by a test:

- the ``sha1`` and GMAC columns of :data:`MODELS`: ``scripts/gen_card.py`` (gluoncv's model
  store, and ``scripts/count_macs.py``), which rewrites those rows in place;
- ``class_tables.json`` (class names and colours per dataset): ``scripts/gen_class_tables.py``;
- ``param_shapes.json.gz`` (each model's arrays, for untrained weights):
  ``scripts/gen_param_shapes.py``.

Adding a model family (CONTRIBUTING.md says the same):

1. ``onnx_build/<module>.py``, following GluonCV's definition of the architecture, with
   ``BUILDERS`` (architecture name, the model name without its dataset, e.g.
   ``fcn_resnet50`` -> builder) and, if the file holds training-only arrays, ``IGNORED``.
2. A :data:`FAMILIES` row naming that module, its size rule, its engines and what MXNet can do
   with it.
3. A :data:`MODELS` row per model, smallest first (the family's first row is the one the quick
   checks and benchmarks run), with ``sha1`` ``""`` and GMAC ``0, 0``; then
   ``scripts/gen_card.py NAME...`` fills those in and ``scripts/gen_param_shapes.py NAME...``
   adds the models' arrays. A new dataset: a :data:`DATASETS` row and
   ``scripts/gen_class_tables.py``.
4. ``tests/core/models/test_card.py`` checks that the rows and builders agree; the parity test
   (``tests/core/models/onnx_build/test_parity.py``) compares the family's first model with
   GluonCV's own network.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engines.base import Engine


@dataclass(frozen=True)
class DatasetRow:
    """A training dataset: its title, and GluonCV's training/evaluation sizes (the long side
    resized to ``base_size``, ``crop_size`` windows)."""

    title: str
    base_size: int
    crop_size: int


DATASETS: dict[str, DatasetRow] = {
    "ade20k": DatasetRow("ADE20K", 520, 480),
    "pascal_voc": DatasetRow("Pascal VOC", 520, 480),
    "coco": DatasetRow("COCO (VOC classes)", 520, 480),
    "citys": DatasetRow("Cityscapes", 2048, 768),
}


@dataclass(frozen=True)
class FamilyRow:
    """An architecture family: the module that builds its ONNX graphs, what it needs of its
    input and what can run it.

    ``builder``: its module under :mod:`napari_gluonseg.core.models.onnx_build`.
    ``size_multiple``: GluonCV builds fixed-size pooling and resize branches for ``side // k``
    while the features are ``ceil(side / k)``, so a side must be a multiple of the largest such
    ``k`` (read from gluoncv's model_zoo and checked at every side 16..160 on the real
    architectures); ``least_side``: below it a branch has no pixel (ICNet's ``side // 32``).
    ``engines``: what can run it, preferred first: onnxruntime runs the graph the package
    builds from the ``.params`` file (every family); MXNet, with the ``[mxnet]`` extra, runs
    GluonCV's own network. ``native``: its forward ends in head(c4) and one bilinear resize to
    the input size (``_up_kwargs``), so logits at output stride 8 can be had before that resize.
    ``mxnet_export_any_size``: MXNet's ONNX exporter writes a graph that takes any size (checked
    by a parity test); the others fix their pooling sizes in it.
    """

    builder: str
    size_multiple: int
    least_side: int
    engines: tuple[Engine, ...]
    native: bool
    mxnet_export_any_size: bool


_BOTH = (Engine.ONNXRUNTIME, Engine.MXNET)
FAMILIES: dict[str, FamilyRow] = {
    "fcn": FamilyRow("fcn", 1, 1, _BOTH, native=True, mxnet_export_any_size=True),
    "psp": FamilyRow("psp", 8, 8, _BOTH, native=True, mxnet_export_any_size=False),
    "deeplab": FamilyRow("deeplab", 8, 8, _BOTH, native=True, mxnet_export_any_size=False),
    "deeplab_resnest": FamilyRow("resnest", 8, 8, _BOTH, native=False, mxnet_export_any_size=False),
    # DeepLabV3+ on a WideResNet38 (v3b)
    "deeplab_v3b_plus": FamilyRow(
        "wideresnet", 8, 8, _BOTH, native=False, mxnet_export_any_size=False
    ),
    "icnet": FamilyRow("icnet", 16, 32, _BOTH, native=False, mxnet_export_any_size=False),
    "fastscnn": FamilyRow("fastscnn", 32, 32, _BOTH, native=False, mxnet_export_any_size=False),
    "danet": FamilyRow("danet", 1, 1, _BOTH, native=False, mxnet_export_any_size=False),
}


@dataclass(frozen=True)
class ModelRow:
    """A model: its name (GluonCV's), training dataset and family; its work, in GMAC per
    megapixel of network input and per megapixel squared (DANet's position attention compares
    every pixel of the stride-8 grid with every other), counted from the network's Convolution,
    FullyConnected and batch_dot layers at 256 and 512 pixels; and the sha1 of its pretrained
    weights in GluonCV 0.10.5's zoo (``_model_sha1``: the file is ``{name}-{sha1[:8]}.params``
    inside ``{repo}gluon/models/{name}-{sha1[:8]}.zip``)."""

    name: str
    dataset: str
    family: str
    gmac_per_mp: float
    gmac_per_mp2: float
    sha1: str

    def gmac(self, height: int, width: int) -> float:
        """Multiply-accumulates (10^9) of one forward pass at (height, width)."""
        mp = height * width / 1e6
        return self.gmac_per_mp * mp + self.gmac_per_mp2 * mp * mp


# Every pretrained semantic-segmentation model of GluonCV 0.10's zoo, by training dataset.
# scripts/gen_card.py rewrites this block: keep its layout.
# fmt: off
MODELS: tuple[ModelRow, ...] = (
    #        name                                dataset       family             GMAC/MP, /MP²,
    #        zoo sha1
    ModelRow("fcn_resnet50_ade",                  "ade20k",     "fcn",               556,    0,
             "3479525af7bdbf345e74e150aaae2e48174c0c5f"),
    ModelRow("fcn_resnet101_ade",                 "ade20k",     "fcn",               852,    0,
             "d544440a35586f662ed1a5405ab9aa89cd750558"),
    ModelRow("psp_resnet50_ade",                  "ade20k",     "psp",               704,    0,
             "3f220f537400dfa607c3d041ed3b172db39b0b01"),
    ModelRow("psp_resnet101_ade",                 "ade20k",     "psp",              1000,    0,
             "240a4758b506447faf7c55cd7a7837d66f5039a6"),
    ModelRow("deeplab_resnet50_ade",              "ade20k",     "deeplab",           652,    0,
             "c7789b237adc7253405bee57c84d53b15db45942"),
    ModelRow("deeplab_resnet101_ade",             "ade20k",     "deeplab",           947,    0,
             "bf1584dfcec12063eff3075ee643e181c0f6d443"),
    ModelRow("deeplab_resnest50_ade",             "ade20k",     "deeplab_resnest",   636,    0,
             "a8312db6e30a464151580f2bda83479786455724"),
    ModelRow("deeplab_resnest101_ade",            "ade20k",     "deeplab_resnest",   954,    0,
             "6d05c630fb7acb38615f7f4d360fb90f47b25042"),
    ModelRow("deeplab_resnest200_ade",            "ade20k",     "deeplab_resnest",  1268,    0,
             "9134a6f7d1399b549d5803d8faed3dfc74efc0d8"),
    ModelRow("deeplab_resnest269_ade",            "ade20k",     "deeplab_resnest",  1851,    0,
             "d45b33dedf4cca13b8147213c5360e30f93685bd"),
    ModelRow("fcn_resnet101_voc",                 "pascal_voc", "fcn",               851,    0,
             "12c2b9b3be7d4e133e52477150a9b3e616626a82"),
    ModelRow("psp_resnet101_voc",                 "pascal_voc", "psp",               999,    0,
             "2c2f4e1c2b11461b52598a4b2038bccbcfc166eb"),
    ModelRow("deeplab_resnet101_voc",             "pascal_voc", "deeplab",           947,    0,
             "311ed22c63f3ac28b5f1e1663c458f26600e62da"),
    ModelRow("deeplab_resnet152_voc",             "pascal_voc", "deeplab",          1191,    0,
             "d35bea8817935d1ab310ef1e6dd06bb18c2d5f0d"),
    ModelRow("fcn_resnet101_coco",                "coco",       "fcn",               851,    0,
             "766cdf9cc3e5b980b141643f054db5b48863f634"),
    ModelRow("psp_resnet101_coco",                "coco",       "psp",               999,    0,
             "09f89cad0e107cb2bffdb1b07706ba31798096f2"),
    ModelRow("deeplab_resnet101_coco",            "coco",       "deeplab",           947,    0,
             "ed817f76086abb4c3404af62ec1b5487c67642b7"),
    ModelRow("deeplab_resnet152_coco",            "coco",       "deeplab",          1191,    0,
             "83247aaeeded6988790cd93ac93151514094846f"),
    ModelRow("psp_resnet101_citys",               "citys",      "psp",               999,    0,
             "d0e8603120ab02118a8973d52a26b8296d1b4078"),
    ModelRow("deeplab_resnet50_citys",            "citys",      "deeplab",           651,    0,
             "cf6a7bb3d55360933de647a8505f7936003902a4"),
    ModelRow("deeplab_resnet101_citys",           "citys",      "deeplab",           947,    0,
             "eb8477a91efc244c85b364c0736664078aaf0e65"),
    ModelRow("deeplab_v3b_plus_wideresnet_citys", "citys",      "deeplab_v3b_plus", 2777,    0,
             "ef2bb40ad8f8f59f451969b2fabe4e548394e80a"),
    ModelRow("icnet_resnet50_citys",              "citys",      "icnet",              62,    0,
             "909742b45d5a3844d6000248aa92fef0ae23a0f0"),
    ModelRow("fastscnn_citys",                    "citys",      "fastscnn",            3,    0,
             "95aad0b699ae17c67caa44b3ead4b23474e98954"),
    ModelRow("danet_resnet50_citys",              "citys",      "danet",             789,  141,
             "143e1f1c1c1f2d3a3416887e088ebfdd4e1e2345"),
    ModelRow("danet_resnet101_citys",             "citys",      "danet",            1085,  141,
             "6ead3d099f7a320846bddb51148c3fe3b5ade5c2"),
)
# fmt: on

_BY_NAME = {row.name: row for row in MODELS}


def model_row(name: str) -> ModelRow:
    """The card's row of ``name`` (KeyError if it has none: the registry says which exist)."""
    return _BY_NAME[name]


def family_of(name: str) -> FamilyRow:
    """The family row of model ``name``."""
    return FAMILIES[_BY_NAME[name].family]


def has_model(name: str) -> bool:
    return name in _BY_NAME


def first_of_each_family() -> tuple[str, ...]:
    """Each family's first (smallest) model, in the order of :data:`FAMILIES`: what the quick
    checks and benchmarks run."""
    return tuple(next(r.name for r in MODELS if r.family == family) for family in FAMILIES)
