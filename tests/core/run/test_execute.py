"""execute: a planned run carried out as progress events that end with the result."""

import numpy as np

from napari_gluonseg.core.events import Stage
from napari_gluonseg.core.run.execute import LabelSpace, _WindowProgress, iter_run
from napari_gluonseg.core.run.plan import plan_run


def test_window_progress_names_the_step_running_next():
    plan = plan_run(np.zeros((3, 64, 96), np.uint8), scale=1.0, tile_size=64, rgb=False)
    progress = _WindowProgress(plan, 12.0)  # the run's estimate: 12 s
    assert progress.total == 3 * 2  # three planes of two 64x64 windows (stride 2/3)
    events = [progress.event()] + [progress.step() for _ in range(6)]
    assert [e.message for e in events[:3]] == [
        "segmenting plane 1/3, window 1/2",
        "segmenting plane 1/3, window 2/2",
        "segmenting plane 2/3, window 1/2",
    ]
    assert events[-1].message == "finishing" and progress.event().fraction == 1.0
    # each window is expected to take its share of the estimate; finishing is no window
    assert [e.expected_s for e in events] == [2.0] * 6 + [None]


def test_a_subset_keeps_the_models_label_values_and_maps_rows_to_them():
    every = LabelSpace.of(plan_run(np.zeros((64, 64, 3), np.uint8)))
    assert len(every.names) == 150 and not every.maps_rows
    some = LabelSpace.of(plan_run(np.zeros((64, 64, 3), np.uint8), classes=["sky", "wall"]))
    assert some.names == every.names  # the model's label values, only two of them used
    assert list(some.class_ids) == [0, 2] and some.maps_rows


def test_a_run_loads_then_infers_then_returns_labels_of_the_images_size(untrained_params):
    image = np.random.default_rng(0).integers(0, 256, (61, 83, 3), np.uint8)
    events = iter_run(plan_run(image, weights=untrained_params, engine="onnxruntime", scale=1.0))
    stages = []
    try:
        while True:
            stages.append(next(events).stage)
    except StopIteration as done:
        result = done.value
    assert stages.index(Stage.LOAD) < stages.index(Stage.INFER) < stages.index(Stage.POSTPROCESS)
    assert result.labels.shape == (61, 83) and result.labels.min() >= 1
    assert result.provenance["model"] == "fcn_resnet50_ade"
