"""The built model's file bytes, joined from pieces: the same model protobuf's own encoding
gives (protobuf's ``SerializeToString`` would hold the GIL for the whole ~130 MB: a stall of
napari's GUI while a run prepares its network)."""

import numpy as np
import onnx
from onnx import ModelProto, numpy_helper

from napari_gluonseg.core.models import untrained
from napari_gluonseg.core.models.onnx_build import build_model
from napari_gluonseg.core.models.onnx_build.wire import varint

from ....conftest import MODEL


def test_the_joined_bytes_are_the_model_protobuf_encodes_weights_included():
    built = build_model(MODEL, untrained.untrained_params(MODEL), 150, {"gluonseg.model": MODEL})
    expected = ModelProto()
    expected.CopyFrom(built.head)
    expected.graph.initializer.extend(numpy_helper.from_array(a, n) for n, a in built.weights)
    assert len(built.weights) > 50 and max(a.nbytes for _, a in built.weights) > 2**21

    data = built.to_bytes()

    assert ModelProto.FromString(data) == expected
    assert len(data) == len(expected.SerializeToString())
    onnx.checker.check_model(ModelProto.FromString(data))


def test_weights_of_every_kind_and_size_keep_their_values():
    built = build_model(MODEL, untrained.untrained_params(MODEL), 150, {})
    odd = [
        ("empty", np.zeros((0, 3), np.float32)),
        ("scalar", np.array(2.5, np.float32)),
        ("sizes", np.array([7, -1], np.int64)),
        ("big_endian", np.arange(6, dtype=">f4").reshape(2, 3)),
        ("strided", np.arange(40, dtype=np.float32).reshape(5, 8)[:, ::2]),
    ]
    built.weights.extend(odd)
    tensors = ModelProto.FromString(built.to_bytes()).graph.initializer
    loaded = {t.name: numpy_helper.to_array(t) for t in tensors}
    for name, array in odd:
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].shape == array.shape


def test_varint_is_protobufs():
    from google.protobuf.internal.encoder import _VarintBytes

    for n in (0, 1, 127, 128, 300, 2**21, 2**28 + 5, 2**35):
        assert varint(n) == _VarintBytes(n)
