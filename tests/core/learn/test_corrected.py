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


def test_each_image_is_read_with_its_runs_scale_even_where_its_weights_moved(
    tmp_path, untrained_params, use_onnx_home
):
    """The batch's options cannot be read back once its weights file is gone; the scale the
    result's provenance records is still the one its features are taken at."""
    import shutil

    from PIL import Image

    from napari_gluonseg import read_export, segment_folder
    from napari_gluonseg.core.batch.review import ReviewSession

    from ...learn_folder import photo, truth

    images, results = tmp_path / "images", tmp_path / "results"
    images.mkdir()
    Image.fromarray(photo(0)).save(images / "p0.png")
    weights = tmp_path / "moved.params"
    shutil.copy(untrained_params, weights)
    segment_folder(images, results, weights=weights, scale=0.5, engine="onnxruntime")
    item = ReviewSession(images, results, by_uncertainty=False).items[0]
    export = read_export(item.labels)
    ReviewSession(images, results).write_corrections(
        item, truth(), export.class_names, export.colors, export.provenance
    )
    assert corrected_folder(images, results).images[0].image_options["scale"] == 0.5
    weights.unlink()
    folder = corrected_folder(images, results)
    assert folder.weights is None and folder.images[0].image_options == {"scale": 0.5}


def test_a_folder_without_corrections_or_with_an_image_gone_is_named(reviewed, tmp_path):
    images, results = reviewed
    (images / "p1.png").unlink()
    with pytest.raises(LearningError, match="p1"):
        corrected_folder(images, results)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LearningError, match="No corrected image"):
        corrected_folder(images, empty)


def test_a_folder_made_with_a_learned_model_teaches_a_head_on_its_base(reviewed, tmp_path):
    """Pre-annotated by a learned model, corrected again: the next head learns on the same base
    network and weights (the learned file records them), and the note says what made it."""
    from napari_gluonseg import learn_from_folder, read_export, segment_folder
    from napari_gluonseg.core.batch.review import ReviewSession
    from napari_gluonseg.core.provenance import weights_note

    images, results = reviewed
    first = tmp_path / "first.onnx"
    learn_from_folder(images, results, first)
    again = tmp_path / "again"
    segment_folder(images, again, model_name=str(first))
    session = ReviewSession(images, again, by_uncertainty=False)
    for item in session.items[:2]:
        export = read_export(item.labels)
        assert "learned model first.onnx" in weights_note(export.provenance)
        session.write_corrections(
            item, export.labels, export.class_names, export.colors, export.provenance
        )
    folder = corrected_folder(images, again)
    assert folder.model_name == "fcn_resnet50_ade"
    assert folder.weights == corrected_folder(images, results).weights
    learned = learn_from_folder(images, again, tmp_path / "second.onnx")
    assert learned.base == "fcn_resnet50_ade" and len(learned.images) == 2
    # The folder's settings read back run the learned model again (its file is its weights).
    from napari_gluonseg import options_of

    settings = options_of(read_export(again / "p3_labels.png").provenance)
    assert settings["model_name"] == str(first) and settings["weights"] is None
    summary = segment_folder(images, again, **settings)
    assert {r.status for r in summary.reports} == {"skipped"}
