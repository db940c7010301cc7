import subprocess
import sys
from pathlib import Path

import npe2
import pytest


def test_npe2_validate_with_imports():
    npe2_cli = Path(sys.executable).parent / "npe2"
    out = subprocess.run(
        [str(npe2_cli), "validate", "napari-gluonseg", "--imports"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in out.stdout.lower()


def test_manifest_contributions():
    manifest = npe2.PluginManifest.from_distribution("napari-gluonseg")
    assert manifest.display_name == "GluonCV Segmentation"
    assert [w.display_name for w in manifest.contributions.widgets] == [
        "Semantic segmentation",
        "Review folder",
        "Correct labels",
    ]
    assert [s.key for s in manifest.contributions.sample_data] == ["chelsea"]


def test_widgets_in_the_layers_segment_menu():
    manifest = npe2.PluginManifest.from_distribution("napari-gluonseg")
    items = manifest.contributions.menus["napari/layers/segment"]
    assert [i.command for i in items] == [
        "napari-gluonseg.segment_widget",
        "napari-gluonseg.review_widget",
        "napari-gluonseg.correct_widget",
    ]


@pytest.mark.usefixtures("our_plugin")
def test_writer_and_reader_round_trip_a_labels_layer(tmp_path):
    import numpy as np
    from napari.components import ViewerModel
    from napari.plugins.io import save_layers

    from napari_gluonseg.layers.data import labels_layer_data

    data = np.zeros((20, 30), np.uint8)
    data[5:10, 5:10] = 2
    names, colors = ["wall", "sky"], [(10, 20, 30), (40, 50, 60)]
    viewer = ViewerModel()
    layer_data, kwargs, _ = labels_layer_data(data, "dog classes", names, colors, {}, {})
    viewer.add_labels(layer_data, **kwargs)
    path = str(tmp_path / "dog_labels.png")
    written = save_layers(path, list(viewer.layers), plugin="napari-gluonseg")
    assert path in written  # napari < 0.6 reports the path asked for, later ones every file
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dog_classes.csv",
        "dog_labels.png",
        "dog_provenance.json",
    ]
    back = viewer.open(str(tmp_path / "dog_labels.png"), plugin="napari-gluonseg")[0]
    np.testing.assert_array_equal(back.data, data)
    assert list(back.features["class_name"]) == ["unlabeled", *names]
    np.testing.assert_allclose(back.colormap.map(2)[:3], np.array(colors[1]) / 255, atol=1e-6)
