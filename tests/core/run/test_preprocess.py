import numpy as np
import pytest

from napari_gluonseg import ImageError, OptionError, segment_image
from napari_gluonseg.core.models import _mxnet
from napari_gluonseg.core.run.preprocess import as_image_stack, normalize, to_chw

from ...conftest import needs_mxnet


def test_reference_figures_on_dog(dog):
    assert dog.shape == (576, 768, 3) and dog.dtype == np.uint8
    x = normalize(to_chw(as_image_stack(dog).plane_rgb01(0)))
    assert x.shape == (1, 3, 576, 768)
    assert x.min() == pytest.approx(-2.117904, abs=1e-6)
    assert x.max() == pytest.approx(2.64, abs=1e-6)


@needs_mxnet
def test_matches_gluoncv_transforms(small_dog):
    mx = _mxnet.mxnet()
    from mxnet.gluon.data.vision import transforms

    t = transforms.Compose(
        [transforms.ToTensor(), transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
    )
    ref = t(mx.nd.array(small_dog, dtype="uint8")).asnumpy()
    ours = normalize(to_chw(as_image_stack(small_dog).plane_rgb01(0)))[0]
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_channel_and_dtype_handling():
    rgb = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.zeros((20, 24, 1), np.uint8)], axis=-1)
    np.testing.assert_array_equal(
        as_image_stack(rgba).plane_rgb01(0), as_image_stack(rgb).plane_rgb01(0)
    )
    grey = rgb[..., 0]
    plane = as_image_stack(grey).plane_rgb01(0)
    assert plane.shape == (20, 24, 3) and np.all(plane[..., 0] == plane[..., 2])
    u16 = grey.astype(np.uint16) * 257  # same brightness in uint16's full range
    np.testing.assert_allclose(as_image_stack(u16).plane_rgb01(0), plane, atol=1e-6)
    f01 = grey / 255.0
    np.testing.assert_allclose(as_image_stack(f01).plane_rgb01(0), plane, atol=1e-6)
    counts = grey.astype(np.float32) * 40 + 1000  # arbitrary units: min-max
    scaled = as_image_stack(counts).plane_rgb01(0)
    assert scaled.min() == 0 and scaled.max() == 1


def test_stack_is_planes():
    stack = as_image_stack(np.zeros((2, 3, 20, 24, 3), np.uint8))
    assert stack.rgb and stack.n_planes == 6 and stack.spatial_shape == (2, 3, 20, 24)
    assert stack.plane_index(4) == (1, 1)
    grey = as_image_stack(np.zeros((5, 20, 24), np.uint8), rgb=False)
    assert grey.n_planes == 5 and grey.plane_shape == (20, 24)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (np.zeros((0, 10), np.uint8), "empty"),
        (np.zeros((1, 1), np.uint8), "at least 16x16"),
        (np.zeros((1, 1, 3), np.uint8), "at least 16x16"),
        (np.zeros(30, np.uint8), "2D image"),
        (np.zeros((20, 20), bool), "boolean"),
        (np.zeros((20, 20), complex), "complex"),
        (np.array([["a"] * 20] * 20), "not numeric"),
    ],
)
def test_bad_images_get_clear_errors(data, message):
    with pytest.raises(ImageError, match=message):
        as_image_stack(data)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_rejected(bad):
    img = np.zeros((20, 20), np.float32)
    img[3, 4] = bad
    with pytest.raises(ImageError, match="NaN or infinite"):
        as_image_stack(img).plane_rgb01(0)


def test_rgb_flag_checked():
    with pytest.raises(ImageError, match="RGB needs 3 or 4"):
        as_image_stack(np.zeros((20, 20, 5), np.uint8), rgb=True)


@pytest.mark.parametrize(("native", "swapped"), [("u2", ">u2"), ("f4", ">f4"), ("i2", ">i2")])
def test_byte_order_does_not_change_the_scaling(native, swapped):
    grey = np.random.default_rng(1).integers(0, 256, (20, 24)).astype(native) * 200
    big = grey.astype(swapped)
    np.testing.assert_array_equal(
        as_image_stack(big).plane_rgb01(0), as_image_stack(grey).plane_rgb01(0)
    )
    np.testing.assert_array_equal(
        as_image_stack(big).plane_chw01(0, 10, 12), as_image_stack(grey).plane_chw01(0, 10, 12)
    )


def test_big_endian_uint16_is_divided_by_its_full_range():
    img = np.full((20, 24), 1000, ">u2")
    img[0, 0] = 2000
    plane = as_image_stack(img).plane_rgb01(0)
    np.testing.assert_allclose(plane[1, 1], 1000 / 65535, rtol=1e-6)


@pytest.mark.parametrize("channels", [3, 4])
def test_channels_first_refused_with_how_to_pass_it(channels):
    data = np.zeros((channels, 40, 50), np.uint8)
    with pytest.raises(ImageError, match=r"np\.moveaxis\(image, 0, -1\)") as caught:
        as_image_stack(data)
    assert f"({channels}, 40, 50)" in str(caught.value) and "rgb=False" in str(caught.value)
    planes = as_image_stack(data, rgb=False)  # said explicitly: a stack of grey planes
    assert planes.n_planes == channels and planes.plane_shape == (40, 50)


@pytest.mark.parametrize(
    ("shape", "rgb"),
    [((128, 128, 2), None), ((128, 128, 5), None), ((128, 128, 2), True), ((30, 30, 5), True)],
)
def test_channel_count_is_named(shape, rgb):
    with pytest.raises(ImageError, match=f"{shape[-1]} channels; RGB needs 3 or 4"):
        as_image_stack(np.zeros(shape, np.uint8), rgb=rgb)


def test_intensity_range_maps_the_window_to_unit_range():
    twelve_bit = np.array([[0, 1000, 4095, 5000]] * 20, np.uint16).repeat(5, axis=1)
    plane = as_image_stack(twelve_bit, intensity_range=(0, 4095)).plane_rgb01(0)[..., 0]
    np.testing.assert_allclose(plane[0, ::5], [0, 1000 / 4095, 1, 1], rtol=1e-6)
    signed = (twelve_bit.astype(np.int16) - 2000).astype(">i2")
    plane = as_image_stack(signed, intensity_range=(-1000.0, 1000.0)).plane_chw01(0, 20, 20)
    np.testing.assert_allclose(plane[0, 0, ::5], [0, 0, 1, 1], atol=1e-6)
    floats = np.linspace(-1, 2, 20 * 20, dtype=np.float32).reshape(20, 20)
    plane = as_image_stack(floats, intensity_range=(0.0, 1.0)).plane_rgb01(0)
    assert plane.min() == 0 and plane.max() == 1
    np.testing.assert_allclose(plane[..., 0], np.clip(floats, 0, 1), atol=1e-6)


@pytest.mark.parametrize(
    "window",
    [(-3e38, 3e38), (0.0, 1e39), (-1e39, -3e38), (0.0, 1e-300)],
    ids=["span-overflows", "end-overflows", "both-overflow", "span-underflows"],
)
def test_an_intensity_range_float32_cannot_scale_by_is_refused_naming_it(window):
    """(-3e38, 3e38): the span overflows float32; unrefused, the network sees a black image
    (onnxruntime) or NaN (MXNet), and NaN scores get blamed on the weights."""
    with pytest.raises(OptionError, match="intensity_range") as caught:
        as_image_stack(np.zeros((20, 20), np.uint8), intensity_range=window)
    assert repr(window) in str(caught.value) and "float32" in str(caught.value)


def test_the_widest_range_float32_holds_still_scales():
    image = np.array([[0, 255]] * 20, np.uint8).repeat(10, axis=1)
    plane = as_image_stack(image, intensity_range=(-1.5e38, 1.5e38)).plane_chw01(0, 20, 20)
    np.testing.assert_allclose(plane[:, :, ::10], 0.5, rtol=1e-6)


@pytest.mark.parametrize("engine", ["onnxruntime", pytest.param("mxnet", marks=needs_mxnet)])
def test_neither_engine_runs_on_an_intensity_range_float32_cannot_scale_by(
    small_dog, untrained_params, engine
):
    with pytest.raises(OptionError, match=r"intensity_range \(-3e\+38, 3e\+38\)"):
        segment_image(
            small_dog, intensity_range=(-3e38, 3e38), weights=untrained_params, engine=engine
        )


def test_a_masked_array_with_masked_pixels_is_refused_saying_what_to_pass():
    """Its fill values would drive the intensity scaling (enough to change 36% of the labels)."""
    data = np.ma.masked_array(np.zeros((40, 40)), mask=np.zeros((40, 40), bool))
    data.mask[:5, :5] = True
    data.data[:5, :5] = np.nan  # hidden under the mask: not the complaint
    with pytest.raises(ImageError, match=r"masked array with 25 masked value\(s\).*filled\("):
        as_image_stack(data)
    unmasked = np.ma.masked_array(np.ones((40, 40)), mask=False)
    np.testing.assert_array_equal(
        as_image_stack(unmasked).plane_rgb01(0), as_image_stack(np.ones((40, 40))).plane_rgb01(0)
    )


def test_a_lazy_masked_array_is_refused_for_its_mask_not_for_what_is_under_it():
    """A dask array of a masked array: its planes keep the mask, so the NaN under it is not
    refused as if visible ("fix or mask them", when masking is the cause): the mask is."""
    import dask.array as da

    values = np.random.default_rng(0).random((2, 40, 48))
    values[1, 3, 4] = np.nan
    lazy = da.from_array(np.ma.masked_invalid(values), chunks=(1, 20, 24), asarray=False)
    stack = as_image_stack(lazy)  # nothing read yet: the planes say it
    np.testing.assert_array_equal(stack.plane_rgb01(0), as_image_stack(values).plane_rgb01(0))
    with pytest.raises(ImageError, match=r"masked array with 1 masked value\(s\)") as err:
        stack.plane_rgb01(1)
    assert "NaN" not in str(err.value) and "plane (1,)" in str(err.value)
