"""core/learn/head.py: the softmax head fitted on features, and its held-out score."""

import numpy as np
import pytest

from napari_gluonseg.core.errors import LearningError, SegmentationCancelled
from napari_gluonseg.core.learn.head import (
    NEVER,
    LinearHead,
    fit_head,
    held_out_score,
    one_blas_thread,
)
from napari_gluonseg.core.learn.samples import Samples


def _images(n_images, rows=400, features=32, informative=True, seed=0):
    """Rows of three classes (targets 1, 2, 4 of 6) whose first features tell them apart;
    ``informative=False``: the same rows with targets that say nothing of the features."""
    rng = np.random.default_rng(seed)
    parts = []
    for i in range(n_images):
        k = rng.choice([1, 2, 4], rows, p=[0.8, 0.15, 0.05])  # unbalanced, as photos are
        x = rng.normal(0, 1, (rows, features)).astype(np.float32)
        x[:, :6] += 2.5 * np.eye(6, dtype=np.float32)[k]
        if not informative:
            k = rng.permutation(k)
        parts.append(Samples(x, k, np.ones(rows, np.float32), np.full(rows, i, np.int32)))
    return Samples.join(parts)


def test_a_head_separates_classes_the_features_tell_apart_and_never_predicts_absent_ones():
    head = fit_head(_images(4), n_classes=6)
    test = _images(2, seed=1)
    predicted = head.predict(test.features)
    assert (predicted == test.targets).mean() > 0.9
    assert set(np.unique(predicted)) <= {1, 2, 4}
    assert head.weight.shape == (6, 32) and (head.bias[[0, 3, 5]] == NEVER).all()
    assert list(head.classes) == [1, 2, 4]
    # Balanced, the rare class is learned: found in most of its rows, not drowned by the
    # common one. Told the classes' shares, a row in doubt goes to the common class: more rows
    # right than the balanced head alone (its bias without the shares) gets.
    rare = test.targets == 4
    assert (predicted[rare] == 4).mean() > 0.5
    train = _images(4)
    share = np.bincount(train.targets, minlength=6) / len(train)
    balanced = LinearHead(head.weight, head.bias - np.log(np.maximum(share, 1e-30)))
    assert (predicted == test.targets).mean() > (
        balanced.predict(test.features) == test.targets
    ).mean()


def test_a_head_of_labels_that_say_nothing_gives_the_common_class():
    head = fit_head(_images(4, informative=False), n_classes=6)
    test = _images(2, seed=1)
    assert (head.predict(test.features) == 1).mean() > 0.9  # 80% of the rows are class 1


def test_the_grid_logits_average_the_features_over_the_neighbourhood():
    rng = np.random.default_rng(0)
    head = LinearHead(rng.normal(size=(3, 4)), rng.normal(size=3), neighbourhood=3)
    grid = rng.normal(size=(4, 5, 6))
    got = head.grid_logits(grid)
    assert got.shape == (3, 5, 6)
    corner = grid[:, :2, :2].mean(axis=(1, 2))  # the 4 cells of its 3x3 in the grid
    np.testing.assert_allclose(got[:, 0, 0], head.weight @ corner + head.bias, rtol=1e-5)
    inner = grid[:, 1:4, 2:5].mean(axis=(1, 2))
    np.testing.assert_allclose(got[:, 2, 3], head.weight @ inner + head.bias, rtol=1e-5)


def test_the_held_out_score_is_high_for_features_that_tell_and_chance_for_labels_that_do_not():
    good = held_out_score(_images(6), n_classes=6)
    shuffled = held_out_score(_images(6, informative=False), n_classes=6)
    assert good is not None and shuffled is not None
    assert good.accuracy > 0.9 and np.nanmin(good.iou[[1, 2, 4]]) > 0.5
    assert np.isnan(good.iou[[0, 3, 5]]).all()
    assert shuffled.mean_iou < 0.5 * good.mean_iou  # the control: no gain from noise labels
    assert (good.images, good.folds) == (6, 5)


def test_each_fold_is_fitted_without_the_images_it_scores(monkeypatch):
    import napari_gluonseg.core.learn.head as head_module

    samples = _images(6)
    fitted_on = []

    def recorded(fitted, *args, **kwargs):
        fitted_on.append(set(np.unique(fitted.image[kwargs["rows"]]).tolist()))
        return fit(fitted, *args, **kwargs)

    fit = head_module.fit_head
    monkeypatch.setattr(head_module, "fit_head", recorded)
    score = held_out_score(samples, n_classes=6)
    assert score is not None and score.folds == 5
    # 6 images in 5 folds: images 0 and 5 are left out together, the others alone.
    left_out = sorted(sorted(set(range(6)) - rows) for rows in fitted_on)
    assert left_out == [[0, 5], [1], [2], [3], [4]]


def test_one_class_one_image_and_a_stop_are_said():
    one = _images(2)
    one = Samples(one.features, np.full_like(one.targets, 2), one.weights, one.image)
    with pytest.raises(LearningError, match="1 class"):
        fit_head(one, n_classes=6)
    assert held_out_score(_images(1), n_classes=6) is None
    with pytest.raises(SegmentationCancelled):
        fit_head(_images(2), n_classes=6, should_stop=lambda: True)


def test_blas_stays_on_one_thread_while_any_fit_runs_and_gets_its_threads_back_after():
    """Two fits side by side (the held-out folds): the first to end leaves the other on one
    thread; the last gives OpenBLAS its threads back."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    with threadpool_limits(2, user_api="blas"):
        before = blas()
        assert before and max(before) == 2
        first, second = one_blas_thread(), one_blas_thread()
        first.__enter__()
        second.__enter__()
        assert set(blas()) == {1}
        first.__exit__(None, None, None)  # the first fit ends while the second runs
        assert set(blas()) == {1}
        second.__exit__(None, None, None)
        assert blas() == before


def test_a_cancel_stops_the_folds_not_yet_started(monkeypatch):
    import napari_gluonseg.core.learn.head as head_module

    started = []
    fit = head_module.fit_head

    def counted(*args, **kwargs):
        started.append(1)
        return fit(*args, **kwargs)

    monkeypatch.setattr(head_module, "fit_head", counted)
    with pytest.raises(SegmentationCancelled):
        held_out_score(_images(6), n_classes=6, should_stop=lambda: bool(started))
    assert len(started) <= head_module.FOLD_THREADS < head_module.MAX_FOLDS
