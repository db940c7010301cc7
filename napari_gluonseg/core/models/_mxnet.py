"""The one door to mxnet and gluoncv: every import of either goes through this module.

mxnet 1.9.1 (the last release) reads ``numpy.bool`` and friends, which numpy 1.24 removed. We put
the aliases back on the numpy module right before the first mxnet import, and import lazily so that
loading the plugin never pays for (or breaks on) mxnet. gluoncv's import also sets PIL's
process-wide ``LOAD_TRUNCATED_IMAGES`` (gluoncv/data/mhp.py); the door puts it back.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import sys
import threading
import warnings
from types import ModuleType
from typing import Any, TypeAlias

import numpy as np

# mxnet ships no type information: to mypy a gluon network is Any; the alias says what is meant.
HybridBlock: TypeAlias = Any

# Aliases removed in numpy 1.24 that mxnet 1.9.1 still reads.
_REMOVED_NUMPY_ALIASES = ("bool", "int", "float", "complex", "object", "str")

# Noisy but harmless warnings raised while mxnet/gluoncv import (distutils, NEP 32, scipy.sparse).
_IMPORT_WARNING_MODULES = r"(mxnet|gluoncv|scipy|distutils|setuptools)(\..*)?$"

_import_lock = threading.Lock()


def restore_numpy_aliases() -> None:
    """Put back ``numpy.bool`` etc. as the builtins they used to alias (idempotent)."""
    for name in _REMOVED_NUMPY_ALIASES:
        # `in __dict__`, not hasattr: hasattr triggers numpy 1.26's FutureWarning machinery.
        if name not in np.__dict__:
            setattr(np, name, getattr(builtins, name))


def _import(name: str) -> ModuleType:
    from PIL import ImageFile

    with _import_lock:
        restore_numpy_aliases()
        truncated_images = ImageFile.LOAD_TRUNCATED_IMAGES
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                warnings.filterwarnings(
                    "ignore", category=UserWarning, module=_IMPORT_WARNING_MODULES
                )
                return importlib.import_module(name)
        finally:
            # Otherwise every truncated PNG/JPEG in the process would read without error.
            ImageFile.LOAD_TRUNCATED_IMAGES = truncated_images


MISSING = (
    "MXNet is not installed, and needs Python 3.11 (mxnet 1.9.1, its last release, with "
    "numpy<2; Linux and Intel macOS): there it comes with the [mxnet] extra (pip install "
    "'napari-gluonseg[mxnet]'), which installs nothing on Python 3.12 and later. Without it "
    "every zoo model runs with engine='onnxruntime'."
)


def installed() -> bool:
    """mxnet and gluoncv are both installed (never imports them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("mxnet", "gluoncv"))


def mxnet() -> ModuleType:
    """Import and return ``mxnet``; without the ``[mxnet]`` extra, the package's error."""
    if not installed():
        from ..errors import EngineError

        raise EngineError(MISSING)
    return _import("mxnet")


def gluoncv() -> ModuleType:
    """Import and return ``gluoncv`` (imports mxnet first, through this module)."""
    mxnet()
    return _import("gluoncv")


def gluoncv_module(name: str) -> ModuleType:
    """Import a gluoncv submodule, e.g. ``"gluoncv.model_zoo.model_store"``."""
    gluoncv()
    return _import(name)


def set_omp_threads(threads: int) -> None:
    """Set the OpenMP threads of mxnet's operators for this process (MXSetNumOMPThreads)."""
    import ctypes

    mx = mxnet()
    mx.base.check_call(mx.base._LIB.MXSetNumOMPThreads(ctypes.c_int(threads)))


def loaded_error_types() -> tuple[type[Exception], ...]:
    """mxnet's error class where mxnet is imported already, else none (never imports it)."""
    mx = sys.modules.get("mxnet")
    return (mx.base.MXNetError,) if mx is not None else ()
