import json

import pytest

from napari_gluonseg import UnknownModelError, model_info, model_names
from napari_gluonseg.core.models import _mxnet, registry

from ...conftest import needs_mxnet


def test_default_model_and_class_127():
    info = model_info("fcn_resnet50_ade")
    assert model_names()[0] == "fcn_resnet50_ade"
    assert info.num_classes == 150
    assert info.class_names[127] == "bicycle, bike, wheel, cycle"
    assert info.class_index("bicycle") == 127
    assert info.class_index("bicycle, bike, wheel, cycle") == 127
    assert (info.base_size, info.crop_size) == (520, 480)


def test_unknown_model_lists_valid_names():
    with pytest.raises(UnknownModelError) as err:
        model_info("fcn_resnet50_nope")
    assert "fcn_resnet50_nope" in str(err.value)
    for name in model_names():
        assert name in str(err.value)


def test_unknown_class_suggests_names():
    with pytest.raises(ValueError, match="Did you mean: animal"):
        model_info("fcn_resnet50_ade").class_index("anim")


@needs_mxnet
def test_registry_is_exactly_gluoncvs_pretrained_segmentation_zoo():
    gcv = _mxnet.gluoncv()
    store = _mxnet.gluoncv_module("gluoncv.model_zoo.model_store")
    zoo = set(gcv.model_zoo.get_model_list())
    seg = {
        n
        for n in store._model_sha1
        if n.endswith(("_ade", "_voc", "_coco", "_citys"))
        and n.split("_")[0] in {"fcn", "psp", "deeplab", "icnet", "fastscnn", "danet"}
    }
    assert set(model_names()) == seg
    assert seg <= zoo


@needs_mxnet
def test_class_tables_match_gluoncv():
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[3] / "scripts" / "gen_class_tables.py"
    spec = importlib.util.spec_from_file_location("gen_class_tables", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert json.loads(json.dumps(module.build_tables())) == registry._class_tables()
    gcv_viz = _mxnet.gluoncv_module("gluoncv.utils.viz.segmentation")
    # gluoncv colours ADE20K class k with palette row k + 1
    assert list(model_info("fcn_resnet50_ade").colors[0]) == gcv_viz.adepallete[3:6]
