import numpy as np

from napari_gluonseg import SegmentationResult, model_info
from napari_gluonseg.layers.data import data_digest, label_colormap, result_layer_data


def make_result() -> SegmentationResult:
    info = model_info("fcn_resnet50_ade")
    labels = np.array([[1, 128], [3, 0]], np.uint8)
    return SegmentationResult(
        labels=labels,
        probabilities={info.class_names[127]: np.full((2, 2), 0.5, np.float32)},
        confidence=np.full((2, 2), 0.5, np.float32),
        class_names=info.class_names,
        colors=info.colors,
        provenance={"model": info.name},
    )


def test_layer_tuples_named_after_image_and_placed_like_it():
    (labels, lkw, ltype), (_prob, pkw, ptype) = result_layer_data(
        make_result(), "dog", scale=(2.0, 3.0), translate=(1.0, 1.0)
    )
    assert (ltype, ptype) == ("labels", "image")
    assert lkw["name"] == "dog classes" and pkw["name"] == "dog P(bicycle)"
    assert lkw["scale"] == (2.0, 3.0) and pkw["translate"] == (1.0, 1.0)
    assert pkw["blending"] == "additive" and pkw["contrast_limits"] == (0.0, 1.0)
    features = lkw["features"]
    assert features.loc[128, "class_name"] == "bicycle, bike, wheel, cycle"
    assert features.loc[128, "index"] == 128
    assert lkw["metadata"]["napari_gluonseg"]["written_digest"] == data_digest(labels)


def test_colormap_follows_gluoncv_palette():
    info = model_info("fcn_resnet50_ade")
    cmap = label_colormap(info.colors)
    assert cmap[0][3] == 0 and cmap[None][3] == 0  # unlabeled is transparent
    assert cmap[1] == (120 / 255, 120 / 255, 120 / 255, 1.0)  # wall, gluoncv adepallete row 1
    assert len(cmap) == 152
