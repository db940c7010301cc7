"""Property: checking a run's image and arguments either plans the run or raises the package's
own error, never a bare Python error; a planned run's first plane converts to finite values in
[0, 1] at a working size the network can take."""

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from napari_gluonseg import GluonsegError
from napari_gluonseg.core.run.preprocess import MIN_SIDE
from napari_gluonseg.core.run.segment import plan_run

DTYPES = ["u1", "u2", ">u2", "i2", "f4", ">f4", "f8", "?"]
SIDES = st.one_of(st.sampled_from([16, 17, 24, 31]), st.sampled_from([1, 3, 4, 5, 15]))


@st.composite
def images(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    height, width = draw(SIDES), draw(SIDES)
    lead = draw(st.lists(st.integers(1, 4), max_size=2))
    usual = st.sampled_from([(), (3,)])
    channels = draw(st.one_of(usual, usual, st.sampled_from([(1,), (2,), (4,), (5,)])))
    shape = (*lead, height, width, *channels)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(dtype)
    if dtype.kind == "f":
        values = rng.normal(0, draw(st.sampled_from([0.3, 1, 1e4])), shape)
    else:
        info = np.iinfo(dtype)
        values = rng.integers(max(info.min, -3000), min(info.max, 60000), shape, endpoint=True)
    return values.astype(dtype)


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 600),
    st.sampled_from([np.float32(1.0), np.float64(0.5), np.int64(64), np.int32(1), np.uint8(0)]),
)
ODD = st.sampled_from([None, "", "auto", "no", True, False, np.bool_(True), [], (), [None]])
NAMES = st.one_of(
    st.sampled_from(["sky", "wall", "unicorn", "bicycle", 2, np.int64(127), 150, -1]),
    st.lists(st.sampled_from(["sky", 3, np.int64(4), "x", 1.5, None, True]), max_size=3),
)


def good_or_bad(good, *bad):
    """Mostly values a run accepts (so that runs get planned), one time in five anything."""
    anything = st.one_of(*bad)
    return st.integers(0, 4).flatmap(lambda n: anything if n == 0 else good)


ARGS = st.fixed_dictionaries(
    {},
    optional={
        "scale": good_or_bad(st.sampled_from(["auto", 1.0, np.float32(0.7), 2, 0.1]), NUMBERS, ODD),
        "tile_size": good_or_bad(st.sampled_from(["auto", None, 64, np.int64(100)]), NUMBERS, ODD),
        "min_confidence": good_or_bad(st.floats(0, 1), NUMBERS, ODD),
        "flip": good_or_bad(st.sampled_from([True, False, np.bool_(False)]), ODD, NUMBERS),
        "tta_scales": good_or_bad(
            st.lists(st.floats(0.25, 4), max_size=2),
            st.lists(st.one_of(NUMBERS, ODD), max_size=2),
            NUMBERS,
            ODD,
        ),
        "classes": good_or_bad(st.sampled_from([None, "sky", ["sky", 3]]), NAMES, ODD),
        "probability_classes": good_or_bad(st.sampled_from([(), "sky", [np.int64(3)]]), NAMES, ODD),
        "rgb": good_or_bad(st.sampled_from([None, True, False, np.bool_(True)]), ODD, NUMBERS),
        "intensity_range": good_or_bad(
            st.sampled_from([None, (0, 255), (np.float32(-1), 1e4)]),
            st.tuples(NUMBERS, NUMBERS),
            NUMBERS,
            ODD,
        ),
        "weights": good_or_bad(st.sampled_from([None, "/no/such/file.params"]), ODD, NUMBERS),
        "engine": good_or_bad(st.sampled_from(["auto", "mxnet"]), st.sampled_from(["tf", 3])),
        "check_memory_first": good_or_bad(st.booleans(), ODD, NUMBERS),
    },
)


def plan_or_package_error(image, kwargs):
    """plan_run's plan, or None after the package's own error; the first plane is checked."""
    try:
        plan = plan_run(image, **kwargs)
    except GluonsegError as exc:
        event(f"{type(exc).__name__}: {str(exc)[:30]}")
        return None
    event("planned")
    assert all(min(size) >= MIN_SIDE for size in plan.passes)
    try:
        plane = plan.stack.plane_chw01(0, *plan.work)
    except GluonsegError:  # NaN or inf values are found plane by plane, when read
        return plan
    assert plane.shape == (3, *plan.work) and plane.dtype == np.float32
    assert np.isfinite(plane).all() and plane.min() >= 0 and plane.max() <= 1 + 1e-6
    return plan


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    image=images(),
    rgb=st.sampled_from([None, None, True, False]),
    intensity_range=st.sampled_from([None, (0, 4095), (-1.0, 1.0)]),
)
def test_any_image_is_planned_or_refused_by_the_package(image, rgb, intensity_range):
    plan_or_package_error(image, {"rgb": rgb, "intensity_range": intensity_range, "scale": 1.0})


RGB = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kwargs=ARGS)
def test_any_arguments_are_planned_or_refused_by_the_package(kwargs):
    plan_or_package_error(RGB, kwargs)
