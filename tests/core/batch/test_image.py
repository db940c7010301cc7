"""One image of a batch: its quality figures follow the review's rule of what is uncertain."""

import numpy as np

from napari_gluonseg.core.batch.image import _quality
from napari_gluonseg.core.edits.uncertain import uncertain_mask
from napari_gluonseg.core.run.result import SegmentationResult


def test_the_uncertain_fraction_is_what_the_review_will_walk():
    """A scheme leaves pixels of classes outside it at 0 however sure the model was: the review
    walks them, so the summary's uncertain fraction counts them too, not only the pixels
    below min_confidence."""
    labels = np.ones((4, 5), np.uint8)
    labels[0] = 0  # outside the scheme, confidence 0.9
    confidence = np.full((4, 5), 0.9, np.float32)
    confidence[3, 4] = 0.2  # below min_confidence: the run would have left it 0 too
    labels[3, 4] = 0
    result = SegmentationResult(labels, {}, confidence, ("a",), ((1, 2, 3),), {})
    quality = _quality(result)
    assert quality["uncertain_fraction"] == uncertain_mask(labels, None).mean() == 6 / 20
