"""The model card (``core/models/card.py``) agrees with itself, with the builders and with the
generated files; every place that needs a model's facts reads them there."""

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from napari_gluonseg import model_info, model_names
from napari_gluonseg.core.models import _mxnet, card, onnx_build, untrained, weights
from napari_gluonseg.core.models.engines import mxnet as mxnet_engine
from napari_gluonseg.core.models.engines import onnx as onnx_engine
from napari_gluonseg.core.models.registry import _class_tables
from napari_gluonseg.core.run import estimate

from ...conftest import needs_mxnet

ROOT = Path(__file__).resolve().parents[3]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_model_has_one_row_with_its_dataset_family_sha1_and_work():
    names = [row.name for row in card.MODELS]
    assert len(set(names)) == len(names)
    assert set(names) == set(model_names())
    for row in card.MODELS:
        assert row.dataset in card.DATASETS and row.family in card.FAMILIES, row
        assert re.fullmatch("[0-9a-f]{40}", row.sha1), row  # "" only until gen_card.py ran
        assert row.gmac_per_mp > 0 and row.gmac_per_mp2 >= 0, row


def test_every_family_has_its_builder_and_every_model_its_builder_function():
    for name, family in card.FAMILIES.items():
        module = importlib.import_module(f"{onnx_build.__name__}.{family.builder}")
        assert module.BUILDERS, name
        assert family.engines and family.engines[0] == "onnxruntime", name
        assert family.size_multiple >= 1 and family.least_side >= family.size_multiple, name
        assert any(row.family == name for row in card.MODELS), f"{name} has no model"
    for row in card.MODELS:
        module = importlib.import_module(
            f"{onnx_build.__name__}.{card.family_of(row.name).builder}"
        )
        assert onnx_build.architecture(row.name) in module.BUILDERS, row.name
        assert onnx_build.can_build(row.name)


def test_every_builder_module_is_a_familys():
    """A module under onnx_build/ with BUILDERS that no family row names would never run."""
    named = {family.builder for family in card.FAMILIES.values()}
    for path in Path(onnx_build.__file__).parent.glob("*.py"):
        if "BUILDERS" in path.read_text() and path.stem != "__init__":
            assert path.stem in named, path


def test_the_places_that_kept_tables_read_the_card():
    assert card.first_of_each_family() == onnx_build.ONE_PER_FAMILY
    assert len(onnx_build.ONE_PER_FAMILY) == len(card.FAMILIES)
    for row in card.MODELS:
        info = model_info(row.name)
        family = card.FAMILIES[row.family]
        assert (info.dataset, info.family, info.engines) == (row.dataset, family, family.engines)
        assert (info.base_size, info.crop_size) == (
            card.DATASETS[row.dataset].base_size,
            card.DATASETS[row.dataset].crop_size,
        )
        assert weights.zoo_sha1(row.name) == row.sha1
        assert estimate.model_gmac(row.name, 1000, 1000) == row.gmac_per_mp + row.gmac_per_mp2
        assert mxnet_engine.supports_native(row.name) == family.native
        assert onnx_engine.exports_dynamic(row.name, "mxnet") == family.mxnet_export_any_size


def test_the_generated_files_cover_every_dataset_and_model():
    assert set(_class_tables()) == set(card.DATASETS)
    for row in card.MODELS:
        assert untrained.param_shapes(row.name), row.name


def test_gen_card_writes_the_rows_as_they_are():
    """scripts/gen_card.py rewrites the MODELS block from the rows: unchanged rows, unchanged
    text (so a regenerated card differs only where gluoncv's facts did)."""
    gen_card = _script("gen_card")
    text = Path(card.__file__).read_text()
    assert gen_card.with_rows(text, card.MODELS) == text
    changed = [
        card.ModelRow(r.name, r.dataset, r.family, r.gmac_per_mp + 1, 0, r.sha1)
        for r in card.MODELS[:1]
    ]
    assert "  557,    0," in gen_card.with_rows(text, changed + list(card.MODELS[1:]))


@needs_mxnet
def test_the_sha1_column_is_gluoncvs():
    store = _mxnet.gluoncv_module("gluoncv.model_zoo.model_store")
    assert {row.name: row.sha1 for row in card.MODELS} == {
        row.name: store._model_sha1[row.name] for row in card.MODELS
    }


@needs_mxnet
@pytest.mark.parametrize("model_name", ["fcn_resnet50_ade", "danet_resnet50_citys"])
def test_the_gmac_columns_are_counted_ones(model_name):
    """scripts/count_macs.py counts the same again (a linear and an attention model)."""
    row = card.model_row(model_name)
    assert _script("count_macs").gmac_coefficients(model_name) == pytest.approx(
        (row.gmac_per_mp, row.gmac_per_mp2), abs=0.5
    )
