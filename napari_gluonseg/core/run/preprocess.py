"""Checking image data and turning it into network input, as the reference workflow does.

Reference: gluoncv ``ToTensor`` (HWC uint8 -> CHW float in [0, 1]) then ``Normalize`` with the
ImageNet mean/std. Other inputs are first brought to [0, 1]:

- uint8: / 255; uint16: / 65535 (the type's full range, so brightness means the same across images);
- float in [0, 1]: as is;
- any other float or integer range (int16, float images in counts, ...): min-max per plane;
- with an intensity range (lo, hi), for any dtype: lo -> 0, hi -> 1, clipped (what a viewer's
  contrast limits show); a range float32 cannot scale by (a span past 3.4e38) is refused.

Byte order does not matter (big-endian data is read as its values).

Channels: RGB as is, RGBA drops alpha, greyscale is replicated to three channels. Leading axes
(time, z, ...) are a stack of planes, processed one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..checks import optional_flag, shown, value_range
from ..errors import ImageError, OptionError
from ..models.registry import IMAGENET_MEAN, IMAGENET_STD
from .resize import axis_weights, resize_rows

MIN_SIDE = 16  # below this the network's stride-8 feature map has under 2x2 cells
# What float32, the network's input, can scale by (Python floats: no numpy casts to warn).
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)


@dataclass(frozen=True)
class ImageStack:
    """Validated image data seen as a stack of 2D planes.

    ``data`` is the caller's array (numpy, dask, zarr...); planes are read lazily, one at a time.
    ``spatial_shape`` is the labels' shape: leading axes + (height, width).
    """

    data: Any
    rgb: bool
    intensity_range: tuple[float, float] | None = None

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[:-1] if self.rgb else self.data.shape)

    @property
    def plane_shape(self) -> tuple[int, int]:
        h, w = self.spatial_shape[-2:]
        return int(h), int(w)

    @property
    def leading_shape(self) -> tuple[int, ...]:
        return self.spatial_shape[:-2]

    @property
    def n_planes(self) -> int:
        return int(np.prod(self.leading_shape, dtype=np.int64))

    def plane_index(self, i: int) -> tuple[int, ...]:
        if not self.leading_shape:
            return ()
        return tuple(int(j) for j in np.unravel_index(i, self.leading_shape))

    def plane_rgb01(self, i: int) -> np.ndarray:
        """Plane ``i`` as float32 (H, W, 3) in [0, 1]."""
        plane = self._raw_plane(i)
        return self._to_unit_range(plane, self._value_range(plane))

    def plane_chw01(self, i: int, out_h: int, out_w: int) -> np.ndarray:
        """Plane ``i`` as float32 (3, out_h, out_w) in [0, 1], bilinearly resized.

        Only the source rows the resize reads are converted to float, so shrinking a 12 MP photo
        never makes a float copy of all of it.
        """
        plane = self._raw_plane(i)
        values = self._value_range(plane)
        lo, hi, wy = axis_weights(plane.shape[0], out_h, 0, out_h)
        needed, inverse = np.unique(np.concatenate([lo, hi]), return_inverse=True)
        rows = plane if len(needed) == plane.shape[0] else plane[needed]
        chw = to_chw(self._to_unit_range(rows, values))
        if (out_h, out_w) == tuple(plane.shape[:2]):
            return chw
        row_weights = (inverse[: len(lo)], inverse[len(lo) :], wy)
        return resize_rows(chw, out_h, out_w, 0, out_h, row_weights=row_weights)

    def _raw_plane(self, i: int) -> np.ndarray:
        """Plane ``i`` as (H, W, 3) of the caller's dtype (a view where possible), checked."""
        index = self.plane_index(i)
        where = f" (plane {index})" if index else ""
        plane = self.data[index]
        if hasattr(plane, "compute"):  # dask: np.asarray would drop a masked array's mask
            plane = plane.compute()
        if isinstance(plane, np.ma.MaskedArray):  # a lazy masked array shows its mask only now
            plane = _unmasked(plane, where)
        plane = np.asarray(plane)
        if not plane.dtype.isnative:  # big-endian data: the same values in native order
            plane = plane.astype(plane.dtype.newbyteorder("="))
        if plane.dtype.kind == "f" and not np.isfinite(plane).all():
            raise ImageError(
                f"The image contains NaN or infinite values{where}; replace them with the "
                "values they should have (e.g. np.nan_to_num(image))."
            )
        # RGBA: alpha is not an input of the network; greyscale is replicated.
        return plane[..., :3] if self.rgb else np.broadcast_to(plane[..., None], (*plane.shape, 3))

    def _value_range(self, plane: np.ndarray) -> tuple[float, float]:
        """The values that map to 0 and 1 (see the module docstring)."""
        if self.intensity_range is not None:
            return self.intensity_range
        if plane.dtype == np.uint8:
            return 0.0, 255.0
        if plane.dtype == np.uint16:
            return 0.0, 65535.0
        lo, hi = float(plane.min()), float(plane.max())
        if plane.dtype.kind == "f" and lo >= 0.0 and hi <= 1.0:
            return 0.0, 1.0
        return lo, hi

    def _to_unit_range(self, plane: np.ndarray, values: tuple[float, float]) -> np.ndarray:
        lo, hi = values
        if hi == lo:
            return np.zeros(plane.shape, np.float32)
        window = self.intensity_range is not None
        if (lo, hi) == (0.0, 1.0) and not window:
            return plane.astype(np.float32)
        # float32 holds 8- and 16-bit values exactly; wider types are scaled in float64.
        out: np.ndarray = plane.astype(
            np.float32 if plane.dtype in (np.uint8, np.uint16) else np.float64
        )
        if not np.isfinite(hi - lo):  # values near float64's limits: halved (exactly), the
            out *= 0.5  # shift and the span stay finite
            lo, hi = lo * 0.5, hi * 0.5
        if lo:
            out -= lo
        out /= hi - lo
        if window:  # values outside the window are as dark or as bright as its ends
            np.clip(out, 0.0, 1.0, out=out)
        return out.astype(np.float32, copy=False)


def _unmasked(data: np.ma.MaskedArray, where: str = "") -> np.ndarray:
    """The data of a masked array with nothing masked; a masked value has no pixel for the
    network to see, and filling it silently would move the intensity scaling."""
    masked = int(np.ma.count_masked(data))
    if masked:
        raise ImageError(
            f"The image is a masked array with {masked} masked value(s){where}: the network "
            "needs a value at every pixel. Pass data.filled(value) with the value they should "
            "have, or the array without its mask."
        )
    return np.asarray(data.data)


def as_image_stack(
    data: Any, rgb: bool | None = None, intensity_range: tuple[float, float] | None = None
) -> ImageStack:
    """Check ``data`` and describe it as a stack of planes.

    Parameters
    ----------
    data : array-like
        (..., H, W) greyscale or (..., H, W, 3|4) RGB(A). numpy, dask or anything with
        ``shape``, ``dtype`` and numpy indexing.
    rgb : bool, optional
        Whether the last axis holds colour channels; ``None`` guesses like napari does
        (a last axis of 3 or 4 on a 3D+ array).
    intensity_range : (float, float), optional
        Values mapped to 0 and 1 (clipped) for the network; ``None``: by dtype (module docs).
    """
    rgb = optional_flag(rgb, "rgb")
    intensity_range = _intensity_window(intensity_range)
    if isinstance(data, (list, tuple)) and data and hasattr(data[0], "shape"):
        data = data[0]  # multiscale: the full-resolution level
    if not (hasattr(data, "shape") and hasattr(data, "dtype")):
        data = np.asarray(data)
    if isinstance(data, np.ma.MaskedArray):
        data = _unmasked(data)
    _check_dtype(np.dtype(data.dtype))
    shape = tuple(int(s) for s in data.shape)
    guessed = rgb is None
    if guessed:
        _refuse_channels_first(shape)
        rgb = len(shape) >= 3 and shape[-1] in (3, 4)
    if rgb and (len(shape) < 3 or shape[-1] not in (3, 4)):
        raise ImageError(_channels_message(shape))
    spatial = shape[:-1] if rgb else shape
    if len(spatial) < 2:
        raise ImageError(f"Need a 2D image (or a stack of them); got shape {shape}.")
    if 0 in shape:
        raise ImageError(f"The image is empty (shape {shape}).")
    if min(spatial[-2:]) < MIN_SIDE:
        if guessed and len(shape) >= 3 and shape[-1] in (1, 2, 5):
            raise ImageError(_channels_message(shape))  # (H, W, 2): channels, not 2-pixel planes
        told = (
            " (rgb=False: its last axis is a side, not colour)"
            if not rgb and len(shape) >= 3 and shape[-1] in (3, 4)
            else ""
        )
        raise ImageError(
            f"The image is {spatial[-2]}x{spatial[-1]} pixels{told}; the network needs at least "
            f"{MIN_SIDE}x{MIN_SIDE}."
        )
    return ImageStack(data=data, rgb=bool(rgb), intensity_range=intensity_range)


def _intensity_window(value: Any) -> tuple[float, float] | None:
    """``intensity_range`` checked (:func:`value_range`), and within what float32, the
    network's input, can scale by: a range past it gave a black or a NaN input, whose scores
    were then blamed on the weights."""
    window = value_range(value, "intensity_range")
    if window is None:
        return None
    lo, hi = window
    span = hi - lo
    if max(abs(lo), abs(hi)) > _FLOAT32_MAX:
        why = f"its ends reach past +-{_FLOAT32_MAX:.3g}, the largest float32"
    elif span > _FLOAT32_MAX:
        why = f"its span, {span:g}, is past {_FLOAT32_MAX:.3g}, the largest float32"
    elif span < _FLOAT32_TINY:
        why = f"its span, {span:g}, is below {_FLOAT32_TINY:.3g}, the smallest normal float32"
    else:
        return window
    raise OptionError(
        f"intensity_range {shown(window)} cannot scale the network's input (float32): {why}. "
        "Give the values the image's darkest and brightest pixels should map to."
    )


def _check_dtype(dtype: np.dtype) -> None:
    if dtype.kind == "b":
        raise ImageError("The image is boolean (a mask?); segmentation needs an intensity image.")
    if dtype.kind == "c":
        raise ImageError("The image is complex-valued; take its magnitude or real part first.")
    if dtype.kind not in "uif":
        raise ImageError(f"Image data of type {dtype} is not numeric.")


def _refuse_channels_first(shape: tuple[int, ...]) -> None:
    """A (3|4, H, W) array is most likely one colour image stored channels first."""
    if len(shape) == 3 and shape[0] in (3, 4) and shape[-1] not in (3, 4) and min(shape[1:]) > 4:
        raise ImageError(
            f"The image has shape {shape}: its first axis looks like {shape[0]} colour channels "
            "(channels first). For a colour image pass np.moveaxis(image, 0, -1) (channels "
            f"last); for a stack of {shape[0]} greyscale planes pass rgb=False."
        )


def _channels_message(shape: tuple[int, ...]) -> str:
    if len(shape) < 3:
        return f"An RGB image needs a last axis of 3 or 4 channels; got shape {shape}."
    n = shape[-1]
    return (
        f"The image's last axis has {n} channel{'s' if n != 1 else ''}; RGB needs 3 or 4 "
        f"(shape {shape}). Pass one channel (image[..., k]) as greyscale, or the three "
        "channels to show as RGB."
    )


def to_chw(rgb01: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> contiguous (3, H, W) float32 (gluoncv ToTensor's layout)."""
    return np.ascontiguousarray(rgb01.transpose(2, 0, 1), dtype=np.float32)


def normalize(chw01: np.ndarray) -> np.ndarray:
    """(3, H, W) in [0, 1] -> (1, 3, H, W) float32 with ImageNet mean/std (gluoncv Normalize)."""
    out = (chw01 - IMAGENET_MEAN[:, None, None]) / IMAGENET_STD[:, None, None]
    return out.astype(np.float32, copy=False)[None]


def normalize_inplace(chw01: np.ndarray) -> np.ndarray:
    """:func:`normalize` overwriting ``chw01`` (float32), for large planes; same values."""
    chw01 -= IMAGENET_MEAN[:, None, None]
    chw01 /= IMAGENET_STD[:, None, None]
    return chw01[None]
