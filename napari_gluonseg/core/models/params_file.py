"""MXNet's ``.params`` file (``mx.nd.save`` / ``net.save_parameters``) read and written in numpy.

The layout is mxnet 1.x's ``NDArray::Save`` (``src/ndarray/ndarray.cc``), little-endian: a list
header (uint64 0x112, uint64 0), the array count (uint64), each array, then the names (uint64
count, each uint64 length + UTF-8 bytes). An array starts with a uint32 magic: 0xF993FAC9 (v2,
then int32 storage type, 0 = dense), 0xF993FACA (v3, numpy shapes, as v2), 0xF993FAC8 (v1);
anything else is the legacy layout, where that word is ``ndim`` and the dims are uint32. Then the
shape (uint32 ndim + int64 dims), the device (int32 type, int32 id), an int32 dtype flag and the
raw data. Reading needs no mxnet, so the zoo's weights run on any Python numpy runs on.

A file holding NaN or infinite parameters is refused by name: MXNet's relu would turn them into
a uniform, silently wrong output.
"""

from __future__ import annotations

import math
import os
import struct
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import WeightsError

_LIST_MAGIC = 0x112
_V1_MAGIC = 0xF993FAC8
_V2_MAGIC = 0xF993FAC9
_V3_MAGIC = 0xF993FACA
_DENSE = 0
_CPU = 1
# mxnet's dtype flags (mshadow::TypeFlag).
_DTYPES: dict[int, np.dtype] = {
    0: np.dtype("<f4"),
    1: np.dtype("<f8"),
    2: np.dtype("<f2"),
    3: np.dtype("u1"),
    4: np.dtype("<i4"),
    5: np.dtype("i1"),
    6: np.dtype("<i8"),
}
_FLAGS = {dtype: flag for flag, dtype in _DTYPES.items()}


class _Reader:
    """Sequential little-endian reads that say where a file ends too early."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.at = 0
        self.path = path

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.at + n > len(self.data):
            raise WeightsError(
                f"Cannot load weights file {self.path}: it is not a complete MXNet .params "
                f"file: it ends at byte "
                f"{len(self.data)} while reading {what} (truncated or not a weights file)."
            )
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))


def read_params(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The named arrays of an MXNet ``.params`` file, as numpy arrays (float32 stays float32).

    Raises :class:`WeightsError` naming the file for anything that is not a complete file of
    named dense arrays, and naming the arrays that hold NaN or infinite values.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise WeightsError(f"Cannot read weights file {p}: {exc}") from exc
    r = _Reader(data, p)
    magic, _reserved = r.unpack("QQ", "the header")
    if magic != _LIST_MAGIC:
        raise WeightsError(
            f"Cannot load weights file {p}: it is not a readable MXNet .params file (it starts "
            f"with {data[:8]!r}, not the NDArray list header): give a .params file saved by "
            "gluon (net.save_parameters)."
        )
    (count,) = r.unpack("Q", "the array count")
    arrays = [_read_array(r, k) for k in range(count)]
    (name_count,) = r.unpack("Q", "the name count")
    if name_count != count:
        raise WeightsError(
            f"{p} holds {count} arrays but {name_count} names: a weights file of a network "
            "names every array (net.save_parameters)."
        )
    names = []
    for k in range(name_count):
        (length,) = r.unpack("Q", f"name {k}")
        names.append(r.take(length, f"name {k}").decode("utf-8", errors="replace"))
    _refuse_repeated(names, p)
    params = dict(zip(names, arrays, strict=True))
    _check_finite(params, p)
    return params


def _refuse_repeated(names: list[str], path: Path) -> None:
    """Two arrays of one name: ``dict`` (and ``mx.nd.load``) would keep the last, silently."""
    counts = Counter(names)
    repeated = [f"{name!r} appears {n} times" for name, n in counts.items() if n > 1]
    if repeated:
        raise WeightsError(
            f"Cannot load weights file {path}: the array name {_listed(repeated)}; which of "
            "them the network should take is unknown (the file is damaged or was not saved "
            "by gluon's net.save_parameters)."
        )


def _read_array(r: _Reader, k: int) -> np.ndarray:
    what = f"array {k}"
    (magic,) = r.unpack("I", what)
    if magic in (_V2_MAGIC, _V3_MAGIC):
        (stype,) = r.unpack("i", what)
        if stype != _DENSE:
            raise WeightsError(
                f"{r.path}: array {k} is stored sparse (storage type {stype}); "
                "segmentation weights are dense."
            )
        shape = _read_shape(r, what)
    elif magic == _V1_MAGIC:
        shape = _read_shape(r, what)
    else:  # legacy: the word read is ndim, the dims are uint32
        shape = r.unpack(f"{magic}I", what) if magic < 32 else _bad_array(r, k, magic)
    if len(shape) == 0:
        return np.zeros((0,), np.float32)
    _dev_type, _dev_id, flag = r.unpack("iii", what)
    dtype = _DTYPES.get(flag)
    if dtype is None:
        raise WeightsError(f"{r.path}: array {k} has an unknown data type (flag {flag}).")
    shown = "x".join(map(str, shape))
    # numpy refuses even an empty array whose other sides multiply past its index type.
    if min(shape) < 0 or math.prod(s for s in shape if s) * dtype.itemsize > sys.maxsize:
        raise WeightsError(
            f"Cannot load weights file {r.path}: array {k} claims the shape {shown}, which no "
            "array can have: the file is damaged or not an MXNet .params file."
        )
    # Python's integers: numpy's int64 product wraps (2^32 x 2^32 gave 0 bytes to read).
    nbytes = math.prod(shape) * dtype.itemsize
    raw = r.take(nbytes, f"{what} (shape {shown}, {dtype.name}: {nbytes} bytes)")
    return np.frombuffer(raw, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _read_shape(r: _Reader, what: str) -> tuple[int, ...]:
    (ndim,) = r.unpack("i", what)
    if ndim < 0:  # numpy-shape "unknown": an empty array
        return ()
    if ndim > 32:
        raise WeightsError(f"{r.path}: {what} claims {ndim} dimensions: not a weights file.")
    return tuple(r.unpack(f"{ndim}q", what))


def _bad_array(r: _Reader, k: int, magic: int) -> tuple[int, ...]:
    raise WeightsError(
        f"{r.path}: array {k} starts with 0x{magic:08X}, not an NDArray header: the file is "
        "damaged or not an MXNet .params file."
    )


def _check_finite(params: dict[str, np.ndarray], path: Path) -> None:
    bad = [
        name
        for name, a in params.items()
        if a.dtype.kind == "f" and a.size and not np.isfinite(a).all()
    ]
    if bad:
        raise WeightsError(
            f"{path} holds NaN or infinite values in {len(bad)} parameter(s): {_listed(bad)}. "
            "A network with them gives no meaningful output (MXNet would label every pixel "
            "the same); the file is corrupt or came from a diverged training run."
        )


def write_params(path: str | os.PathLike, params: dict[str, np.ndarray]) -> None:
    """Write named arrays in MXNet's ``.params`` format (v2, dense, on the CPU), as
    ``mx.nd.save`` does: ``net.load_parameters`` reads the file back."""
    parts = [struct.pack("<QQQ", _LIST_MAGIC, 0, len(params))]
    for name, value in params.items():
        a = np.asarray(value)
        flag = _FLAGS.get(a.dtype.newbyteorder("<"), _FLAGS.get(a.dtype))
        if flag is None:
            raise WeightsError(f"Cannot write {name}: dtype {a.dtype} has no MXNet equivalent.")
        parts.append(struct.pack("<Iii", _V2_MAGIC, _DENSE, a.ndim))
        parts.append(struct.pack(f"<{a.ndim}q", *a.shape))
        parts.append(struct.pack("<iii", _CPU, 0, flag))
        parts.append(np.ascontiguousarray(a, a.dtype.newbyteorder("<")).tobytes())
    parts.append(struct.pack("<Q", len(params)))
    for name in params:
        encoded = name.encode("utf-8")
        parts.append(struct.pack("<Q", len(encoded)) + encoded)
    Path(path).write_bytes(b"".join(parts))


def read_weights(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """The arrays of a network's weights file: :func:`read_params`, and every array floating
    point (what both engines load; an integer array would be cast to float silently).

    Raises :class:`WeightsError` naming the file, and the arrays of another type with theirs.
    """
    params = read_params(path)
    bad = [f"{name} ({a.dtype.name})" for name, a in params.items() if a.dtype.kind != "f"]
    if bad:
        raise WeightsError(
            f"Cannot load weights file {Path(path)}: it holds {len(bad)} array(s) of a "
            f"non-float data type: {_listed(bad)}. A network's weights are floating point; "
            "a network given these would label every pixel alike (a quantized or converted "
            "file?). Give the .params file saved by gluon (net.save_parameters)."
        )
    return params


def _listed(items: list[str]) -> str:
    """The first five items, and how many more."""
    return ", ".join(items[:5]) + (f" and {len(items) - 5} more" if len(items) > 5 else "")
