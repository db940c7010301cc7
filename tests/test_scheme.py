"""Label schemes: the user's own labels made of the model's classes."""

import numpy as np
import pytest

from napari_gluonseg import SchemeError, segment_image
from napari_gluonseg.core.registry import model_info
from napari_gluonseg.core.scheme import EXAMPLES, load_scheme

from .conftest import MODEL

INFO = model_info(MODEL)


@pytest.mark.parametrize("name", ["indoor_ade20k.yaml", "street_ade20k.csv"])
def test_shipped_examples_load(name):
    scheme = load_scheme(EXAMPLES / name, INFO)
    assert len(scheme.labels) >= 8
    values = [lab.value for lab in scheme.labels]
    assert values == sorted(set(values)) and min(values) >= 1
    every = [k for lab in scheme.labels for k in lab.classes]
    assert len(every) == len(set(every))  # a class belongs to one label only


def test_street_scheme_merges_classes_and_follows_names_and_colours(small_dog, bicycle_params):
    scheme = load_scheme(EXAMPLES / "street_ade20k.csv", INFO)
    r = segment_image(
        small_dog, weights=bicycle_params, scheme=scheme, probability_classes=["bicycle", "car"]
    )
    assert np.all(r.labels == 12)  # ADE20K 'bicycle' is the scheme's label 12
    assert r.class_names[11] == "bicycle" and r.colors[11] == (0x77, 0x0B, 0x20)
    p_car = r.probabilities["car"]  # car + van: two ADE20K classes summed
    np.testing.assert_allclose(p_car, 2 / (np.exp(10) + 149), rtol=1e-4)
    assert r.provenance["label_scheme"]["name"] == "street_ade20k"
    assert r.class_table()[12]["class_name"] == "bicycle"
    tiled = segment_image(small_dog, weights=bicycle_params, scheme=scheme, scale=1.0, tile_size=64)
    assert np.all(tiled.labels == 12)  # the tiled full-resolution path groups the same way


def test_unmapped_classes_stay_unlabeled(tmp_path, small_dog, bicycle_params):
    path = tmp_path / "walls.yaml"
    path.write_text("labels:\n  - {value: 3, name: wall, color: '#ff0000', classes: [wall, 1]}\n")
    r = segment_image(small_dog, weights=bicycle_params, scheme=path)
    assert np.all(r.labels == 0)  # bicycle wins everywhere, and it is not in the scheme
    assert r.class_names == ("(unused)", "(unused)", "wall")
    assert r.scores.class_ids == (2, -1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("labels: [{value: 1, name: a, classes: [unicorn]}]", "no class 'unicorn'"),
        ("labels: [{value: 0, name: a, classes: [wall]}]", "must be in 1..65535"),
        (
            "labels: [{value: 1, name: a, classes: [wall]}, {value: 1, name: b, classes: [sky]}]",
            "used by two",
        ),
        (
            "labels: [{value: 1, name: a, classes: [wall]}, {value: 2, name: b, classes: [wall]}]",
            "one label only",
        ),
        ("labels: [{value: 1, name: a, color: red, classes: [wall]}]", "not #rrggbb"),
        ("labels: [{value: 1, name: a}]", "needs value, name and classes"),
        ("just text", "a 'labels' list"),
        ("labels: [", "not valid YAML"),
    ],
)
def test_bad_scheme_files_say_where_and_why(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(SchemeError, match=message):
        load_scheme(path, INFO)


def test_bad_scheme_paths_and_combinations(tmp_path, small_dog, bicycle_params):
    with pytest.raises(SchemeError, match="does not exist"):
        load_scheme(tmp_path / "nope.yaml", INFO)
    (tmp_path / "s.txt").write_text("x")
    with pytest.raises(SchemeError, match=r"\.yaml, \.yml or \.csv"):
        load_scheme(tmp_path / "s.txt", INFO)
    with pytest.raises(ValueError, match="not both"):
        segment_image(
            small_dog,
            weights=bicycle_params,
            scheme=EXAMPLES / "street_ade20k.csv",
            classes=["sky"],
        )


def test_csv_row_with_missing_cells(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("source_class,value,name,color\nsky,5\n")
    with pytest.raises(SchemeError, match=r"row 2: no name"):
        load_scheme(path, INFO)
