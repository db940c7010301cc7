"""core/learn/corrected.py: a review folder's corrections read back to learn from."""

import pytest

from napari_gluonseg.core.errors import LearningError
from napari_gluonseg.core.learn.corrected import corrected_folder


def test_the_corrected_images_their_class_table_and_model_are_read(reviewed):
    images, results = reviewed
    folder = corrected_folder(images, results)
    assert [i.name for i in folder.images] == ["p0", "p1", "p2"]  # p3 was not corrected
    assert len(folder.class_names) == 150 and folder.model_name == "fcn_resnet50_ade"
    assert folder.weights is not None and folder.weights.is_file()
    assert folder.images[0].labels.shape == folder.images[0].image.shape[:2]


def test_a_folder_without_corrections_or_with_an_image_gone_is_named(reviewed, tmp_path):
    images, results = reviewed
    (images / "p1.png").unlink()
    with pytest.raises(LearningError, match="p1"):
        corrected_folder(images, results)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LearningError, match="No corrected image"):
        corrected_folder(images, empty)
