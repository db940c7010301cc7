"""plan_run: every argument checked at once and the run sized before anything loads."""

import numpy as np
import pytest

from napari_gluonseg.core.errors import ImageError, OptionError
from napari_gluonseg.core.run.plan import plan_estimate, plan_run

PHOTO = np.zeros((576, 768, 3), np.uint8)


def test_auto_scale_gives_the_models_base_size_and_outputs_the_images():
    plan = plan_run(PHOTO, "fcn_resnet50_ade")
    assert plan.work == (390, 520)  # the long side at ADE20K's base size, 520
    assert plan.stack.plane_shape == (576, 768) and plan.stack.n_planes == 1
    assert [layout.height for layout in plan.layouts] == [390]


def test_test_time_scales_add_passes_and_flips_double_the_estimate():
    plain = plan_run(PHOTO, scale=0.5, tile_size=None)
    augmented = plan_run(PHOTO, scale=0.5, tile_size=None, flip=True, tta_scales=(0.75, 1.0))
    assert len(augmented.layouts) == 2  # 1.0 is the main pass, not another
    assert plan_estimate(augmented).windows == 2 * 2 * plan_estimate(plain).windows


def test_class_names_become_indices_and_subsets_must_hold_the_maps():
    plan = plan_run(PHOTO, probability_classes=["sky", 0], classes=["wall", "sky"])
    assert plan.options.probability_classes == (0, 2) and plan.options.classes == (0, 2)
    with pytest.raises(OptionError, match="floor"):
        plan_run(PHOTO, probability_classes=["floor"], classes=["wall", "sky"])


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"scale": -1}, "scale"),
        ({"tile_size": "big"}, "tile_size"),
        ({"tta_scales": (0.75, "x")}, "tta_scales"),
        ({"min_confidence": 2.0}, "min_confidence"),
        ({"engine": "tensorflow"}, "engine"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_option_is_refused_naming_it(options, named):
    with pytest.raises(OptionError, match=named):
        plan_run(PHOTO, **options)


def test_an_image_too_small_for_the_network_is_refused_with_its_size():
    with pytest.raises(ImageError, match=r"8x8"):
        plan_run(np.zeros((8, 8, 3), np.uint8), scale=1.0)
