import warnings

import numpy as np
import pytest

from napari_gluonseg import (
    ImageError,
    Progress,
    SegmentationCancelled,
    UnknownModelError,
    iter_segment_image,
    segment_image,
)
from napari_gluonseg.core import _mxnet
from napari_gluonseg.core.segment import run_to_end

from .conftest import BICYCLE, MODEL


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


def test_equals_gluoncv_predict(small_dog, untrained_params):
    logits = gluoncv_reference(small_dog, untrained_params)
    result = segment_image(
        small_dog,
        weights=untrained_params,
        scale=1.0,
        tile_size=None,
        engine="mxnet",
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
    result = segment_image(small_dog, weights=bicycle_params, probability_classes=["bicycle"])
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
    result = segment_image(stack, weights=untrained_params, probability_classes=[0])
    assert result.labels.shape == (2, *small_dog.shape[:2])
    single = segment_image(small_dog, weights=untrained_params, probability_classes=[0])
    np.testing.assert_array_equal(result.labels[0], single.labels)
    np.testing.assert_allclose(result.probabilities["wall"][0], single.probabilities["wall"])


def test_grey_uint16_and_float_inputs(small_dog, untrained_params):
    grey = small_dog[..., 0]
    a = segment_image(grey, weights=untrained_params)
    b = segment_image(grey.astype(np.uint16) * 257, weights=untrained_params)
    c = segment_image(grey / 255.0, weights=untrained_params)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-5)
    np.testing.assert_allclose(a.confidence, c.confidence, atol=1e-5)


def test_tiled_run_covers_the_image(small_dog, untrained_params):
    tiled = segment_image(
        small_dog, weights=untrained_params, tile_size=64, probability_classes=[3]
    )
    assert tiled.labels.shape == small_dog.shape[:2]
    assert tiled.labels.min() >= 1  # every pixel got a class from some window
    assert tiled.provenance["tile_size"] == 64 and tiled.provenance["tile_stride"] == 42


def test_progress_events_and_cancel(small_dog, untrained_params):
    stack = np.stack([small_dog] * 4)
    gen = iter_segment_image(stack, weights=untrained_params, scale=1.0, tile_size=None)
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
            iter_segment_image(stack, weights=untrained_params, scale=1.0, tile_size=None),
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
        segment_image(np.zeros((4, 4, 3), np.uint8), weights=untrained_params)
