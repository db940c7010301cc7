"""core/learn/learn.py: learning from a review folder's corrections, and the learned model chosen
like a zoo model (its path as the model name). The folder is read by corrected.py."""

import numpy as np
import pytest

from napari_gluonseg import iter_segment_image, segment_image
from napari_gluonseg.core.errors import ExportError, LearningError, OptionError
from napari_gluonseg.core.learn.corrected import corrected_folder
from napari_gluonseg.core.learn.learn import CorrectedImage, learn, save_learned
from napari_gluonseg.core.models.learned import read_learned
from napari_gluonseg.core.run.segment import run_to_end

from ...learn_folder import photo, truth


def test_a_review_folders_corrections_teach_a_model_chosen_by_its_path(reviewed, tmp_path):
    images, results = reviewed
    folder = corrected_folder(images, results)
    assert [i.name for i in folder.images] == ["p0", "p1", "p2"]
    assert folder.model_name == "fcn_resnet50_ade" and folder.weights is not None
    learned = learn(folder.images, folder.class_names, folder.colors, weights=folder.weights)
    assert learned.held_out is not None and learned.held_out.images == 3
    assert "Learned 2 classes" in learned.summary() and learned.pixels > 0
    before = {p: p.read_bytes() for p in results.rglob("*") if p.is_file()}

    path = save_learned(learned, tmp_path / "two_textures.onnx")
    model = read_learned(path)
    assert model.base == "fcn_resnet50_ade" and model.class_names == folder.class_names
    assert model.record["images"] == ["p0", "p1", "p2"]
    assert model.record["held_out"]["images"] == 3

    # The folder was run at scale 1 (learn_folder.RUN): its features were taken there, and a
    # run there labels an image it never saw as its corrections taught.
    assert model.record["scale"] == 1.0
    heard = []
    result = run_to_end(
        iter_segment_image(photo(9), str(path), engine="onnxruntime", scale=1.0), heard.append
    )
    assert not [e for e in heard if e.notice and "learned at" in e.message]
    assert result.class_names == folder.class_names and result.colors == folder.colors
    assert set(np.unique(result.labels)) <= {3, 5}  # only the classes it learned
    assert (result.labels == truth()).mean() > 0.9
    assert result.provenance["model"] == str(path)
    # Its scale "auto" is the one it learned at; at another its features differ: the run says
    # so, and still runs.
    auto = segment_image(photo(9), str(path))
    assert auto.provenance["scale"] == 1.0 and (auto.labels == result.labels).all()
    heard.clear()
    run_to_end(iter_segment_image(photo(9), str(path), scale=0.75), heard.append)
    notices = [e.message for e in heard if e.notice]
    assert "two_textures.onnx learned at scale=1.0; this run is at scale=0.75" in notices[0]
    assert {p: p.read_bytes() for p in results.rglob("*") if p.is_file()} == before
    with pytest.raises(ExportError, match="exists"):
        save_learned(learned, path)


def test_a_learned_model_is_refused_as_weights_and_with_a_scheme(reviewed, tmp_path):
    images, results = reviewed
    folder = corrected_folder(images, results)
    learned = learn(folder.images[:2], folder.class_names, folder.colors, weights=folder.weights)
    path = save_learned(learned, tmp_path / "m.onnx")
    with pytest.raises(OptionError, match="choose it as the model"):
        segment_image(photo(1), weights=path)
    with pytest.raises(OptionError, match="give it no scheme"):
        segment_image(photo(1), str(path), scheme="street_ade20k")


def test_what_cannot_teach_a_head_is_named(reviewed, untrained_params):
    images, results = reviewed
    folder = corrected_folder(images, results)
    names, colors = folder.class_names, folder.colors
    one = CorrectedImage("flat", photo(0), np.full((96, 128), 3, np.uint8))
    with pytest.raises(LearningError, match="1 class"):
        learn([one], names, colors, weights=untrained_params)
    with pytest.raises(LearningError, match="No corrected image"):
        learn([], names, colors, weights=untrained_params)
    small = CorrectedImage("small", photo(0), np.ones((40, 40), np.uint8))
    with pytest.raises(LearningError, match=r"small: labels of shape \(40, 40\)"):
        learn([small], names, colors, weights=untrained_params)
    beyond = CorrectedImage("beyond", photo(0), np.full((96, 128), 151, np.uint8))
    with pytest.raises(LearningError, match="beyond: label 151 is beyond the 150 classes"):
        learn([beyond], names, colors, weights=untrained_params)


def test_a_learned_model_runs_a_folder_on_dask_workers_from_another_folder(
    reviewed, tmp_path, monkeypatch
):
    """Chosen by a relative path, it reaches the workers as an absolute one; the batch record
    names it, so a rerun with it skips what it did."""
    from napari_gluonseg import read_export, segment_folder

    images, results = reviewed
    folder = corrected_folder(images, results)
    learned = learn(folder.images, folder.class_names, folder.colors, weights=folder.weights)
    save_learned(learned, tmp_path / "m.onnx")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "dask_out"
    summary = segment_folder(images, out, model_name="m.onnx", workers=1)
    assert [r.status for r in summary.reports] == ["done"] * 4
    export = read_export(out / "p3_labels.png")
    assert export.class_names == folder.class_names
    assert export.provenance["model"] == str(tmp_path / "m.onnx")
    assert (export.labels == truth()).mean() > 0.9
    again = segment_folder(images, out, model_name="m.onnx")
    assert [r.status for r in again.reports] == ["skipped"] * 4


def test_an_image_reaches_the_network_for_learning_as_its_run_has_it(untrained_params):
    """12-bit data in uint16 with its window learns what the same image in 8 bits does; without
    the window (/ 65535: nearly black) the features, and so the head, are others."""
    names, colors = [f"class {k}" for k in range(6)], [(k, k, k) for k in range(6)]
    image, labels = photo(0), truth()
    window = {"intensity_range": (0, 255 * 16)}
    groups = (
        [CorrectedImage("8-bit", image, labels)],
        [CorrectedImage("12-bit", image.astype("uint16") * 16, labels, image_options=window)],
        [CorrectedImage("12-bit, no window", image.astype("uint16") * 16, labels)],
    )
    heads = [learn(g, names, colors, weights=untrained_params).head for g in groups]
    np.testing.assert_allclose(heads[1].weight, heads[0].weight, rtol=1e-4, atol=1e-6)
    assert not np.allclose(heads[2].weight, heads[0].weight, atol=1e-3)


def test_each_image_is_learned_at_its_runs_scale_and_a_working_image_too_large_is_named(
    untrained_params, tmp_path
):
    names, colors = [f"class {k}" for k in range(6)], [(k, k, k) for k in range(6)]
    at = [
        CorrectedImage(f"p{n}", photo(n), truth(), image_options={"scale": scale})
        for n, scale in enumerate((1.0, "auto", 1.0))
    ]
    learned = learn(at, names, colors, weights=untrained_params)
    assert learned.scale == [1.0, "auto"] and learned.record()["scale"] == [1.0, "auto"]
    path = save_learned(learned, tmp_path / "mixed.onnx")
    heard = []
    run_to_end(iter_segment_image(photo(9), str(path), scale=0.75), heard.append)
    notices = [e.message for e in heard if e.notice]
    assert "mixed.onnx learned at scales 1.0, 'auto'; this run is at scale=0.75" in notices[0]
    # Learned at 0.25, an image that scale would take below the network's 16 px: "auto" stays
    # the model's own size there, and the run says it is not the learned one.
    quarter = [CorrectedImage(i.name, i.image, i.labels, image_options={"scale": 0.25}) for i in at]
    path = save_learned(learn(quarter, names, colors, weights=untrained_params),
                        tmp_path / "quarter.onnx")  # fmt: skip
    heard.clear()
    small = run_to_end(iter_segment_image(photo(9)[:40, :48], str(path)), heard.append)
    assert small.provenance["scale"] == "auto"
    notices = [e.message for e in heard if e.notice]
    assert "quarter.onnx learned at scale=0.25; this run is at scale='auto'" in notices[0]
    assert segment_image(photo(9), str(path)).provenance["scale"] == 0.25  # where it fits
    shape = (200, 300)
    huge = CorrectedImage("huge", photo(0, shape), truth(shape), image_options={"scale": 8.0})
    with pytest.raises(LearningError, match=r"huge: its run's scale 8.0 takes the 200x300 "
                       r"image to 1600x2400, over the 2,000,000 pixels"):  # fmt: skip
        learn([huge], names, colors, weights=untrained_params)


def test_a_models_own_size_is_never_too_large_to_learn_at():
    """Cityscapes' base size is 2048: "auto" takes a 3:4 photo to 1536x2048 (3.1 MP), over the
    2 MP a numeric scale may reach; the model's own size is learned at, as it always was."""
    from napari_gluonseg.core.learn.learn import _check_images

    shape = (300, 400)
    item = CorrectedImage("street", photo(0, shape), truth(shape))  # scale "auto"
    _check_images([item], 19, 2048)  # refused before: nothing to assert but that it passes
    at_scale = CorrectedImage("street", photo(0, shape), truth(shape), image_options={"scale": 6.0})
    with pytest.raises(LearningError, match=r"street: its run's scale 6.0 takes the 300x400"):
        _check_images([at_scale], 19, 2048)
