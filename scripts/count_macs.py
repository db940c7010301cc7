"""Count each registry model's multiply-accumulates, for the run-time estimate (the model card's
GMAC columns, which ``scripts/gen_card.py`` writes with :func:`gmac_coefficients`).

Walks the network's symbol at two input sizes and adds up Convolution, FullyConnected and
batch_dot (DANet's attention, quadratic in the pixels) work; prints ``name: (linear GMAC per
megapixel, quadratic GMAC per megapixel squared)``.
"""

import json
import sys
import warnings

import numpy as np

from napari_gluonseg.core.models import _mxnet
from napari_gluonseg.core.models.registry import model_names

SIDES = (256, 512)  # square inputs, multiples of every model's size multiple


def count_macs(model_name: str, side: int) -> float:
    """Multiply-accumulates of one forward pass of a (1, 3, side, side) input."""
    gcv, mx = _mxnet.gluoncv(), _mxnet.mxnet()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = gcv.model_zoo.get_model(
            model_name, pretrained=False, pretrained_base=False, height=side, width=side
        )
    if hasattr(net, "aux"):
        net.aux = False
    out = net(mx.sym.var("data"))
    sym = out[0] if isinstance(out, (tuple, list)) else out
    internals = sym.get_internals()
    _, shapes, _ = internals.infer_shape_partial(data=(1, 3, side, side))
    shape_of = dict(zip(internals.list_outputs(), shapes, strict=True))
    graph = json.loads(sym.tojson())
    nodes = graph["nodes"]
    total = 0.0
    for node in nodes:
        op, attrs = node["op"], node.get("attrs", {})
        out_shape = shape_of.get(node["name"] + "_output")
        if out_shape is None:
            continue
        in_shape = shape_of.get(_output_name(nodes, node["inputs"][0]))
        if op == "Convolution":
            kernel = np.prod(eval(attrs["kernel"]))  # "(3, 3)"
            groups = int(attrs.get("num_group", 1))
            total += np.prod(out_shape) * in_shape[1] / groups * kernel
        elif op == "FullyConnected":
            total += np.prod(out_shape) * in_shape[-1]
        elif op == "batch_dot":
            transpose_a = attrs.get("transpose_a", "False") == "True"
            total += np.prod(out_shape) * in_shape[1 if transpose_a else 2]
    return float(total)


def _output_name(nodes: list, entry: list) -> str:
    node = nodes[entry[0]]
    return node["name"] if node["op"] == "null" else node["name"] + "_output"


def gmac_coefficients(model_name: str) -> tuple[float, float]:
    """(a, b), rounded: GMAC = a * p + b * p^2 for p megapixels, through both counted sizes."""
    (s1, s2) = SIDES
    m1, m2 = count_macs(model_name, s1) / 1e9, count_macs(model_name, s2) / 1e9
    p1, p2 = s1 * s1 / 1e6, s2 * s2 / 1e6
    b = max(0.0, (m2 / p2 - m1 / p1) / (p2 - p1))
    a = m1 / p1 - b * p1
    return float(round(a)), float(round(b))


def main() -> None:
    for name in sys.argv[1:] or model_names():
        a, b = gmac_coefficients(name)
        print(f"{name}: ({a:.0f}, {b:.0f})", flush=True)


if __name__ == "__main__":
    main()
