"""Correction tasks whose scores come from a real network, for ``bench_corrections.py``: the
images of ``bench_learning.py`` (classes told apart by texture or shape, not colour; truth
known), pre-annotated by a head learned on this package's own network (``core/learn``'s
``fit_head``, the Review dock's *Learn*) from the network's features of some images and run on
others. Its kept scores (its softmax on the network's grid, a ``ScoreGrid`` as a run keeps it),
their argmax upsampled as a run upsamples it (the pre-annotation), its mistakes as they fall:
nothing is written into the scores.

The backbone is untrained (random weights of the real architecture, written by the package's
own writer: no pretrained weights on this machine); its features are random filters' responses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bench_learning import SETTINGS, fit, grid_scores, load
from correction_task import Setting, Task, pre_annotation
from scipy import ndimage

from napari_gluonseg.core.edits.snap import cell_edges, superpixels

UNTRAINED = (
    "untrained backbone (random weights of the real architecture; no pretrained weights here)"
)
BOUNDARY = 8  # px: a mistake this near a true boundary is a boundary's (one grid stride)


def premise(train: int) -> str:
    """The real-network tasks' premise, in one line."""
    return (
        f"a real network's scores: a head learned on {train} images' features of "
        f"fcn_resnet50_ade, {UNTRAINED}, run on held-out images; its softmax kept on the grid, "
        "its argmax the pre-annotation, its mistakes as they fall (nothing written in)"
    )


def setting_names() -> tuple[str, ...]:
    """The settings of ``bench_learning`` (the tasks' names)."""
    return tuple(s.name for s in SETTINGS)


def network_tasks(
    name: str, train: int, held_out: list[int], shape: tuple[int, int], weights: Path
) -> list[Task]:
    """The held-out images of ``bench_learning``'s setting ``name`` as correction tasks, each
    pre-annotated by the head learned from training seeds ``0 .. train - 1`` (the features of
    the network built from ``weights``)."""
    setting = next(s for s in SETTINGS if s.name == name)
    k = len(setting.classes)
    head = fit(load(setting, list(range(train)), shape, weights), k)
    tasks = []
    for item in load(setting, held_out, shape, weights):
        scores = grid_scores(head, item.features, item.truth.shape)
        pre = pre_annotation(scores)
        cells = superpixels(item.image)
        kinds = mistakes(pre, item.truth)
        setting_name = Setting(f"network: {name}", whole=0, shifted=0, lookalike=0)  # no knobs
        edges = cell_edges(item.image, cells)
        task = Task(setting_name, item.truth, scores, pre, item.image, cells, edges, kinds,
                    premise(train))  # fmt: skip
        tasks.append(task)
    return tasks


def mistakes(pre: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    """The pre-annotation's wrong pixels: within ``BOUNDARY`` px of a true boundary, or not."""
    edge = np.zeros(truth.shape, bool)
    edge[1:] |= truth[1:] != truth[:-1]
    edge[:, 1:] |= truth[:, 1:] != truth[:, :-1]
    near = ndimage.distance_transform_edt(~edge) <= BOUNDARY
    wrong = pre != truth
    return {"boundary": wrong & near, "region": wrong & ~near}
