"""Label schemes: the user's own labels made of the model's classes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_gluonseg import SchemeError, segment_image
from napari_gluonseg.core.models.registry import model_info
from napari_gluonseg.core.models.scheme import EXAMPLES, load_scheme

from ...conftest import MODEL

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
        small_dog,
        weights=bicycle_params,
        scheme=scheme,
        probability_classes=["bicycle", "car"],
        scale=1.0,  # neither the resolution
        engine="onnxruntime",  # nor the engine is the point
    )
    assert np.all(r.labels == 12)  # ADE20K 'bicycle' is the scheme's label 12
    assert r.class_names[11] == "bicycle" and r.colors[11] == (0x77, 0x0B, 0x20)
    p_car = r.probabilities["car"]  # car + van: two ADE20K classes summed
    np.testing.assert_allclose(p_car, 2 / (np.exp(10) + 149), rtol=1e-4)
    assert r.provenance["label_scheme"]["name"] == "street_ade20k"
    assert r.class_table()[12]["class_name"] == "bicycle"
    tiled = segment_image(
        small_dog,
        weights=bicycle_params,
        scheme=scheme,
        scale=1.0,
        tile_size=64,
        engine="onnxruntime",
    )
    assert np.all(tiled.labels == 12)  # the tiled full-resolution path groups the same way


def test_unmapped_classes_stay_unlabeled(tmp_path, small_dog, bicycle_params):
    path = tmp_path / "walls.yaml"
    path.write_text("labels:\n  - {value: 3, name: wall, color: '#ff0000', classes: [wall, 1]}\n")
    r = segment_image(
        small_dog, weights=bicycle_params, scheme=path, scale=1.0, engine="onnxruntime"
    )
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


@pytest.mark.parametrize("value", ["1.9", "true", "2.0", "'1.5'", "[1]"])
def test_yaml_value_must_be_an_integer(tmp_path, value):
    path = tmp_path / "s.yaml"
    path.write_text(
        f"labels: [{{value: 1, name: a, classes: [wall]}}, "
        f"{{value: {value}, name: b, classes: [sky]}}]"
    )
    with pytest.raises(SchemeError, match=r"s\.yaml, label 2: value .* is not an integer"):
        load_scheme(path, INFO)


def test_csv_value_named_twice_differently_names_both_rows(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(
        "source_class,value,name,color\nroad,1,road,#808080\nsky,2,sky,\n"
        "sidewalk,1,street,#808080\n"
    )
    with pytest.raises(
        SchemeError,
        match=r"s\.csv, row 4: value 1 is named 'street' here "
        r"but 'road' in row 2",
    ):
        load_scheme(path, INFO)
    path.write_text("source_class,value,name,color\nroad,1,road,#808080\nsidewalk,1,road,#ff0000\n")
    with pytest.raises(
        SchemeError,
        match=r"row 3: value 1 has colour '#ff0000' here but "
        r"'#808080' in row 2",
    ):
        load_scheme(path, INFO)
    path.write_text("source_class,value,name,color\nroad,1,road,#808080\nsidewalk,1,road,\n")
    assert load_scheme(path, INFO).labels[0].classes == (6, 11)  # one label, two classes


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_binary_garbage_is_a_scheme_error_naming_the_file(tmp_path, suffix):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SchemeError, match=f"garbage{suffix}"):
        load_scheme(path, INFO)


def test_csv_with_a_byte_order_mark_reads_fine(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("source_class,value,name,color\r\nsky,1,sky,#0000ff\r\n".encode("utf-8-sig"))
    scheme = load_scheme(path, INFO)
    assert scheme.class_names == ("sky",) and scheme.colors == ((0, 0, 255),)


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("{value: 3, name: '', classes: [wall]}", r"label 2: a label needs a name; got ''"),
        ("{value: 3, name: , classes: [wall]}", r"label 2: a label needs a name; got None"),
        ("{value: 3, name: sky, classes: [wall]}", r"label 2: the name 'sky' is also label 1's"),
    ],
)
def test_label_names_are_given_and_unique(tmp_path, label, message):
    """Each is refused: '' would give an export the reader refuses, a missing name would
    become 'None', two labels of one name would give one probability map."""
    path = tmp_path / "s.yaml"
    path.write_text(f"labels:\n  - {{value: 1, name: sky, classes: [sky]}}\n  - {label}\n")
    with pytest.raises(SchemeError, match=message):
        load_scheme(path, model_info(MODEL))


def test_csv_rows_are_numbered_as_the_file_is_after_comment_lines(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("# a comment\nsource_class,value,name\n# another\nsky,1,sky\nwall,x,wall\n")
    with pytest.raises(SchemeError, match=r"s\.csv, row 5: value 'x' is not an integer"):
        load_scheme(path, model_info(MODEL))


def _yaml(tmp_path, dataset: str) -> object:
    path = tmp_path / "s.yaml"
    path.write_text(f"dataset: {dataset}\nlabels: [{{value: 1, name: a, classes: [road]}}]\n")
    return path


@pytest.mark.parametrize("model", ["fastscnn_citys", "fcn_resnet101_voc"])
def test_a_scheme_for_another_dataset_is_refused_naming_both(tmp_path, model):
    """A scheme for ADE20K loaded on fastscnn_citys as road and sidewalk, classes 0 and 1."""
    path = _yaml(tmp_path, "ade20k")
    info = model_info(model)
    with pytest.raises(SchemeError) as err:
        load_scheme(path, info)
    message = str(err.value)
    assert str(path) in message and "'ade20k'" in message
    assert model in message and repr(info.dataset) in message


@pytest.mark.parametrize("dataset", ["nonsense", "5", "[ade20k]", "''"])
def test_an_unknown_dataset_is_refused_listing_the_known_ones(tmp_path, dataset):
    with pytest.raises(SchemeError, match=r"s\.yaml: dataset .* is not one of .*'ade20k'.*'citys'"):
        load_scheme(_yaml(tmp_path, dataset), INFO)


def test_a_scheme_for_a_dataset_of_the_same_classes_loads(tmp_path):
    """COCO's models predict Pascal VOC's 21 classes: a VOC scheme fits them."""
    path = tmp_path / "s.yaml"
    path.write_text("dataset: pascal_voc\nlabels: [{value: 1, name: a, classes: [person]}]\n")
    assert load_scheme(path, model_info("fcn_resnet101_coco")).labels[0].classes == (15,)
    assert load_scheme(_yaml(tmp_path, "citys"), model_info("fastscnn_citys")).labels[
        0
    ].classes == (0,)


@pytest.mark.parametrize("value", ["1_0", "+5", "-3", "١٠", "1e1", "0x1f", "10.", " "])
def test_csv_values_are_digits_or_refused_naming_the_row(tmp_path, value):
    """int() read '1_0' as 10 and '١٠' (Arabic-Indic digits) as 10."""
    path = tmp_path / "s.csv"
    path.write_text(f"source_class,value,name\nsky,1,sky\nwall,{value},wall\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"s\.csv, row 3: (value .* is not an integer|no value)"):
        load_scheme(path, INFO)


@pytest.mark.parametrize("value", ["'1_0'", "'١٠'", "' +5'"])
def test_yaml_values_given_as_text_are_digits_or_refused(tmp_path, value):
    path = tmp_path / "s.yaml"
    path.write_text(f"labels: [{{value: {value}, name: a, classes: [wall]}}]\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"s\.yaml, label 1: value .* is not an integer"):
        load_scheme(path, INFO)


def test_classes_given_by_index_in_other_digits_are_not_indices(tmp_path):
    """'١' (Arabic-Indic one) is not class index 1, though Python's int() reads it so."""
    path = tmp_path / "s.yaml"
    path.write_text("labels: [{value: 1, name: a, classes: ['١']}]\n", encoding="utf-8")
    with pytest.raises(SchemeError, match=r"label 1: .*'١'"):
        load_scheme(path, INFO)


@given(text=st.text(max_size=6))
@settings(max_examples=200, deadline=None)
def test_a_csv_value_is_read_only_as_plain_digits(text):
    """Whatever the cell holds, the value is the number its ASCII digits spell, or refused."""
    import tempfile
    from pathlib import Path

    cell = text.replace("\n", "").replace("\r", "").replace(",", "").replace('"', "")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "s.csv"
        path.write_text(f"source_class,value,name\nsky,{cell},sky\n", encoding="utf-8")
        plain = cell.strip()
        if plain.isascii() and plain.isdigit() and 1 <= int(plain) <= 65535:
            assert load_scheme(path, INFO).labels[0].value == int(plain)
        else:
            with pytest.raises(SchemeError, match=r"s\.csv, row 2"):
                load_scheme(path, INFO)


def test_shipped_schemes_are_found_by_name_from_any_folder(tmp_path, monkeypatch):
    """The docs' --scheme napari_gluonseg/schemes/street_ade20k.csv existed only in a clone."""
    from napari_gluonseg.core.models.scheme import shipped_schemes

    monkeypatch.chdir(tmp_path)
    for name in ("street_ade20k", "street_ade20k.csv"):
        scheme = load_scheme(name, INFO)
        assert scheme.name == "street_ade20k" and scheme.source == str(
            EXAMPLES / "street_ade20k.csv"
        )
    assert [p.name for p in shipped_schemes()] == ["indoor_ade20k.yaml", "street_ade20k.csv"]
    with pytest.raises(
        SchemeError, match=r"nope\.yaml does not exist.*shipped.*indoor_ade20k, street_ade20k"
    ):
        load_scheme("nope.yaml", INFO)
    (tmp_path / "street_ade20k.csv").write_text("source_class,value,name\nsky,1,sky\n")
    assert load_scheme("street_ade20k.csv", INFO).class_names == ("sky",)  # a file of yours first


def test_csv_rows_keep_their_line_numbers_after_blank_lines_and_odd_separators(tmp_path):
    """A blank line shifted every later row's number by one; U+2028 inside a cell split it."""
    path = tmp_path / "s.csv"
    path.write_text("source_class,value,name\n\nsky,1,sky \u2028\n\nwall,x,wall\n")
    with pytest.raises(SchemeError, match=r"s\.csv, row 5: value 'x' is not an integer"):
        load_scheme(path, INFO)
    path.write_text("source_class,value,name\n\nsky,1,sky \u2028\n")
    assert load_scheme(path, INFO).class_names == ("sky",)
