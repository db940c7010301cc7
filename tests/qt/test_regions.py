"""Tests of qt/regions.py: the part of an image a run covers, read from the viewer.
(The dock's runs over a region: test_segment_run.py.)"""

from __future__ import annotations

import numpy as np

from napari_gluonseg.qt.regions import image_region


def test_rectangle_takes_the_pixels_whose_centres_it_contains(viewer, small_dog):
    image = viewer.add_image(small_dog)
    viewer.add_shapes([np.array([[10.6, 10.6], [10.6, 49.4], [49.4, 49.4], [49.4, 10.6]])])
    region = image_region(viewer, image, "rectangle (Shapes layer)")
    assert region == (slice(11, 50), slice(11, 50))
