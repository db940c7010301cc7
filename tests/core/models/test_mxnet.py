import builtins
import subprocess
import sys

import numpy as np

from napari_gluonseg.core.models import _mxnet

from ...conftest import needs_mxnet


@needs_mxnet
def test_numpy_aliases_restored_and_mxnet_imports():
    mx = _mxnet.mxnet()
    for name in ("bool", "int", "float", "complex", "object", "str"):
        assert np.__dict__[name] is getattr(builtins, name)
    assert mx.__version__ == "1.9.1"
    assert mx.nd.array([1, 2]).sum().asscalar() == 3


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_plugin_import_loads_neither_mxnet_nor_qt():
    mods = _modules_after("import napari_gluonseg, napari_gluonseg.layers.data")
    heavy = {m.split(".")[0] for m in mods} & {
        "mxnet",
        "gluoncv",
        "napari",
        "qtpy",
        "PyQt6",
        "PyQt5",
        "PySide6",
        "magicgui",
        "cv2",
    }
    assert heavy == set()


@needs_mxnet
def test_core_loads_no_qt_even_after_running_mxnet():
    code = "from napari_gluonseg.core.models import _mxnet; _mxnet.gluoncv()"
    mods = {m.split(".")[0] for m in _modules_after(code)}
    assert "gluoncv" in mods
    assert not mods & {"napari", "qtpy", "PyQt6", "PyQt5", "PySide6", "magicgui"}


def test_every_mxnet_import_goes_through_one_module():
    import pathlib

    root = pathlib.Path(_mxnet.__file__).parents[2]  # the whole package
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if p.name != "_mxnet.py"
        and any(
            line.lstrip().startswith(
                ("import mxnet", "from mxnet", "import gluoncv", "from gluoncv")
            )
            for line in p.read_text().splitlines()
        )
    ]
    assert offenders == []
