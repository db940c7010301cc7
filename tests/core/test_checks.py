"""Argument values of a run: numpy scalars are numbers, a string is one name, bools are bools,
and every refusal is the package's OptionError naming the argument and the value."""

import numpy as np
import pytest

from napari_gluonseg import OptionError, iter_segment_image, segment_image
from napari_gluonseg.core.models.scheme import EXAMPLES
from napari_gluonseg.core.run.segment import plan_run

SKY = 2


def first_event(image, tmp_path, **kwargs):
    """The first event of a run whose weights file is missing: all checks passed if it comes
    (a "plan" notice may come first where this machine's speed makes the run look long)."""
    kwargs = {"weights": tmp_path / "missing.params", **kwargs}
    gen = iter_segment_image(image, **kwargs)
    try:
        event = next(gen)
        return next(gen) if event.stage == "plan" else event
    finally:
        gen.close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"scale": np.float32(1.0)},
        {"scale": np.float64(0.5)},
        {"scale": np.int64(1)},
        {"tile_size": np.int64(64)},
        {"tile_size": np.int32(480)},
        {"min_confidence": np.float64(0.5)},
        {"min_confidence": np.float32(1)},
        {"tta_scales": (np.float32(0.75),)},
        {"tta_scales": np.array([0.75, 1.25])},
        {"flip": np.bool_(True)},
        {"rgb": np.bool_(True)},
        {"classes": [np.int64(SKY)], "probability_classes": (np.int64(SKY),)},
        {"intensity_range": (np.uint8(0), np.float32(200))},
        {"check_memory_first": np.bool_(False)},
    ],
)
def test_numpy_scalars_are_numbers(small_dog, tmp_path, kwargs):
    assert first_event(small_dog, tmp_path, **kwargs).stage == "weights"


def test_numpy_scalar_values_reach_the_plan(small_dog):
    plan = plan_run(
        small_dog,
        scale=np.float32(0.5),
        tile_size=np.int64(64),
        min_confidence=np.float64(0.25),
        tta_scales=np.array([1.5]),
        flip=np.bool_(True),
    )
    assert (plan.options.scale, plan.options.tile_size, plan.options.min_confidence) == (
        0.5,
        64,
        0.25,
    )
    assert plan.options.tta_scales == (1.5,) and plan.options.flip is True
    assert (
        type(plan.options.scale) is float
        and type(plan.options.tile_size) is int
        and type(plan.options.flip) is bool
    )


def test_a_bare_string_is_one_name(small_dog, untrained_params):
    plan = plan_run(small_dog, classes="sky", probability_classes="sky")
    assert plan.options.classes == (SKY,) and plan.options.probability_classes == (SKY,)
    result = segment_image(
        small_dog,
        weights=untrained_params,
        scale=1.0,
        engine="onnxruntime",
        classes="sky",
        probability_classes="sky",
    )
    assert set(result.probabilities) == {"sky"}
    assert np.all(result.labels == SKY + 1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"flip": "no"}, "flip must be True or False; got 'no'"),
        ({"flip": 1.5}, "flip must be True or False; got 1.5"),
        ({"flip": 1}, "flip must be True or False; got 1"),
        ({"rgb": "yes"}, "rgb must be True, False or None; got 'yes'"),
        ({"check_memory_first": "no"}, "check_memory_first must be True or False"),
        ({"weights": 12345}, "weights must be a path .* or None; got 12345"),
        ({"scheme": 5}, "scheme must be a path .*; got 5"),
        ({"tta_scales": 0.5}, r"tta_scales must be a list of factors.*; got 0\.5"),
        ({"tta_scales": "0.5"}, "tta_scales must be a list of factors.*; got '0.5'"),
        ({"tta_scales": [0.1]}, r"tta_scales must be factors in \[0.25, 4\]; got 0\.1"),
        ({"tta_scales": [True]}, r"tta_scales must be factors in \[0.25, 4\]; got True"),
        ({"scale": True}, r"scale must be 'auto' or a number in \(0, 8\]; got True"),
        ({"scale": float("nan")}, "scale must be .*; got nan"),
        ({"scale": np.float32(0)}, r"scale must be .*; got 0\.0"),
        ({"scale": "1.0"}, "scale must be .*; got '1.0'"),
        ({"tile_size": 64.5}, "tile_size must be .*; got 64.5"),
        ({"tile_size": True}, "tile_size must be .*; got True"),
        ({"tile_size": np.int64(10)}, "tile_size must be .*; got 10"),
        ({"min_confidence": "high"}, r"min_confidence must be a number in \[0, 1\]; got 'high'"),
        ({"min_confidence": np.nan}, "min_confidence must be .*; got nan"),
        ({"classes": [1.5]}, "classes must be class names or indices; got 1.5"),
        ({"classes": 5.5}, "classes must be class names or indices; got 5.5"),
        ({"probability_classes": [None]}, "probability_classes must be .*; got None"),
        ({"probability_classes": [True]}, "probability_classes must be .*; got True"),
        ({"engine": 5}, "Unknown engine 5"),
        ({"intensity_range": (1, 1)}, r"intensity_range must be \(lo, hi\).*; got \(1, 1\)"),
        ({"intensity_range": (2, 1)}, r"intensity_range must be .*; got \(2, 1\)"),
        ({"intensity_range": (0, np.inf)}, r"intensity_range must be .*; got \(0, inf\)"),
        ({"intensity_range": "0,1"}, "intensity_range must be .*; got '0,1'"),
        ({"intensity_range": (1, 2, 3)}, r"intensity_range must be .*; got \(1, 2, 3\)"),
        ({"intensity_range": 5}, "intensity_range must be .*; got 5"),
    ],
)
def test_bad_values_name_the_argument_and_the_value(small_dog, tmp_path, kwargs, message):
    with pytest.raises(OptionError, match=message) as caught:
        first_event(small_dog, tmp_path, **kwargs)
    assert isinstance(caught.value, ValueError)  # callers catching ValueError keep working


def test_class_errors_are_option_errors(small_dog, tmp_path):
    with pytest.raises(OptionError, match="no class 'unicorn'"):
        first_event(small_dog, tmp_path, probability_classes="unicorn")
    with pytest.raises(OptionError, match=r"out of range 0\.\.149"):
        first_event(small_dog, tmp_path, classes=[np.int64(150)])
    with pytest.raises(OptionError, match="not both"):
        plan_run(small_dog, classes="sky", scheme=EXAMPLES / "street_ade20k.csv")


@pytest.mark.parametrize("threads", [10**6, 100_000])
def test_threads_beyond_the_cores_are_refused_naming_the_cores(threads):
    """onnxruntime would start that many threads and take all memory."""
    import os

    cores = os.cpu_count()
    with pytest.raises(OptionError, match=f"threads must be .* 1 to {cores} .*; got {threads}"):
        plan_run(np.zeros((32, 32), np.uint8), threads=threads)
    assert plan_run(np.zeros((32, 32), np.uint8), threads=cores).options.threads == cores
