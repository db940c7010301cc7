"""Shared fixtures: untrained networks of the real architecture saved as .params files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from napari_gluonseg.core import network

DATA = Path(__file__).resolve().parent / "data"  # dog.jpg: the reference workflow's photo
MODEL = "fcn_resnet50_ade"
BICYCLE = 127  # 'bicycle, bike, wheel, cycle'


@pytest.fixture(autouse=True)
def _isolated_model_cache(tmp_path, monkeypatch):
    """No test reads or writes the user's ~/.mxnet, and no test reaches the internet."""
    monkeypatch.setenv("MXNET_HOME", str(tmp_path / "mxnet_home"))
    monkeypatch.setenv("MXNET_GLUON_REPO", "http://127.0.0.1:9/")  # discard port: refused


@pytest.fixture(scope="session")
def untrained_params(tmp_path_factory) -> Path:
    """fcn_resnet50_ade with random weights (pretrained=False, pretrained_base=False)."""
    path = tmp_path_factory.mktemp("weights") / "untrained_fcn_resnet50_ade.params"
    network.build_untrained(MODEL, 64, 64).save_parameters(str(path))
    return path


@pytest.fixture(scope="session")
def bicycle_params(tmp_path_factory) -> Path:
    """fcn_resnet50_ade whose head says 'bicycle' (class 127) everywhere, by construction."""
    net = network.build_untrained(MODEL, 64, 64)
    last = net.head.block[-1]  # the 1x1 conv producing the class logits
    last.weight.set_data(last.weight.data() * 0)
    bias = np.zeros(last.bias.shape, np.float32)
    bias[BICYCLE] = 10.0
    last.bias.set_data(bias)
    path = tmp_path_factory.mktemp("weights") / "bicycle_fcn_resnet50_ade.params"
    net.save_parameters(str(path))
    return path


@pytest.fixture(scope="session")
def dog() -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(DATA / "dog.jpg"))


@pytest.fixture(scope="session")
def small_dog(dog) -> np.ndarray:
    """dog.jpg at 1/8 size (72x96): fast forward passes."""
    return np.ascontiguousarray(dog[::8, ::8])


@pytest.fixture(scope="session")
def onnx_home(tmp_path_factory, untrained_params) -> Path:
    """An MXNET_HOME whose cache holds the dynamic ONNX export of ``untrained_params``, made
    once for the session (an export takes ~10 s). Tests that change the cache copy it."""
    from napari_gluonseg.core.engines import load_network
    from napari_gluonseg.core.weights import resolve_local_weights

    home = tmp_path_factory.mktemp("onnx_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MXNET_HOME", str(home))
        load_network("onnxruntime", MODEL, resolve_local_weights(untrained_params), 64, 64)
    return home


@pytest.fixture
def use_onnx_home(onnx_home, monkeypatch) -> Path:
    """This test's cache is the session's one with the export in it (read only)."""
    monkeypatch.setenv("MXNET_HOME", str(onnx_home))
    return onnx_home


@pytest.fixture(scope="session")
def exported_onnx(onnx_home, untrained_params) -> Path:
    """The session's dynamic export of ``untrained_params``: a portable model file."""
    return next((onnx_home / "models" / "onnx").glob("*.onnx"))


@pytest.fixture(scope="session")
def untrained_weights(tmp_path_factory):
    """``untrained_weights(model_name)``: a .params file of that model with random weights
    (pretrained=False, pretrained_base=False), built once per session."""
    made: dict[str, Path] = {}
    folder = tmp_path_factory.mktemp("untrained")

    def get(model_name: str) -> Path:
        if model_name not in made:
            path = folder / f"untrained_{model_name}.params"
            network.build_untrained(model_name, 64, 64).save_parameters(str(path))
            made[model_name] = path
        return made[model_name]

    return get
