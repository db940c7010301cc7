"""Image files read as napari's imageio reads them, strictly, upright."""

import os

import numpy as np
import pytest
import tifffile
from PIL import Image

from napari_gluonseg.core.errors import ImageError, InsufficientMemoryError
from napari_gluonseg.core.files import images

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 255, (20, 30, 3), dtype=np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".webp", ".tif"])
def test_lossless_rgb_formats_give_their_pixels(tmp_path, suffix):
    path = tmp_path / f"x{suffix}"
    if suffix == ".tif":
        tifffile.imwrite(path, RGB)
    else:
        Image.fromarray(RGB).save(path, lossless=True) if suffix == ".webp" else Image.fromarray(
            RGB
        ).save(path)
    np.testing.assert_array_equal(images.read_image(path), RGB)


def test_palette_png_is_rgb_and_cmyk_jpeg_is_rgb(tmp_path):
    palette = Image.fromarray(RGB).quantize(8)
    palette.save(tmp_path / "p.png")
    expected = np.asarray(palette.convert("RGB"))
    np.testing.assert_array_equal(images.read_image(tmp_path / "p.png"), expected)
    Image.fromarray(RGB).convert("CMYK").save(tmp_path / "c.jpg", quality=100)
    cmyk = images.read_image(tmp_path / "c.jpg")
    assert cmyk.shape == (20, 30, 3) and cmyk.dtype == np.uint8
    assert np.abs(cmyk.astype(int) - RGB).mean() < 20  # JPEG, but the colours of the photo


def test_16_bit_png_and_multi_page_tiff_keep_type_and_pages(tmp_path):
    deep = RNG.integers(0, 65535, (3, 20, 30), dtype=np.uint16)
    Image.fromarray(deep[0]).save(tmp_path / "d.png")
    np.testing.assert_array_equal(images.read_image(tmp_path / "d.png"), deep[0])
    tifffile.imwrite(tmp_path / "stack.tif", deep, photometric="minisblack")
    np.testing.assert_array_equal(images.read_image(tmp_path / "stack.tif"), deep)


def test_a_planar_rgb_tiff_is_one_colour_image(tmp_path):
    """Samples stored as planes (PlanarConfiguration 2), photometric RGB: the file says colour."""
    rgb = RNG.integers(0, 255, (40, 50, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "p.tif", np.moveaxis(rgb, -1, 0), photometric="rgb",
                     planarconfig="separate")  # fmt: skip
    pixels, is_rgb = images.decode_planes((tmp_path / "p.tif").read_bytes(), tmp_path / "p.tif")
    np.testing.assert_array_equal(pixels, rgb)
    assert is_rgb is True
    pages = np.stack([np.moveaxis(rgb, -1, 0), np.moveaxis(rgb[::-1], -1, 0)])
    tifffile.imwrite(tmp_path / "s.tif", pages, photometric="rgb", planarconfig="separate")
    pixels, is_rgb = images.decode_planes((tmp_path / "s.tif").read_bytes(), tmp_path / "s.tif")
    np.testing.assert_array_equal(pixels, np.stack([rgb, rgb[::-1]]))
    assert is_rgb is True


def test_a_tiff_of_several_series_is_a_stack_of_all_of_them(tmp_path):
    """Pages written one by one are separate series: each is a plane, none is dropped."""
    planes = RNG.integers(0, 255, (3, 20, 30), dtype=np.uint8)
    with tifffile.TiffWriter(tmp_path / "three.tif") as tif:
        for plane in planes:
            tif.write(plane)
    path = tmp_path / "three.tif"
    pixels, is_rgb = images.decode_planes(path.read_bytes(), path)
    np.testing.assert_array_equal(pixels, planes)
    assert is_rgb is False


def test_a_tiff_of_series_that_differ_is_refused_naming_them(tmp_path):
    with tifffile.TiffWriter(tmp_path / "mixed.tif") as tif:
        tif.write(np.zeros((20, 30), np.uint8))
        tif.write(np.zeros((10, 30), np.uint8))
    with pytest.raises(ImageError, match=r"mixed\.tif holds 2 images of different shapes"):
        images.read_image(tmp_path / "mixed.tif")


def test_exif_orientation_is_applied(tmp_path):
    top_white = np.zeros((20, 40, 3), np.uint8)
    top_white[:5] = 255
    im = Image.fromarray(top_white)
    exif = im.getexif()
    exif[0x0112] = 6  # stored sideways: viewers turn it 90 degrees clockwise
    im.save(tmp_path / "r.jpg", exif=exif.tobytes(), quality=100)
    upright = images.read_image(tmp_path / "r.jpg")
    assert upright.shape == (40, 20, 3)
    assert upright[:, -5:].mean() > 200 and upright[:, :5].mean() < 50  # the top went right


def test_truncated_file_is_an_error_even_after_gluoncv_set_pil_lenient(tmp_path, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # what gluoncv does
    Image.fromarray(RGB).save(tmp_path / "t.png")
    data = (tmp_path / "t.png").read_bytes()
    (tmp_path / "t.png").write_bytes(data[: len(data) - 40])
    with pytest.raises(ImageError, match=r"t\.png.*truncated"):
        images.read_image(tmp_path / "t.png")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello", "not an image file this reader supports"),
        ("fake.jpg", b"hello", "is not a JPG file"),
        ("gone.png", None, "Cannot read"),
    ],
)
def test_unsupported_corrupt_and_missing_files_name_the_path(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImageError, match=message) as caught:
        images.read_image(path)
    assert str(path) in str(caught.value)


def test_image_too_large_for_memory_is_refused_before_decoding(tmp_path, monkeypatch):
    Image.fromarray(RGB).save(tmp_path / "big.png")
    monkeypatch.setattr(images, "available_bytes", lambda: 1000)
    with pytest.raises(InsufficientMemoryError, match=r"big\.png holds 20x30x3"):
        images.read_image(tmp_path / "big.png")


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_only_regular_files_are_read(tmp_path, kind):
    """A FIFO named x.png would block for ever; /dev/zero would grow without end."""
    path = tmp_path / "x.png"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(ImageError, match=f"{path} is not a regular file"):
        images.read_image(path)


def test_a_file_beyond_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    path.write_bytes(b"\0" * 2000)
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ImageError, match=f"{path} is 2000 bytes, more than the 1000 bytes"):
        images.read_image(path)


GREY = RNG.integers(0, 255, (20, 30), dtype=np.uint8)
ALPHA = np.full((20, 30), 200, np.uint8)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_greyscale_with_alpha_is_read_as_greyscale(tmp_path, suffix):
    """As (H, W, 2) the run would refuse it with Python advice ('pass image[..., k]') that a
    command-line user cannot follow: its alpha is left out, as an RGBA image's is."""
    path = tmp_path / f"la{suffix}"
    if suffix == ".png":
        Image.fromarray(np.stack([GREY, ALPHA], -1), "LA").save(path)
    else:
        tifffile.imwrite(
            path, np.stack([GREY, ALPHA], -1), photometric="minisblack", extrasamples=["unassalpha"]
        )
    pixels, rgb = images.decode_planes(path.read_bytes(), path)
    np.testing.assert_array_equal(pixels, GREY)
    assert rgb is not True


def test_a_tiff_of_two_samples_that_are_not_alpha_is_refused_saying_what_to_save(tmp_path):
    path = tmp_path / "two.tif"
    tifffile.imwrite(
        path, np.stack([GREY, ALPHA], -1), photometric="minisblack", planarconfig="contig"
    )
    with pytest.raises(ImageError) as err:
        images.read_image(path)
    message = str(err.value)
    assert str(path) in message and "2 samples per pixel" in message
    assert "image[" not in message and "greyscale" in message and "RGB" in message
