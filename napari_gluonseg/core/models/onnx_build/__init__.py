"""ONNX models built by the package itself from a GluonCV ``.params`` file, without MXNet.

Each family's module follows GluonCV's own definition layer by layer (its source is the spec)
and writes a graph that takes any batch, height and width: input ``data`` (N, 3, H, W) and
``out_size`` (int64 [2], the size the logits are resized to, align corners, as MXNet's
``BilinearResize2D``); output ``logits``. The auxiliary heads, which only training uses, are
left out. A file whose arrays do not fit the architecture is refused naming the array.

Each family ends in a 1x1 convolution, the final classifier (:mod:`.head`): a graph may give
its input instead (:func:`build_features_model`), or compute a learned head in its place
(``build_model(..., head=...)``), for learning from corrections (issue 32).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

import numpy as np

from ...errors import EngineError, WeightsError
from ..card import family_of, first_of_each_family, has_model
from .graph import FEATURES, INPUT, Graph
from .head import Head, final_classifier, replace_classifier
from .wire import BuiltModel

# (graph, input, classes) -> the main head's logits before the final resize.
Builder = Callable[[Graph, str, int], str]
# Parameters that only the training-time auxiliary heads use (a family module may add its own
# as ``IGNORED``).
_AUX_PREFIXES = ("auxlayer.",)


# The smallest model of each family: what the quick checks and benchmarks run.
ONE_PER_FAMILY = first_of_each_family()


def _family_module(model_name: str) -> ModuleType | None:
    """The module that builds ``model_name``'s family (the card's ``builder``), or None for a
    name the card does not list. Each holds ``BUILDERS``: architecture name -> Builder."""
    if not has_model(model_name):
        return None
    return importlib.import_module(f"{__name__}.{family_of(model_name).builder}")


def _builder(model_name: str) -> Builder | None:
    module = _family_module(model_name)
    return None if module is None else module.BUILDERS.get(architecture(model_name))


def _ignored(model_name: str) -> tuple[str, ...]:
    module = _family_module(model_name)
    return _AUX_PREFIXES + tuple(getattr(module, "IGNORED", ()))


def architecture(model_name: str) -> str:
    """``fcn_resnet50_ade`` -> ``fcn_resnet50``: the name without the training set."""
    return model_name.rsplit("_", 1)[0]


def can_build(model_name: str) -> bool:
    return _builder(model_name) is not None


def build_model(
    model_name: str,
    params: dict[str, np.ndarray],
    num_classes: int,
    metadata: dict[str, str],
    head: Head | None = None,
) -> BuiltModel:
    """The ONNX model of ``model_name`` (``num_classes`` outputs) with the weights ``params``
    (from ``read_params``). Takes nothing from the registry (only the model card, for the
    module that builds the family): the engines, which the registry names, build on this
    package, not the other way round.

    ``head``: (weight (K, C), bias (K,)[, neighbourhood]) float32 computed by the final
    classifier instead of the file's own (which must still fit ``num_classes``): logits of K
    classes (averaged over the neighbourhood), the rest of the graph unchanged."""
    g, logits = _built_graph(model_name, params, num_classes)
    if head is not None:
        logits = replace_classifier(g, logits, head)
    return g.model(logits, metadata)


def build_features_model(
    model_name: str, params: dict[str, np.ndarray], num_classes: int, metadata: dict[str, str]
) -> BuiltModel:
    """``build_model``'s graph without its final classifier: input ``data`` (N, 3, H, W),
    output ``features`` (N, C, h, w), the classifier's input on the network's own grid (not
    resized; no ``out_size`` input). ``params`` must still be the whole file."""
    g, logits = _built_graph(model_name, params, num_classes)
    features, node = final_classifier(g, logits)
    g.remove(node)
    return g.model(features, metadata, resize=False, output_name=FEATURES)


def _built_graph(
    model_name: str, params: dict[str, np.ndarray], num_classes: int
) -> tuple[Graph, str]:
    """The graph of ``model_name`` up to its logits before the final resize, every array of
    ``params`` taken (the auxiliary heads' excepted)."""
    builder = _builder(model_name)
    if builder is None:
        raise EngineError(f"napari-gluonseg cannot build {model_name} for onnxruntime yet.")
    g = Graph(params, model_name)
    logits = builder(g, INPUT, num_classes)
    extra = g.unused(_ignored(model_name))
    if extra:
        shown = ", ".join(extra[:5]) + (f" and {len(extra) - 5} more" if len(extra) > 5 else "")
        raise WeightsError(
            f"it holds {len(extra)} array(s) that {model_name} does not have ({shown}): it "
            "was saved from another architecture."
        )
    return g, logits
