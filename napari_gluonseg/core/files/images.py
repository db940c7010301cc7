"""Reading image files for a batch: imageio (what napari reads with), strictly.

- PNG, JPEG, BMP, WebP through imageio's pillow plugin: palette images come out as RGB(A),
  CMYK (and YCbCr, LAB) are converted to RGB, 16-bit PNGs stay uint16, and the EXIF orientation
  is applied, so the pixels are the photo as every viewer shows it upright (napari 0.9's own
  reader does not apply it: open batch inputs through :func:`read_image`, as the review does).
- TIFF through tifffile (imageio's TIFF reader): every page of every series (pages written one
  by one are series of their own; series of different shapes are refused), so a multi-page
  stack is (pages, H, W[, C]), its pages planes (3 or 4 greyscale pages too: not one colour
  image stored channels first); colour stored as planes (PlanarConfiguration 2) comes last.
- Greyscale with transparency (a PNG in mode LA, a TIFF of a grey sample and an alpha one) is
  read as greyscale: its alpha is left out, as an RGBA image's is by the network. Two samples
  that are not grey and alpha are refused, saying what to save instead.
- A truncated file is an error (never rows of grey, whatever gluoncv set globally in PIL), and
  so is an image whose decoded pixels alone would not fit in the available memory.
"""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import strict_image_reads
from ..errors import ImageError, InsufficientMemoryError
from ..run.memory import available_bytes, format_bytes

PILLOW_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
TIFF_SUFFIXES = (".tif", ".tiff")
IMAGE_SUFFIXES = PILLOW_SUFFIXES + TIFF_SUFFIXES
# Larger files are refused before reading (a 12 MP TIFF of float32 RGB is ~150 MB).
MAX_FILE_BYTES = 4 << 30
# Pillow modes whose channels are not RGB: converted, as napari users expect a colour photo.
_CONVERT_TO_RGB = ("CMYK", "YCbCr", "LAB", "HSV")
_GREY_ALPHA = ("LA", "La")  # read as L
_TIFF_ALPHA = (1, 2)  # ExtraSamples: associated and unassociated alpha


def read_image(path: str | Path) -> np.ndarray:
    """The pixels of an image file (see the module's notes). Raises :class:`ImageError`."""
    path = Path(path)
    return decode_image(read_file_bytes(path), path)


def decode_image(data: bytes, path: Path) -> np.ndarray:
    """The pixels of ``data``, the bytes of the file ``path`` (its suffix picks the reader).

    Raises :class:`ImageError` naming ``path`` for an unsupported, corrupt or truncated file,
    and :class:`InsufficientMemoryError` for one too large to decode.
    """
    return decode_planes(data, path)[0]


def read_file_bytes(path: Path) -> bytes:
    """The bytes of an image file. Only regular files are read (a FIFO would block for ever, a
    device like /dev/zero grow without end), and only up to :data:`MAX_FILE_BYTES`; raises
    :class:`ImageError` naming the file."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"{path} is not a regular file (a pipe, device or folder).")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageError(
                f"{path} is {info.st_size} bytes, more than the {MAX_FILE_BYTES} bytes an image "
                "file may have here."
            )
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)  # a file that grew since stat() stops here
    except OSError as exc:
        raise ImageError(f"Cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{path} grew beyond {MAX_FILE_BYTES} bytes while being read.")
    return data


def decode_planes(data: bytes, path: Path) -> tuple[np.ndarray, bool | None]:
    """:func:`decode_image`, and whether the pixels' last axis is colour where the file says so
    (``rgb`` of :func:`~.segment.segment_image`; None: the shape's guess). A multi-page TIFF's
    pages are planes: 3 or 4 greyscale pages are not one colour image stored channels first.
    """
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise ImageError(
            f"{path} is not an image file this reader supports "
            f"(suffixes: {', '.join(IMAGE_SUFFIXES)})."
        )
    import imageio.v3 as iio
    from imageio.core.request import InitializationError
    from PIL import Image

    try:
        if suffix in TIFF_SUFFIXES:
            return _read_tiff(data, path)
        with strict_image_reads(), iio.imopen(io.BytesIO(data), "r", plugin="pillow") as file:
            return _read_pillow(file, path), None
    except (ImageError, InsufficientMemoryError):
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(f"{path} is too large to decode safely: {exc}") from exc
    except MemoryError as exc:
        raise InsufficientMemoryError(f"{path} does not fit in memory when decoded.") from exc
    except Exception as exc:  # imageio and its plugins raise many types for broken files
        if isinstance(_innermost(exc), InitializationError):  # no reader knows the bytes
            raise ImageError(
                f"{path} is not a {suffix[1:].upper()} file (unknown format)."
            ) from exc
        raise ImageError(
            f"{path} is not a readable image (corrupt or truncated?): {_innermost(exc)}"
        ) from exc


def _innermost(exc: BaseException) -> BaseException:
    """The original error: imageio wraps the plugin's in one that only says it failed."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def _read_tiff(data: bytes, path: Path) -> tuple[np.ndarray, bool | None]:
    """Every series of the file (pages written one by one are series of their own) as planes,
    colour samples last where the file stores them as planes (PlanarConfiguration 2)."""
    import tifffile

    try:
        tif = tifffile.TiffFile(io.BytesIO(data))
    except tifffile.TiffFileError as exc:
        raise ImageError(f"{path} is not a TIF file (unknown format): {exc}") from exc
    with tif:
        series = tif.series
        kinds = {(s.shape, s.axes, s.dtype) for s in series}
        if len(kinds) > 1:
            shapes = ", ".join("x".join(map(str, s.shape)) for s in series[:5])
            raise ImageError(
                f"{path} holds {len(series)} images of different shapes ({shapes}): save "
                "them as separate files, or as one stack of equal planes."
            )
        shape, axes, dtype = kinds.pop()
        _check_fits((len(series), *shape) if len(series) > 1 else shape, dtype, path)
        planes = [_samples_last(s.asarray(), axes) for s in series]
        extra = tuple(getattr(tif.pages[0], "extrasamples", ()))  # a TiffFrame has none
    pixels = planes[0] if len(planes) == 1 else np.stack(planes)
    if pixels.ndim == 2:
        return pixels, None
    if "S" in axes and pixels.shape[-1] == 2:
        if extra[:1] and int(extra[0]) in _TIFF_ALPHA:  # grey and alpha: as greyscale
            return np.ascontiguousarray(pixels[..., 0]), False
        raise ImageError(
            f"{path} has 2 samples per pixel, neither greyscale (1) nor RGB or RGBA (3 or 4): "
            "save one channel as a greyscale image, or three as an RGB image, and segment that."
        )
    if "S" in axes:  # the file says colour (else: the shape check says why)
        return pixels, True if pixels.shape[-1] in (3, 4) else None
    return pixels, False  # greyscale pages: 3 or 4 of them are planes, not colours


def _samples_last(pixels: np.ndarray, axes: str) -> np.ndarray:
    """A series' pixels with its samples axis (``S``: colour channels) last."""
    return np.moveaxis(pixels, axes.index("S"), -1) if "S" in axes else pixels


def _read_pillow(file: Any, path: Path) -> np.ndarray:
    mode = file.metadata(index=0).get("mode")
    convert = "RGB" if mode in _CONVERT_TO_RGB else "L" if mode in _GREY_ALPHA else None
    props = file.properties(index=0)
    shape = (*props.shape[:2], len(convert)) if convert else tuple(props.shape)
    _check_fits(shape, props.dtype, path)
    return np.asarray(file.read(index=0, mode=convert, rotate=True))


def _check_fits(shape: tuple[int, ...], dtype: Any, path: Path) -> None:
    """Refuse, before decoding, pixels that alone exceed the available memory."""
    need = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    available = available_bytes()
    if available is not None and need > available:
        raise InsufficientMemoryError(
            f"{path} holds {'x'.join(map(str, shape))} pixels ({format_bytes(need)} decoded); "
            f"only {format_bytes(available)} of memory is available."
        )
