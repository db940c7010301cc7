"""The Qt-free review model: listing, order, resuming, saving corrections a batch keeps."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from napari_gluonseg.core.batch import review
from napari_gluonseg.core.batch.folder import segment_folder
from napari_gluonseg.core.batch.review import (
    CORRECTIONS_KEY,
    ReadAhead,
    ReviewSession,
    ReviewStatus,
)
from napari_gluonseg.core.errors import ImageError
from napari_gluonseg.core.files.read_export import read_export
from napari_gluonseg.core.provenance import CORRECTED_KEY


def make_folder(folder, n=3, shape=(64, 80)):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(n):
        pixels = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{k}.png")
    return folder


@pytest.fixture(scope="module")
def annotated(tmp_path_factory, untrained_params):
    """3 images, 2 pre-annotated (min_confidence leaves unlabeled pixels), 1 not yet run."""
    return annotate_two(tmp_path_factory.mktemp("review"), untrained_params)


def annotate_two(root, params):
    """images/img0..2.png, the first two pre-annotated into results/ (min_confidence 0.02)."""
    images = make_folder(root / "images")
    results = root / "results"
    segment_folder(
        [images / "img0.png", images / "img1.png"],
        results,
        weights=params,
        scale=1.0,
        engine="onnxruntime",
        min_confidence=0.02,
    )
    return images, results


def test_lists_images_with_status_least_confident_first(annotated):
    images, results = annotated
    session = ReviewSession(images, results)
    assert sorted(i.key for i in session.items) == ["img0", "img1", "img2"]
    by_key = {i.key: i for i in session.items}
    assert by_key["img2"].status is ReviewStatus.MISSING and by_key["img2"].labels is None
    assert by_key["img0"].status is ReviewStatus.PRE_ANNOTATED
    assert by_key["img0"].labels == results / "img0_labels.png"
    done = [i for i in session.items if i.labels is not None]
    assert [i.uncertain_fraction for i in done] == sorted(
        (i.uncertain_fraction for i in done), reverse=True
    )
    assert session.items[-1].key == "img2"  # no results: last
    assert "pre-annotated" in by_key["img0"].describe()
    names = [i.key for i in ReviewSession(images, results, by_uncertainty=False).items]
    assert names == ["img0", "img1", "img2"]


def test_failed_rows_of_the_summary(tmp_path, annotated):
    images, _ = annotated
    results = tmp_path / "results"
    results.mkdir()
    (results / "summary.csv").write_text(
        f"input,outputs,status,error\n{images / 'img2.png'},,failed,{images / 'img2.png'}: bad\n"
    )
    by_key = {i.key: i for i in ReviewSession(images, results).items}
    assert by_key["img2"].status is ReviewStatus.FAILED and "bad" in by_key["img2"].error
    assert by_key["img0"].status is ReviewStatus.MISSING


def test_resumes_at_the_last_key(tmp_path, annotated):
    images, _ = annotated
    results = tmp_path / "out"
    assert ReviewSession(images, results).last_key() is None
    ReviewSession(images, results).remember("img1")
    assert ReviewSession(images, results).last_key() == "img1"
    assert json.loads((results / "review.json").read_text())["last_key"] == "img1"


def test_corrections_saved_marked_and_kept_by_a_later_batch(tmp_path, annotated, untrained_params):
    images, shared = annotated
    results = tmp_path / "results"
    results.mkdir()
    for path in shared.glob("img0_*"):
        (results / path.name).write_bytes(path.read_bytes())
    session = ReviewSession(images, results)
    export = read_export(results / "img0_labels.png")
    corrected = export.labels.copy()
    corrected[:2, :3] = 1 if corrected[0, 0] != 1 else 2
    item = session.items[session.index_of("img0")]
    session.write_corrections(item, corrected, export.class_names, export.colors, export.provenance)
    session.refresh()
    saved = read_export(results / "img0_labels.png")
    np.testing.assert_array_equal(saved.labels, corrected)
    assert saved.provenance[CORRECTED_KEY] is True
    changed = int(np.count_nonzero(corrected != export.labels))
    assert saved.provenance[CORRECTIONS_KEY][-1]["pixels_changed"] == changed == 6
    assert {i.key: i.status for i in session.items}["img0"] is ReviewStatus.REVIEWED

    summary = segment_folder(
        images, results, weights=untrained_params, scale=1.0, engine="onnxruntime", overwrite=True
    )
    kept = {r.key: r for r in summary.reports}["img0"]
    assert kept.status == "skipped" and "corrected by hand" in kept.error
    np.testing.assert_array_equal(read_export(results / "img0_labels.png").labels, corrected)


def _copied(annotated, tmp_path):
    images, shared = annotated
    results = tmp_path / "results"
    results.mkdir()
    for path in shared.iterdir():
        (results / path.name).write_bytes(path.read_bytes())
    return ReviewSession(images, results)


def _counting_reads(monkeypatch) -> list:
    reads = []
    real = review.read_image

    def counted(path):
        reads.append(path)
        return real(path)

    monkeypatch.setattr(review, "read_image", counted)
    return reads


def test_read_ahead_copy_is_what_opens_while_its_files_are_unchanged(
    tmp_path, annotated, monkeypatch
):
    session = _copied(annotated, tmp_path)
    item = next(i for i in session.items if i.labels is not None)
    reads = _counting_reads(monkeypatch)
    ahead = ReadAhead()
    try:
        ahead.read_ahead([item])
        opened = ahead.take(item)
        assert reads == [item.image]  # read once, in the background
        np.testing.assert_array_equal(opened.export.labels, read_export(item.labels).labels)

        # A batch (or another save) rewrites the labels after they were read ahead: read again.
        ahead.read_ahead([item])
        ahead._pending[item.key].result()
        corrected = opened.export.labels.copy()
        corrected[:4, :4] = 1 if corrected[0, 0] != 1 else 2
        export = opened.export
        session.write_corrections(
            item, corrected, export.class_names, export.colors, export.provenance
        )
        session.refresh()
        item = session.items[session.index_of(item.key)]
        np.testing.assert_array_equal(ahead.take(item).export.labels, corrected)
        assert len(reads) == 3
    finally:
        ahead.close()


def test_a_file_that_cannot_be_read_ahead_fails_when_opened_naming_it(tmp_path, annotated):
    session = _copied(annotated, tmp_path)
    item = session.items[0]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    item = review.ReviewItem(item.key, broken, item.labels, item.status)
    ahead = ReadAhead()
    try:
        ahead.read_ahead([item])
        with pytest.raises(ImageError, match=r"broken\.png"):
            ahead.take(item)
    finally:
        ahead.close()


def test_pre_annotating_with_a_learned_model_redoes_all_but_the_corrections(reviewed, tmp_path):
    """With a learned model, the results only pre-annotated and the images without any are done
    with it; the corrected ones are kept byte for byte, and the rest as recorded otherwise."""
    from napari_gluonseg.core.learn.corrected import corrected_folder
    from napari_gluonseg.core.learn.learn import learn, save_learned
    from napari_gluonseg.core.run.segment import run_to_end

    from ...learn_folder import photo

    images, results = reviewed
    folder = corrected_folder(images, results)
    learned = learn(folder.images, folder.class_names, folder.colors, weights=folder.weights)
    model = save_learned(learned, tmp_path / "learned.onnx")
    Image.fromarray(photo(4)).save(images / "p4.png")  # an image not run yet
    corrected = {k: (results / f"p{k}_labels.png").read_bytes() for k in range(3)}
    session = ReviewSession(images, results, by_uncertainty=False)
    before = session.recorded_batch().options

    summary = run_to_end(session.iter_pre_annotate(lambda: False, model=str(model)))
    statuses = {r.key: r.status for r in summary.reports}
    assert statuses == {"p0": "skipped", "p1": "skipped", "p2": "skipped", "p3": "done",
                        "p4": "done"}  # fmt: skip
    assert {k: (results / f"p{k}_labels.png").read_bytes() for k in range(3)} == corrected
    for key in ("p3", "p4"):
        export = read_export(results / f"{key}_labels.png")
        assert export.provenance["model"] == str(model)
        assert export.class_names == folder.class_names
        assert not export.provenance.get(CORRECTED_KEY)
    after = ReviewSession(images, results, by_uncertainty=False)
    assert {i.key: i.status for i in after.items}["p3"] is ReviewStatus.PRE_ANNOTATED
    recorded = read_export(results / "p3_labels.png").provenance["batch"]["settings"]
    assert recorded["model_name"] == str(model)
    assert recorded["min_confidence"] == before.min_confidence


def test_pre_annotating_more_as_a_learned_model_did_skips_what_it_did(reviewed, tmp_path):
    """The record read back is the learned model's (results no one corrected come first): a
    later "Pre-annotate missing" skips what it did instead of failing on other settings."""
    from napari_gluonseg.core.learn.corrected import corrected_folder
    from napari_gluonseg.core.learn.learn import learn, save_learned
    from napari_gluonseg.core.run.segment import run_to_end

    images, results = reviewed
    folder = corrected_folder(images, results)
    learned = learn(folder.images[:2], folder.class_names, folder.colors, weights=folder.weights)
    model = save_learned(learned, tmp_path / "learned.onnx")
    session = ReviewSession(images, results)
    run_to_end(session.iter_pre_annotate(lambda: False, model=str(model)))
    session.refresh()
    again = run_to_end(session.iter_pre_annotate(lambda: False))  # as recorded: the learned one
    assert {r.status for r in again.reports} == {"skipped"}, again.reports
