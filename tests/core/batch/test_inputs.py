"""Which files a batch runs on, and where their results go."""

import pytest

from napari_gluonseg.core.batch.inputs import collect_inputs
from napari_gluonseg.core.errors import OptionError


@pytest.fixture
def photos(tmp_path):
    for rel in ("a/x.jpg", "b/x.jpg", "b/deep/y.png", "top.png", "notes.txt", ".hidden.png"):
        path = tmp_path / "photos" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    return tmp_path / "photos"


def keys(items):
    return [item.key for item in items]


def test_a_folder_keeps_paths_relative_to_it(photos):
    assert keys(collect_inputs([photos])) == ["top"]
    assert keys(collect_inputs([photos], recursive=True)) == ["a/x", "b/deep/y", "b/x", "top"]


def test_a_glob_is_relative_to_its_folders_before_the_first_wildcard(photos):
    assert keys(collect_inputs([f"{photos}/*/x.jpg"])) == ["a/x", "b/x"]
    assert keys(collect_inputs([f"{photos}/b/**/*.png"], recursive=True)) == ["deep/y"]


def test_a_file_is_relative_to_its_own_folder_and_listed_once(photos):
    items = collect_inputs([photos / "b" / "deep" / "y.png", photos / "b" / "deep"])
    assert keys(items) == ["y"] and items[0].path == photos / "b" / "deep" / "y.png"
    assert keys(collect_inputs([photos / "notes.txt"])) == ["notes"]  # named: tried anyway


def test_the_output_folder_is_never_an_input(photos):
    (photos / "out").mkdir()
    (photos / "out" / "top_labels.png").write_bytes(b"")
    items = collect_inputs([photos], recursive=True, exclude=photos / "out")
    assert "out/top_labels" not in keys(items)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (["{p}/a/x.jpg", "{p}/b/x.jpg"], "would be shared by several inputs"),
        (["{p}/missing"], "No such file or folder"),
        (["{p}/*.gif"], "No image files found"),
    ],
)
def test_clashing_missing_and_empty_inputs_are_refused(photos, inputs, message):
    with pytest.raises(OptionError, match=message):
        collect_inputs([i.format(p=photos) for i in inputs])


def test_a_folder_with_images_only_in_sub_folders_says_to_recurse(tmp_path):
    (tmp_path / "day1").mkdir()
    (tmp_path / "day1" / "a.png").write_bytes(b"x")
    (tmp_path / "day2").mkdir()
    (tmp_path / "day2" / "b.jpg").write_bytes(b"x")
    with pytest.raises(OptionError, match=r"sub-folders hold 2 image file\(s\): add --recursive"):
        collect_inputs([tmp_path])
    assert len(collect_inputs([tmp_path], recursive=True)) == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(OptionError) as caught:
        collect_inputs([tmp_path / "empty"])
    assert "--recursive" not in str(caught.value)


def test_files_differing_only_in_suffix_are_told_to_rename_not_to_give_their_folder(tmp_path):
    """Their common folder is what was given: the advice is to rename them, not to give it."""
    (tmp_path / "x.png").write_bytes(b"x")
    (tmp_path / "x.jpg").write_bytes(b"x")
    with pytest.raises(OptionError, match="differ only in their suffix") as caught:
        collect_inputs([tmp_path])
    assert "common folder" not in str(caught.value)


def test_results_beside_their_photo_are_skipped_and_look_alikes_are_not(photos):
    """Only the files a provenance of this package vouches for: the photo beside them stays."""
    import numpy as np

    from napari_gluonseg.core.files.export import write_labels

    folder = photos / "a"
    write_labels(np.ones((4, 4), np.uint8), ["wall"], [(1, 2, 3)], {}, folder, "x")
    (folder / "x_prob-wall.png").write_bytes(b"")  # a map of that set
    (folder / "holiday_labels.png").write_bytes(b"")  # a photo so named: no provenance
    assert keys(collect_inputs([folder])) == ["holiday_labels", "x"]
    assert keys(collect_inputs([folder / "x_labels.png"])) == ["x_labels"]  # named: tried
