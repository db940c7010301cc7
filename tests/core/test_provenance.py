"""The provenance record's keys in one place, and its readers."""

from napari_gluonseg.core import provenance
from napari_gluonseg.core.provenance import weights_note


def test_no_two_keys_share_a_name():
    keys = [v for k, v in vars(provenance).items() if k.isupper() and isinstance(v, str)]
    assert len(keys) == len(set(keys)) >= 10


def test_the_weights_note_vouches_only_for_the_zoo():
    zoo = {"weights": "/m/fcn_resnet50_ade-3479525a.params", "weights_source": "zoo"}
    assert (
        weights_note(zoo)
        == "weights: GluonCV model zoo, pretrained (fcn_resnet50_ade-3479525a.params)"
    )
    local = {"weights": "/x/mine.params", "weights_source": "local", "weights_sha1": "0123456789ab"}
    assert weights_note(local) == (
        "weights: local file mine.params (sha1 01234567), not the zoo's pretrained weights"
    )
    learned = {**local, "weights": "/x/street.onnx", "model": "/x/street.onnx"}
    assert weights_note(learned) == (
        "weights: learned model street.onnx (sha1 01234567), learned from your corrections"
    )
