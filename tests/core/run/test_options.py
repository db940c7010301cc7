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


def test_each_option_is_declared_once_and_its_spellings_follow():
    """One declaration per option: the docstring, the command line's flags and help, the dock's
    tooltips and the batch record are all made from it."""
    from dataclasses import fields

    from napari_gluonseg.cli.parser import build_parser, run_options
    from napari_gluonseg.core.run.options import declared

    doc = inspect.cleandoc(RunOptions.__doc__)
    assert [f.name for f, _ in declared()] == [f.name for f in fields(RunOptions)]
    for f, spec in declared():
        assert f"\n{f.name} : {f.type}\n    {spec.doc}" in doc
    args = build_parser().parse_args(
        ["segment", "x.png", "--model", "psp_resnet50_ade", "--tile-size", "none", "--prob",
         "sky", "--probability-classes", "road", "--flip", "--tta-scales", "0.75,1.25",
         "--intensity-range", "0,4095", "--engine", "onnxruntime"]
    )  # fmt: skip
    assert run_options(args) == RunOptions(
        model_name="psp_resnet50_ade",
        tile_size=None,
        probability_classes=["sky", "road"],
        flip=True,
        tta_scales=[0.75, 1.25],
        intensity_range=(0.0, 4095.0),
        engine="onnxruntime",
    )
    helps = build_parser()._subparsers._group_actions[0].choices["segment"].format_help()
    on_the_command_line = [f.name for f, spec in declared() if spec.help]
    assert len(on_the_command_line) >= 12
    for name in on_the_command_line:
        assert "--" + name.replace("_", "-") in helps


def test_checked_options_have_one_form_and_bad_values_are_named():
    checked = RunOptions(scale=1, tile_size=480, tta_scales=[1.0, 0.75], threads=1).checked()
    assert type(checked.scale) is float and checked.tta_scales == (0.75,)  # 1.0: the main pass
    assert checked.tile_size == 480 and checked.threads == 1
    with pytest.raises(OptionError, match=r"Unknown engine 'gpu'\. Valid engines: auto, mxnet"):
        RunOptions(engine="gpu").checked()
    with pytest.raises(OptionError, match=r"min_confidence must be a number in \[0, 1\]"):
        RunOptions(min_confidence=2).checked()
