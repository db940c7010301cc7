"""benchmarks/correction_network.py: the real network's tasks say what they are (an untrained
backbone), and their mistakes are split into those along a boundary and those inside a region.
The tasks themselves are built end to end by bench_corrections' quick run
(tests/test_benchmarks.py)."""

import sys

import numpy as np
import pytest


@pytest.fixture(scope="module")
def network_kit(bench):
    import correction_network  # noqa: F401 - beside bench_corrections, on its path

    return sys.modules["correction_network"]


def test_the_premise_says_the_backbone_is_untrained(network_kit):
    line = network_kit.premise(10)
    assert "untrained backbone" in line and "10 images" in line and "nothing written in" in line


def test_mistakes_are_split_by_their_distance_to_a_true_boundary(network_kit):
    truth = np.ones((64, 64), np.uint8)
    truth[:, 32:] = 2
    pre = truth.copy()
    pre[30:34, 28:31] = 2  # beside the boundary
    pre[5:8, 5:8] = 2  # far inside the first region
    kinds = network_kit.mistakes(pre, truth)
    assert kinds["boundary"].sum() == 12 and kinds["region"].sum() == 9
    assert not (kinds["boundary"] & kinds["region"]).any()
