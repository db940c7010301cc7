"""Regenerate napari_gluonseg/core/models/param_shapes.json.gz: the name and shape of every array in
each zoo model's ``.params`` file, read from GluonCV's own networks (needs the ``[mxnet]``
extra).

Untrained weights of the real architecture (tests, screenshots, benchmarks) are made from it
without MXNet (:mod:`~napari_gluonseg.core.models.untrained`); tests/core/models/test_untrained.py
checks the file still equals what gluoncv builds.

    .venv/bin/python scripts/gen_param_shapes.py [MODEL ...]   # default: every model
"""

import gzip
import json
import sys
from pathlib import Path

from napari_gluonseg.core.models.engines.mxnet import build_untrained
from napari_gluonseg.core.models.registry import model_names

OUT = (
    Path(__file__).resolve().parents[1]
    / "napari_gluonseg"
    / "core"
    / "models"
    / "param_shapes.json.gz"
)


def param_shapes(model_name: str) -> list[list]:
    """[[name, shape], ...] in the order ``save_parameters`` writes them."""
    net = build_untrained(model_name, 64, 64)
    params = net._collect_params_with_prefix()
    return [[name, list(p.shape)] for name, p in params.items()]


def main() -> None:
    """Every model's arrays; or, given model names, theirs added to (or replaced in) the file."""
    names = sys.argv[1:] or model_names()
    table = json.loads(gzip.decompress(OUT.read_bytes())) if sys.argv[1:] and OUT.is_file() else {}
    table.update({name: param_shapes(name) for name in names})
    text = json.dumps(table, separators=(",", ":"))
    OUT.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(table)} models, {len(names)} counted)")


if __name__ == "__main__":
    main()
