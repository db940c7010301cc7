"""The options object every entry point shares."""

import inspect

import pytest

from napari_gluonseg import segment_image
from napari_gluonseg.core.errors import OptionError
from napari_gluonseg.core.run.options import RunOptions


def test_unknown_options_are_named_before_anything_runs(small_dog):
    with pytest.raises(OptionError, match=r"Unknown option\(s\) tile, treads; the options are"):
        segment_image(small_dog, weights="/no/such.params", tile=64, treads=2)


def test_the_options_are_one_frozen_object_with_documented_defaults():
    options = RunOptions.of("fcn_resnet50_ade", scale=1.0)
    assert (options.model_name, options.scale) == ("fcn_resnet50_ade", 1.0)
    assert options.tile_size == "auto"
    with pytest.raises(AttributeError):
        options.scale = 2.0  # frozen: a run's options do not change under it
    for field in ("weights", "tile_size", "probability_classes", "threads"):
        assert f"\n{field} :" in inspect.cleandoc(RunOptions.__doc__)  # 3.13 dedents docs
