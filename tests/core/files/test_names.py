"""The file names of an export set, from one place."""

from pathlib import Path

import pytest

from napari_gluonseg.core.files.names import ExportNames


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("bicycle, bike, wheel, cycle", "dog_prob-bicycle.png"),
        ("road/street", "dog_prob-road-street.png"),
        ("potted plant (indoor)", "dog_prob-potted-plant-indoor.png"),
        ("???", "dog_prob-class.png"),
    ],
)
def test_probability_map_names_need_no_quoting_in_a_shell(name, file):
    assert ExportNames(Path("out"), "dog").map(name) == Path("out") / file


def test_every_file_of_a_set_names_its_set():
    names = ExportNames(Path("out"), "a_labels")  # a stem may itself end in _labels
    for path in (*names.labels_candidates, names.overlay, names.map("sky")):
        assert ExportNames.of_result_image(path) == names
    assert ExportNames.of_labels_file(names.classes) is None
    assert ExportNames.of_result_image(Path("out/a_P(sky).png")) == ExportNames(Path("out"), "a")
    assert names.journal.name.startswith(".a_labels_set")
