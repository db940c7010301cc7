import contextlib
import warnings

import numpy as np
import pytest

from napari_gluonseg import (
    ImageError,
    OptionError,
    Progress,
    SegmentationCancelled,
    UnknownModelError,
    WeightsError,
    iter_segment_image,
    segment_image,
)
from napari_gluonseg.core.models import _mxnet, untrained
from napari_gluonseg.core.models.params_file import write_params
from napari_gluonseg.core.run.preprocess import as_image_stack
from napari_gluonseg.core.run.segment import plan_run, run_to_end

from ...conftest import BICYCLE, MODEL, needs_mxnet

# Where neither is the point (the defaults, at the model's size:
# test_postprocess.py::test_default_run_outputs_full_resolution).
RUN = {"scale": 1.0, "engine": "onnxruntime"}


def gluoncv_reference(image: np.ndarray, params) -> np.ndarray:
    """The reference workflow with gluoncv's own calls: transforms, net.predict, softmax."""
    gcv = _mxnet.gluoncv()
    mx = _mxnet.mxnet()
    from mxnet.gluon.data.vision import transforms

    t = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
    )
    x = t(mx.nd.array(image, dtype="uint8")).expand_dims(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = gcv.model_zoo.get_model(MODEL, pretrained=False, pretrained_base=False)
    net.load_parameters(str(params))
    return net.predict(x)[0].asnumpy()  # (C, H, W) logits


@needs_mxnet
@pytest.mark.parametrize("engine", ["onnxruntime", "mxnet"])
def test_equals_gluoncv_predict(small_dog, untrained_params, engine):
    logits = gluoncv_reference(small_dog, untrained_params)
    result = segment_image(
        small_dog,
        weights=untrained_params,
        scale=1.0,
        tile_size=None,
        engine=engine,
        probability_classes=["sky", 127],
    )
    e = np.exp(logits - logits.max(0))
    softmax = e / e.sum(0)
    ordered = np.sort(logits, axis=0)
    clear = (ordered[-1] - ordered[-2]) > 1e-4  # float noise may only flip near-ties
    assert clear.mean() > 0.95
    expected = logits.argmax(0) + 1
    np.testing.assert_array_equal(result.labels[clear], expected[clear])
    assert result.labels.shape == small_dog.shape[:2]
    np.testing.assert_allclose(result.probabilities["sky"], softmax[2], atol=1e-5)
    np.testing.assert_allclose(
        result.probabilities["bicycle, bike, wheel, cycle"], softmax[BICYCLE], atol=1e-5
    )
    np.testing.assert_allclose(result.confidence, softmax.max(0), atol=1e-5)
    assert result.class_names[BICYCLE] == "bicycle, bike, wheel, cycle"
    assert result.provenance["weights_source"] == "file"


def test_bicycle_everywhere(small_dog, bicycle_params):
    result = segment_image(
        small_dog, weights=bicycle_params, probability_classes=["bicycle"], **RUN
    )
    assert np.all(result.labels == BICYCLE + 1)
    assert result.labels.dtype == np.uint8
    p = result.probabilities["bicycle, bike, wheel, cycle"]
    expected = np.exp(10) / (np.exp(10) + 149)
    np.testing.assert_allclose(p, expected, rtol=1e-5)
    np.testing.assert_allclose(result.confidence, expected, rtol=1e-5)
    table = result.class_table()
    assert table[BICYCLE + 1]["class_name"] == "bicycle, bike, wheel, cycle"
    assert table[BICYCLE + 1]["pixels"] == result.labels.size


def test_stack_processed_plane_by_plane(small_dog, untrained_params):
    stack = np.stack([small_dog, small_dog[::-1].copy()])
    result = segment_image(stack, weights=untrained_params, probability_classes=[0], **RUN)
    assert result.labels.shape == (2, *small_dog.shape[:2])
    single = segment_image(small_dog, weights=untrained_params, probability_classes=[0], **RUN)
    np.testing.assert_array_equal(result.labels[0], single.labels)
    np.testing.assert_allclose(result.probabilities["wall"][0], single.probabilities["wall"])


def test_grey_uint16_and_float_inputs(small_dog, untrained_params):
    grey = small_dog[..., 0]
    a = segment_image(grey, weights=untrained_params, **RUN)
    b = segment_image(grey.astype(np.uint16) * 257, weights=untrained_params, **RUN)
    c = segment_image(grey / 255.0, weights=untrained_params, **RUN)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-5)
    np.testing.assert_allclose(a.confidence, c.confidence, atol=1e-5)


def test_tiled_run_covers_the_image(small_dog, untrained_params):
    tiled = segment_image(
        small_dog, weights=untrained_params, tile_size=64, probability_classes=[3], **RUN
    )
    assert tiled.labels.shape == small_dog.shape[:2]
    assert tiled.labels.min() >= 1  # every pixel got a class from some window
    assert tiled.provenance["tile_size"] == 64 and tiled.provenance["tile_stride"] == 42


def test_full_resolution_outputs_report_progress_row_by_row(monkeypatch, untrained_params):
    """A 40000x40000 view ran minutes in its upsampling with no event: progress says how far
    the labels and probabilities are, at most ~100 events a plane."""
    from napari_gluonseg.core.run import postprocess

    monkeypatch.setattr(postprocess, "STRIP_PIXELS", 333 * 20)  # a strip of 20 rows
    image = np.broadcast_to(np.arange(333, dtype=np.uint8)[None, :, None], (1001, 333, 3))
    events = []
    gen = iter_segment_image(image, weights=untrained_params, scale=0.1, engine="onnxruntime")
    with contextlib.suppress(StopIteration):
        while True:
            events.append(next(gen))
    post = [(e.done, e.total) for e in events if e.stage == "postprocess"]
    assert 20 <= len(post) <= 102, post
    fractions = [done / total for done, total in post]
    assert fractions == sorted(fractions) and fractions[-1] == 1
    assert fractions[len(fractions) // 2] < 0.75  # news long before the end


def test_progress_events_and_cancel(small_dog, untrained_params):
    stack = np.stack([small_dog] * 4)
    gen = iter_segment_image(stack, weights=untrained_params, tile_size=None, **RUN)
    events = []
    for event in gen:
        events.append(event)
        if event.stage == "infer":
            break
    gen.close()  # cancelling between steps: no error, nothing else runs
    assert all(isinstance(e, Progress) for e in events)
    assert [e.stage for e in events][-1] == "infer" and events[-1].total == 4
    calls = []
    with pytest.raises(SegmentationCancelled):
        run_to_end(
            iter_segment_image(stack, weights=untrained_params, tile_size=None, **RUN),
            on_progress=calls.append,
            should_cancel=lambda: any(e.stage == "infer" for e in calls),
        )
    assert sum(e.stage == "infer" for e in calls) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model_name": "nope"}, UnknownModelError, "Valid models"),
        ({"engine": "tensorflow"}, ValueError, "Valid engines"),
        ({"scale": 0}, ValueError, "scale must be"),
        ({"scale": "big"}, ValueError, "scale must be"),
        ({"tile_size": 10}, ValueError, "tile_size"),
        ({"probability_classes": ["unicorn"]}, ValueError, "no class 'unicorn'"),
    ],
)
def test_bad_arguments_fail_before_any_work(small_dog, kwargs, error, message):
    gen = iter_segment_image(small_dog, weights="/does/not/exist.params", **kwargs)
    with pytest.raises(error, match=message):
        next(gen)


def test_bad_image_fails_fast(untrained_params):
    with pytest.raises(ImageError, match="at least"):
        segment_image(np.zeros((4, 4, 3), np.uint8), weights=untrained_params, **RUN)


def test_scale_too_small_for_the_network_names_one_that_works(tmp_path):
    image = np.zeros((300, 400), np.uint8)
    with pytest.raises(OptionError) as caught:
        plan_run(image, scale=0.01)
    message = str(caught.value)
    assert "scale=0.01 makes the 300x400 image 3x4 pixels" in message
    assert "at least 16 on each side: use scale >= 0.054" in message
    assert min(plan_run(image, scale=0.054).work) >= 16
    with pytest.raises(OptionError, match=r"use scale >= 0\.054"):
        next(iter_segment_image(image, weights=tmp_path / "missing.params", scale=0.05))


def test_each_test_time_pass_is_checked_too():
    image = np.zeros((300, 400), np.uint8)
    with pytest.raises(OptionError) as caught:
        plan_run(image, scale=0.06, tta_scales=(0.5, 1.25))
    message = str(caught.value)
    assert "tta_scales factor 0.5 makes the 18x24 working image 9x12 pixels" in message
    assert "use factors >= 0.889" in message
    plan = plan_run(image, scale=0.06, tta_scales=(0.889, 1.25))
    assert all(min(p) >= 16 for p in plan.passes)


def test_auto_scale_never_shrinks_a_thin_image_below_the_network_minimum():
    plan = plan_run(np.zeros((16, 40000), np.uint8))
    assert plan.work == (16, 40000)  # the long side at 520 would make it 1 pixel high
    plan = plan_run(np.zeros((40, 4000), np.uint8))
    assert plan.work == (16, 1600)
    assert plan_run(np.zeros((390, 520), np.uint8)).work == (390, 520)


@pytest.fixture(scope="module")
def nan_params(tmp_path_factory):
    """fcn_resnet50_ade whose last conv has a NaN bias: the network scores NaN everywhere."""
    params = untrained.untrained_params(MODEL)
    params["head.block.4.bias"][3] = np.nan
    path = tmp_path_factory.mktemp("weights") / "nan_fcn_resnet50_ade.params"
    write_params(path, params)
    return path


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"tile_size": 64}, {"classes": ["sky", "wall"]}, {"flip": True}],
    ids=["whole", "tiled", "subset", "flip"],
)
def test_nan_scores_name_the_weights_and_label_nothing(small_dog, nan_params, kwargs):
    with pytest.raises(WeightsError) as caught:
        segment_image(small_dog, weights=nan_params, scale=1.0, engine="onnxruntime", **kwargs)
    message = str(caught.value)
    assert "NaN" in message and str(nan_params.name) in message and "corrupt" in message


@needs_mxnet
def test_nan_weights_are_refused_before_mxnet_loads_them(small_dog, nan_params):
    """MXNet's relu turns NaN weights into a uniform output (label 1 everywhere, no error):
    the file is refused by name when read, for that engine too."""
    with pytest.raises(WeightsError, match=r"NaN or infinite values in 1 parameter\(s\): head"):
        segment_image(small_dog, weights=nan_params, scale=1.0, engine="mxnet")


def test_12bit_uint16_with_its_intensity_range_labels_like_uint8(small_dog, untrained_params):
    twelve = np.round(small_dog.astype(np.float64) * 4095 / 255).astype(np.uint16)
    as_uint8 = np.round(twelve.astype(np.float64) * 255 / 4095).astype(np.uint8)
    run = {"weights": untrained_params, "scale": 1.0, "engine": "onnxruntime"}
    ref = segment_image(as_uint8, **run)
    got = segment_image(twelve, intensity_range=(0, 4095), **run)
    assert np.mean(got.labels == ref.labels) >= 0.99
    assert got.provenance["intensity_range"] == [0.0, 4095.0]
    assert ref.provenance["intensity_range"] is None
    # Without it, / 65535: the network would see a near-black image (an untrained network's
    # labels may not show it, so look at what the network is given).
    assert as_image_stack(twelve).plane_rgb01(0).max() <= 4095 / 65535 + 1e-6


def test_a_finite_float64_image_near_its_limits_is_segmented_like_any_other(
    small_dog, untrained_params
):
    """Values near 1e308: a plain min-max scaling overflows to NaN, which gets blamed on the
    weights. Scaled without overflow, the network sees what it sees of the photo in counts."""
    photo = small_dog.astype(np.float64)
    counts = photo * 1000.0 - 100_000.0  # an ordinary float range, scaled min-max
    huge = (photo / 127.5 - 1.0) * 1.7e308  # +-1.7e308: max - min is past float64's 1.8e308
    assert np.isfinite(huge).all() and float(huge.max()) - float(huge.min()) == np.inf
    expected = segment_image(counts, weights=untrained_params, **RUN)
    result = segment_image(huge, weights=untrained_params, **RUN)
    assert np.mean(result.labels == expected.labels) > 0.999
    np.testing.assert_allclose(result.confidence, expected.confidence, atol=1e-4)
