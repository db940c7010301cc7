"""MXNet's .params format read and written without MXNet; damaged files refused by name."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_gluonseg import WeightsError
from napari_gluonseg.core.models.params_file import read_params, read_weights, write_params

from ...conftest import needs_mxnet

ARRAYS = {
    "conv.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2),
    "bn.running_var": np.array([1.5, 2.0], np.float32),
    "half": np.array([0.5, -1], np.float16),
    "counts": np.array([[1, 2, 3]], np.int64),
}


def test_round_trip_keeps_names_order_dtypes_and_values(tmp_path):
    path = tmp_path / "w.params"
    write_params(path, ARRAYS)
    back = read_params(path)
    assert list(back) == list(ARRAYS)
    for name, value in ARRAYS.items():
        assert back[name].dtype == value.dtype
        np.testing.assert_array_equal(back[name], value)


def _legacy_file(value: np.ndarray, magic: int | None) -> bytes:
    """One float32 array in MXNet's older layouts: v1 (magic 0xF993FAC8, int64 dims) or the
    legacy one (no magic, ndim then uint32 dims)."""
    head = struct.pack("<QQQ", 0x112, 0, 1)
    if magic is None:
        shape = struct.pack(f"<I{value.ndim}I", value.ndim, *value.shape)
    else:
        shape = struct.pack(f"<Ii{value.ndim}q", magic, value.ndim, *value.shape)
    body = shape + struct.pack("<iii", 1, 0, 0) + value.tobytes()
    name = b"w"
    return head + body + struct.pack("<QQ", 1, len(name)) + name


@pytest.mark.parametrize("magic", [0xF993FAC8, None], ids=["v1", "legacy"])
def test_older_layouts_are_read(tmp_path, magic):
    value = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = tmp_path / "old.params"
    path.write_bytes(_legacy_file(value, magic))
    np.testing.assert_array_equal(read_params(path)["w"], value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_parameters_are_refused_by_name(tmp_path, bad):
    path = tmp_path / "diverged.params"
    arrays = dict(ARRAYS)
    arrays["bn.running_var"] = np.array([1.0, bad], np.float32)
    write_params(path, arrays)
    with pytest.raises(WeightsError, match=r"NaN or infinite values in 1 parameter\(s\): bn\.run"):
        read_params(path)


@pytest.mark.parametrize(
    ("cut", "message"),
    [(10, "while reading the header"), (100, "while reading array"), (-3, "while reading name")],
)
def test_a_truncated_file_says_where_it_ends(tmp_path, cut, message):
    path = tmp_path / "w.params"
    write_params(path, ARRAYS)
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(WeightsError, match=message) as caught:
        read_params(path)
    assert str(path) in str(caught.value) and "not a complete MXNet .params" in str(caught.value)


def test_a_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "photo.params"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    with pytest.raises(WeightsError, match=f"{path}: it is not a readable MXNet .params file"):
        read_params(path)


def test_sparse_arrays_are_refused(tmp_path):
    path = tmp_path / "sparse.params"
    path.write_bytes(struct.pack("<QQQIi", 0x112, 0, 1, 0xF993FAC9, 1) + bytes(32))
    with pytest.raises(WeightsError, match="array 0 is stored sparse"):
        read_params(path)


@needs_mxnet
def test_mxnet_reads_what_we_write_and_we_read_what_it_writes(tmp_path):
    from napari_gluonseg.core.models import _mxnet

    mx = _mxnet.mxnet()
    ours = tmp_path / "ours.params"
    write_params(ours, ARRAYS)
    loaded = mx.nd.load(str(ours))
    assert list(loaded) == list(ARRAYS)
    for name, value in ARRAYS.items():
        np.testing.assert_array_equal(loaded[name].asnumpy(), value)
    theirs = tmp_path / "theirs.params"
    mx.nd.save(str(theirs), {k: mx.nd.array(v, dtype=v.dtype) for k, v in ARRAYS.items()})
    back = read_params(theirs)
    for name, value in ARRAYS.items():
        np.testing.assert_array_equal(back[name], value)


def _one_array_file(dims: tuple[int, ...], data: bytes, legacy: bool = False) -> bytes:
    """One float32 array whose header claims ``dims`` followed by ``data``, named "w"."""
    if legacy:  # ndim then uint32 dims
        shape = struct.pack(f"<I{len(dims)}I", len(dims), *dims)
    else:  # v2: magic, dense, ndim, int64 dims
        shape = struct.pack(f"<Iii{len(dims)}q", 0xF993FAC9, 0, len(dims), *dims)
    body = shape + struct.pack("<iii", 1, 0, 0) + data
    return struct.pack("<QQQ", 0x112, 0, 1) + body + struct.pack("<QQ", 1, 1) + b"w"


@pytest.mark.parametrize(
    "dims",
    [(2**32, 2**32), (2**62, 4), (-1, 3), (3, -2), (2**31, 2**31, 2**2)],
    ids=["wraps-to-0", "wraps-int64", "negative", "negative-last", "huge"],
)
def test_impossible_shapes_are_refused_naming_the_file_and_the_array(tmp_path, dims):
    """np.prod of (2^32, 2^32) wraps to 0: unchecked, the file reads as an empty array,
    then reshape raises numpy's own ValueError."""
    path = tmp_path / "huge.params"
    path.write_bytes(_one_array_file(dims, bytes(64)))
    with pytest.raises(WeightsError, match="array 0") as caught:
        read_params(path)
    assert str(path) in str(caught.value) and "x".join(map(str, dims)) in str(caught.value)


@settings(max_examples=40, deadline=None)
@given(
    dims=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=5),
    data_len=st.integers(0, 96),
    legacy=st.booleans(),
)
def test_any_claimed_shape_is_read_or_refused_by_name(tmp_path_factory, dims, data_len, legacy):
    if legacy:
        dims = [d % 2**32 for d in dims]  # the legacy layout's dims are uint32
    path = tmp_path_factory.mktemp("h") / "claimed.params"
    path.write_bytes(_one_array_file(tuple(dims), bytes(data_len), legacy))
    try:
        arrays = read_params(path)
    except WeightsError as exc:
        assert str(path) in str(exc)
    else:
        assert arrays["w"].shape == tuple(dims) and 4 * arrays["w"].size <= data_len


def test_duplicate_names_are_refused_naming_the_file_and_the_name(tmp_path):
    """A name given twice is refused, not won by its last array: such a file is not weights."""
    path = tmp_path / "twice.params"
    write_params(
        path, {"conv.weight": np.ones(2, np.float32), "conv.weighT": np.zeros(2, np.float32)}
    )
    path.write_bytes(path.read_bytes().replace(b"conv.weighT", b"conv.weight"))
    with pytest.raises(WeightsError, match=r"'conv\.weight' appears 2 times") as caught:
        read_params(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.int64, np.int8])
def test_weights_of_an_integer_type_are_refused_naming_file_array_and_type(tmp_path, dtype):
    path = tmp_path / "ints.params"
    arrays = {"conv.weight": np.ones((2, 3), np.float32), "bn.gamma": np.ones(2, dtype)}
    write_params(path, arrays)
    assert read_params(path)["bn.gamma"].dtype == dtype  # a file of arrays may hold any type
    with pytest.raises(WeightsError, match=rf"bn\.gamma \({np.dtype(dtype).name}\)") as caught:
        read_weights(path)  # a network's weights may not
    assert str(path) in str(caught.value) and "other shapes" not in str(caught.value)


def test_weights_of_float_types_are_read(tmp_path):
    path = tmp_path / "floats.params"
    floats = {name: value for name, value in ARRAYS.items() if value.dtype.kind == "f"}
    write_params(path, floats)
    for name, value in read_weights(path).items():
        np.testing.assert_array_equal(value, floats[name])
