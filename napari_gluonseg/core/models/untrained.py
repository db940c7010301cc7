"""Untrained weights of a zoo model's real architecture, made without MXNet.

For tests, screenshots and benchmarks only: a network with these weights gives noise, never a
segmentation, and everything that shows its output says so. The names and shapes of each
model's arrays come from ``param_shapes.json.gz`` (generated from GluonCV by
``scripts/gen_param_shapes.py``); the values follow gluon's initialisation: Xavier (uniform,
magnitude 3, fan average) for weights, zero biases, BatchNorm at its defaults (gamma 1, beta 0,
mean 0, var 1). ``perturb_norms`` moves the BatchNorm statistics and biases off those defaults,
so that a comparison on them can catch a BatchNorm or epsilon mistake.
"""

from __future__ import annotations

import gzip
import json
import os
from functools import cache
from importlib import resources

import numpy as np

from .params_file import write_params
from .registry import model_info


@cache
def _shapes() -> dict[str, list[list]]:
    data = (
        resources.files("napari_gluonseg.core.models").joinpath("param_shapes.json.gz").read_bytes()
    )
    return json.loads(gzip.decompress(data))


def param_shapes(model_name: str) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every array in ``model_name``'s ``.params`` file, in file order."""
    model_info(model_name)  # unknown names fail here, with the list of valid ones
    return {name: tuple(shape) for name, shape in _shapes()[model_name]}


def untrained_params(
    model_name: str, seed: int = 0, perturb_norms: bool = False
) -> dict[str, np.ndarray]:
    """Random weights of ``model_name``'s architecture (see the module docstring)."""
    rng = np.random.default_rng(seed)
    params: dict[str, np.ndarray] = {}
    for name, shape in param_shapes(model_name).items():
        kind = name.rsplit(".", 1)[-1]
        if kind == "weight" and len(shape) > 1:
            fan_in = int(np.prod(shape[1:]))
            fan_out = shape[0] * int(np.prod(shape[2:]))
            bound = np.sqrt(3.0 / ((fan_in + fan_out) / 2))
            value = rng.uniform(-bound, bound, shape)
        elif kind in ("gamma", "running_var") or (kind == "weight" and len(shape) == 1):
            value = rng.uniform(0.5, 1.5, shape) if perturb_norms else np.ones(shape)
        else:  # biases, beta, running_mean
            value = rng.normal(0, 0.1, shape) if perturb_norms else np.zeros(shape)
        params[name] = value.astype(np.float32)
    return params


def save_untrained(
    model_name: str, path: str | os.PathLike, seed: int = 0, perturb_norms: bool = False
) -> None:
    """Write :func:`untrained_params` as an MXNet ``.params`` file at ``path``."""
    write_params(path, untrained_params(model_name, seed, perturb_norms))
