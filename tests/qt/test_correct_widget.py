"""The "Correct labels" dock in a real napari viewer, driven with the mouse and keys on the
canvas (needs an X server): likely-classes menu, runner-up key, clean speckles, class brush,
hand-edit tracking, Ctrl+Z."""

from __future__ import annotations

import numpy as np
import pytest
from napari.layers import Labels
from qtpy.QtCore import QPoint, Qt

from napari_gluonseg.core.edits.likely import likely_classes
from napari_gluonseg.core.files.read_export import read_provenance
from napari_gluonseg.core.run.scores import ScoreGrid
from napari_gluonseg.layers.corrections import attach_scores, hand_tracker, kept_scores
from napari_gluonseg.layers.data import METADATA_KEY, class_features, label_colormap
from napari_gluonseg.layers.results import export_layer
from napari_gluonseg.qt.correct_widget import BrushRule, MouseTool, Within

from .helpers import camera_of

NAMES = ["wall", "building", "sky", "floor", "tree"]
COLORS = [(120, 120, 120), (180, 120, 120), (6, 230, 230), (80, 50, 50), (4, 200, 3)]
SHAPE = (40, 60)


def scores(leading=()) -> ScoreGrid:
    """Five classes on an 11x16 grid: left half sky 60% > building 30%; right half tree 70%."""
    p = np.full((max(1, int(np.prod(leading))), 5, 11, 16), 0.025, np.float32)
    p[:, 2, :, :8], p[:, 1, :, :8] = 0.6, 0.3
    p[:, 4, :, 8:] = 0.7
    p /= p.sum(axis=1, keepdims=True)
    return ScoreGrid(p.astype(np.float16), tuple(leading), SHAPE, tuple(range(5)))


def plugin_labels(viewer, data: np.ndarray, grid: ScoreGrid | None) -> Labels:
    """A labels layer as a run leaves it: class names, colours, kept scores, tracked edits."""
    layer = viewer.add_labels(
        data, name="photo classes", features=class_features(NAMES),
        colormap=_colormap(), opacity=0.6,
    )  # fmt: skip
    attach_scores(layer, grid, (0,) * data.ndim)
    hand_tracker(layer)
    return layer


def _colormap():
    from napari.utils.colormaps import DirectLabelColormap

    return DirectLabelColormap(color_dict=label_colormap(COLORS))


@pytest.fixture
def viewer(make_viewer):
    return make_viewer(show=True)  # shown: the canvas maps the mouse as on a desktop


@pytest.fixture
def dock(viewer):
    """The dock as napari's plugin menu opens it: built with a proxy of the viewer, whose layers
    are proxies too (a proxy is not the layer, and a new one comes with each access)."""
    _, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Correct labels")
    return widget


def canvas(viewer):
    return viewer.window._qt_viewer.canvas.native


def look_at(viewer, y: float, x: float, zoom: float = 8.0) -> QPoint:
    """Centre the view on data pixel (y, x): the canvas' centre is then that pixel."""
    camera = camera_of(viewer)
    camera.center = (0, y, x)  # (z, y, x) on every napari version
    camera.zoom = zoom
    native = canvas(viewer)
    return QPoint(native.width() // 2, native.height() // 2)


def drag_to(native, at: QPoint) -> None:
    """A mouse move with the left button held (qtbot's mouseMove holds none)."""
    from qtpy.QtCore import QEvent, QPointF
    from qtpy.QtGui import QMouseEvent
    from qtpy.QtWidgets import QApplication

    event = QMouseEvent(
        QEvent.Type.MouseMove, QPointF(at), QPointF(native.mapToGlobal(at)),
        Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip
    QApplication.sendEvent(native, event)


def ctrl_click(qtbot, viewer, y: int, x: int) -> None:
    at = look_at(viewer, y, x)
    qtbot.mouseClick(
        canvas(viewer), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, at
    )


def test_relabel_where_the_class_is_likely_splits_a_merged_region_along_the_scores(
    qtbot, viewer, dock
):
    data = np.full(SHAPE, 4, np.int32)  # one "floor" region over sky (left), tree (right)
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    dock._within.value = Within.LIKELY.value
    dock._threshold.value = 0.5
    ctrl_click(qtbot, viewer, 20, 10)
    assert dock.menu.actions()[0].text().startswith("&1  tree")  # 35% over the region
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)  # tree: likely on the right half only
    assert (layer.data[:, 34:] == 5).all() and (layer.data[:, :26] == 4).all()
    assert "where its probability is 0.50 or more" in dock._status.value
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)  # one undoable edit
    dock._within.value = Within.REGION.value
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)
    # The whole region: the undone relabel no longer counts as an edit.
    assert (layer.data == 5).all()


def test_a_region_relabelled_once_can_be_relabelled_again_and_undone_edits_are_undone(
    qtbot, viewer, dock
):
    data = np.full(SHAPE, 4, np.int32)
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(dock.menu, Qt.Key.Key_2)  # building
    assert (layer.data[:, :30] == 2).all()
    ctrl_click(qtbot, viewer, 20, 10)  # the person changes their mind: sky after all
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)
    assert (layer.data[:, :30] == 3).all() and (layer.data[:, 30:] == 5).all()
    assert dock._status.value == f"{30 * 40} pixels relabelled sky"
    tracker = hand_tracker(layer)
    assert tracker.provenance()["pixels_changed_by_tool"] == {"relabel": 30 * 40}
    assert tracker.provenance()["pixels_set_by_hand"] == 0  # picked here, not painted
    for _ in range(2):
        qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)
    assert tracker.provenance()["pixels_changed_by_tool"] == {}  # undone: no edit left
    viewer.cursor.position = (20, 5)
    look_at(viewer, 20, 5)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_R)  # the runner-up of floor: sky
    assert (layer.data[:, :30] == 3).all()
    assert dock._hand.value == (
        f"set by hand: 0 pixels, relabelled here: {30 * 40} (runner-up {30 * 40})"
    )


def test_undone_brush_strokes_no_longer_count_and_a_redo_counts_again(viewer, dock):
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    layer.mode, layer.brush_size = "paint", 5
    layer.paint((5, 5), 1)
    painted = int((layer.data == 1).sum())
    tracker = hand_tracker(layer)
    assert tracker.provenance()["pixels_set_by_hand"] == painted > 0
    layer.undo()
    assert tracker.provenance()["pixels_set_by_hand"] == 0
    layer.redo()
    assert tracker.provenance()["pixels_set_by_hand"] == painted


def test_the_dock_counts_again_after_ctrl_z_and_says_why_a_pick_changed_nothing(
    qtbot, viewer, dock
):
    """After Ctrl+Z the "relabelled here" count stayed; a pick on a region painted by hand
    said "0 pixels relabelled" and no more."""
    data = np.full(SHAPE, 4, np.int32)
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    dock._within.value = Within.REGION.value
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)
    assert dock._hand.value.startswith(
        f"set by hand: 0 pixels, relabelled here: {SHAPE[0] * SHAPE[1]}"
    )
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dock._hand.value == "set by hand: 0 pixels, relabelled here: 0")

    layer.mode, layer.selected_label = "fill", 2  # napari's fill: the region is the person's
    layer.fill((20, 10), 2)
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)
    assert (layer.data == 2).all()
    assert dock._status.value.startswith("0 pixels relabelled")
    assert "set by hand" in dock._status.value


def test_by_default_a_relabel_gives_back_only_the_part_the_scores_put_in_the_class(
    qtbot, viewer, dock
):
    """A region labelled sky over its whole width, where the scores see a tree on the right:
    picking tree there relabels the right part alone (the benchmark's partial regions)."""
    data = np.full(SHAPE, 3, np.int32)  # sky everywhere
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    assert dock._within.value == Within.FOLLOW.value
    ctrl_click(qtbot, viewer, 20, 50)
    texts = [a.text() for a in dock.menu.actions()]
    tree = next(i for i, t in enumerate(texts) if "tree" in t)
    qtbot.keyClick(dock.menu, getattr(Qt.Key, f"Key_{tree + 1}"))
    assert (layer.data[:, 34:] == 5).all() and (layer.data[:, :26] == 3).all()
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)
    dock._within.value = Within.REGION.value
    ctrl_click(qtbot, viewer, 20, 50)
    qtbot.keyClick(dock.menu, getattr(Qt.Key, f"Key_{tree + 1}"))
    assert (layer.data == 5).all()  # the whole region, as asked


def test_ctrl_click_lists_likely_classes_a_key_relabels_and_ctrl_z_restores(qtbot, viewer, dock):
    data = np.full(SHAPE, 4, np.int32)  # "floor" everywhere: wrong
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    menu = dock.menu
    assert menu is not None
    items = [a.text() for a in menu.actions()]
    region = (slice(0, 40), slice(0, 30)), np.ones((40, 30), bool)
    (k1, p1), (k2, p2) = likely_classes(scores(), (), *region, k=2)
    assert (k1, k2) == (2, 1) and items[:2] == [f"&1  sky  {p1:.0%}", f"&2  building  {p2:.0%}"]
    qtbot.keyClick(menu, Qt.Key.Key_2)  # the second choice: building
    assert (layer.data[:, :30] == 2).all() and (layer.data[:, 30:] == 5).all()
    # Hover text follows: napari's status names the class under the cursor.
    status = layer.get_status((20, 10), view_direction=None, dims_displayed=[0, 1])
    assert "building" in str(status)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(layer.data, data)  # one undoable edit


def test_r_gives_the_region_under_the_cursor_its_runner_up(qtbot, viewer, dock):
    data = np.full(SHAPE, 3, np.int32)  # sky on the left: the model's top class there
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores())
    viewer.cursor.position = (20, 5)
    look_at(viewer, 20, 5)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_R)
    assert (layer.data[:, :30] == 2).all() and (layer.data[:, 30:] == 5).all()
    assert hand_tracker(layer).provenance()["pixels_changed_by_tool"] == {"runner-up": 30 * 40}


def test_a_relabel_leaves_hand_set_pixels_and_can_stop_at_the_field_of_view(qtbot, viewer, dock):
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    layer.mode = "paint"
    layer.paint((5, 5), 1)  # napari's brush, size 10: a disc of hand-set pixels
    painted = layer.data == 1
    assert hand_tracker(layer).provenance()["pixels_set_by_hand"] == painted.sum() > 0
    dock._within.value = "field of view"
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 30, 40)  # zoom 8: the view shows rows ~[-8, 68), cols [-10, 90)
    camera_of(viewer).zoom = 8.0
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)  # tree, the top class on the right
    assert (layer.data[painted] == 1).all()
    assert (layer.data[~painted] == 5).sum() > 0


def test_clean_speckles_previews_then_cleans_in_one_undo_leaving_hand_set_ones(qtbot, viewer, dock):
    data = np.full(SHAPE, 3, np.int32)
    data[5:7, 5:7] = 1  # a speckle
    data[20:23, 40:43] = 2  # another
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.selected_label, layer.mode = 4, "paint"
    layer.paint((30, 10), 4)  # a hand-painted disc: small, but the person's
    hand = layer.data == 4
    before = layer.data.copy()
    dock._min_size.value = 20
    assert dock._preview.value == "2 speckles, 13 pixels would change"
    dock._clean.native.click()
    assert dock._status.value == "cleaned 2 speckles (13 pixels)"
    assert (layer.data[5:7, 5:7] == 3).all() and (layer.data[20:23, 40:43] == 3).all()
    assert (layer.data[hand] == 4).all()
    assert dock._preview.value.startswith("0 speckles")
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)
    layer.selected_label, layer.brush_size = 1, 3
    layer.paint((6, 8), 1)  # by hand, onto the first speckle: now the person's, left alone
    # counted again once the edits pause
    qtbot.waitUntil(lambda: dock._preview.value == "1 speckles, 9 pixels would change")


def test_a_class_brush_drag_set_to_likely_paints_only_where_the_class_is_likely(
    qtbot, viewer, dock
):
    layer = plugin_labels(viewer, np.zeros(SHAPE, np.int32), scores())
    layer.selected_label = 3  # sky: likely on the left half only
    layer.brush_size = 6
    dock._brush.value = BrushRule.LIKELY.value  # unlabelled pixels: "close" would paint them all
    dock._mouse.value = MouseTool.CLASS_BRUSH.value
    assert layer.mode == "pan_zoom"
    start = look_at(viewer, 20, 30, zoom=8.0)
    native = canvas(viewer)
    qtbot.mousePress(native, Qt.MouseButton.LeftButton, pos=start - QPoint(8 * 20, 0))
    for dx in range(-20, 21, 5):  # a stroke along row 20 from column 10 to 50
        drag_to(native, start + QPoint(8 * dx, 0))
        qtbot.wait(5)
    qtbot.mouseRelease(native, Qt.MouseButton.LeftButton, pos=start + QPoint(8 * 20, 0))
    painted = layer.data == 3
    assert painted[:, 10:26].any() and not painted[:, 34:].any()
    assert not painted[:15].any() and not painted[26:].any()
    changed = hand_tracker(layer).provenance()["pixels_changed_by_tool"]
    assert changed == {"class brush": int(painted.sum())}
    layer.undo()
    assert not layer.data.any()  # one stroke, one undo
    dock._mouse.value = MouseTool.NAPARI.value
    assert layer.mouse_pan  # napari's tools: a drag moves the camera again


def test_the_class_brush_paints_where_the_class_comes_close_to_the_label_or_where_it_is_likely(
    viewer, dock
):
    """By default the brush follows the ratio the corrections benchmark measures: P(class) /
    P(the label there) of at least FOLLOW_RATIO (a wrong label is the argmax, so the truth is
    below it and an absolute 0.5 never paints it). 'where the class is likely': P >= threshold."""
    p = np.full((1, 5, 11, 16), 0.02, np.float32)
    p[:, 2, :, :8], p[:, 1, :, :8] = 0.6, 0.3  # left: sky 60%, building 30%
    p[:, 4, :, 8:], p[:, 2, :, 8:] = 0.5, 0.2  # right: tree 50%, sky 20% (close behind)
    p[:, 0, :, 8:] = 0.001  # wall: far behind the tree
    p /= p.sum(axis=1, keepdims=True)
    data = np.zeros(SHAPE, np.int32)
    data[:, :30], data[:, 30:] = 2, 5  # building | tree: as the run labelled them
    layer = plugin_labels(viewer, data, ScoreGrid(p.astype(np.float16), (), SHAPE, (0, 1, 2, 3, 4)))
    stroke = np.zeros(SHAPE, bool)
    stroke[18:23, 5:55] = True
    assert dock._brush.value == BrushRule.CLOSE.value  # the default
    layer.selected_label = 3  # sky
    dock.paint_class(layer, (), stroke)
    np.testing.assert_array_equal(layer.data == 3, stroke)  # both halves: sky comes close
    layer.undo()
    dock._brush.value = BrushRule.LIKELY.value
    dock.paint_class(layer, (), stroke)
    painted = layer.data == 3
    assert painted[18:23, 5:26].all() and not painted[:, 34:].any()  # the left only
    assert "probability" in dock._status.value
    layer.undo()
    dock._brush.value = BrushRule.CLOSE.value
    layer.selected_label = 1  # wall: far behind the tree on the right
    dock.paint_class(layer, (), stroke)
    assert not (layer.data == 1)[:, 34:].any()


def test_a_stack_is_corrected_in_the_plane_shown(qtbot, viewer, dock):
    data = np.full((3, *SHAPE), 4, np.int32)
    data[..., 30:] = 5
    layer = plugin_labels(viewer, data.copy(), scores((3,)))
    viewer.dims.set_point(0, 1)
    layer.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)
    assert (layer.data[1, :, :30] == 3).all()
    np.testing.assert_array_equal(layer.data[[0, 2]], data[[0, 2]])


def test_exports_say_what_was_set_by_hand_and_reopen_with_their_scores(
    qtbot, viewer, dock, tmp_path
):
    from napari_gluonseg._reader import read_labels_export

    data = np.full(SHAPE, 4, np.int32)
    data[:, 30:] = 5
    layer = plugin_labels(viewer, data, scores())
    layer.mode = "paint"
    layer.paint((5, 5), 1)
    paths = export_layer(layer, tmp_path, "png", keep_scores=True)
    provenance = read_provenance(paths["provenance"])
    assert provenance["pixels_set_by_hand"] == int((layer.data == 1).sum())
    assert provenance["pixels_changed_by_tool"] == {"paint": int((layer.data == 1).sum())}
    ((data, kwargs, _),) = read_labels_export(str(paths["labels"]))
    reopened = viewer.add_layer(Labels(data, **kwargs))
    grid = kept_scores(reopened)
    assert grid is not None and np.array_equal(grid.grid.probs, scores().probs)
    reopened.mode = "pan_zoom"
    ctrl_click(qtbot, viewer, 20, 45)
    region = (slice(0, 40), slice(30, 60)), np.ones((40, 30), bool)
    ((k, p),) = likely_classes(scores(), (), *region, k=1)
    assert dock.menu.actions()[0].text() == f"&1  tree  {p:.0%}  (now)" and k == 4


def test_without_a_labels_layer_selected_the_dock_says_what_to_select(viewer, dock):
    from napari_gluonseg.qt.correct_widget import NO_LAYER

    assert dock._status.value == NO_LAYER
    viewer.add_image(np.zeros(SHAPE), name="photo")  # selected: not labels
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    assert dock._status.value == ""
    viewer.layers.selection.active = viewer.layers["photo"]
    assert dock._status.value == NO_LAYER
    dock._status.value = ""
    dock._clean.native.click()  # a button that would do nothing says why
    assert dock._status.value == NO_LAYER and (layer.data == 4).all()


def test_closing_the_dock_takes_its_gestures_off_the_layers(qtbot, viewer):
    dock, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", "Correct labels")
    layer = plugin_labels(viewer, np.full(SHAPE, 4, np.int32), scores())
    viewer.add_image(np.zeros(SHAPE), name="photo")
    for _ in range(5):  # each selection hands the dock a new proxy of the layer
        viewer.layers.selection.active = viewer.layers["photo"]
        viewer.layers.selection.active = layer
    assert layer.mouse_drag_callbacks.count(widget._on_press) == 1  # attached once
    dock.titleBarWidget().close_button.click()  # napari's own close button
    qtbot.wait(50)
    assert widget._on_press not in layer.mouse_drag_callbacks
    viewer.cursor.position = (20, 5)
    look_at(viewer, 20, 5)
    qtbot.keyClick(canvas(viewer), Qt.Key.Key_R)
    assert (layer.data == 4).all()  # R no longer relabels


@pytest.mark.parametrize("threads", [False, pytest.param(True, marks=pytest.mark.threads)])
def test_snap_to_image_edges_moves_a_boundary_onto_the_edge_in_one_undoable_edit(
    qtbot, viewer, dock, threads
):
    rng = np.random.default_rng(0)
    truth = np.full(SHAPE, 3, np.int32)
    truth[:, 37:] = 5  # sky | tree, the edge at column 37
    photo = np.where(truth[..., None] == 5, (40, 160, 40), (120, 180, 250)).astype(np.float32)
    photo = np.clip(photo + rng.normal(0, 6, photo.shape), 0, 255).astype(np.uint8)
    viewer.add_image(photo, name="photo")
    labels = truth.copy()
    labels[:, 33:37] = 5  # the pre-annotation's boundary 4 px off
    layer = plugin_labels(viewer, labels.copy(), scores())
    layer.selected_label, layer.brush_size, layer.mode = 4, 1, "paint"
    layer.paint((10, 35), 4)  # a pixel set by hand (floor): it stays
    before = layer.data.copy()
    dock._snap.button.native.click()
    qtbot.waitUntil(lambda: dock._status.value.startswith("snapped"), timeout=60_000)
    wrong = layer.data != truth
    assert wrong.sum() == 1 and wrong[10, 35]
    assert hand_tracker(layer).provenance()["pixels_changed_by_tool"]["snap"] == 4 * 40 - 1
    layer.undo()
    np.testing.assert_array_equal(layer.data, before)  # one undo takes the snap back


@pytest.mark.parametrize("source_named", [True, False])
def test_snap_reads_the_photo_the_labels_came_from_not_a_map_shown_above_it(
    qtbot, viewer, dock, source_named
):
    """It took the topmost image of the labels' shape: the run's own confidence map once shown.
    The labels name their source image; without that name, the plugin's own maps are passed."""
    truth = np.full(SHAPE, 3, np.int32)
    truth[:, 37:] = 5
    photo = np.where(truth[..., None] == 5, (40, 160, 40), (120, 180, 250)).astype(np.uint8)
    viewer.add_image(photo, name="photo")
    labels = truth.copy()
    labels[:, 33:37] = 5
    layer = plugin_labels(viewer, labels, scores())
    if source_named:
        layer.metadata[METADATA_KEY] = {"role": "labels", "source_image": "photo"}
    stripes = np.zeros(SHAPE, np.float32)
    stripes[:, 20:] = 1.0  # an edge where the photo has none
    viewer.add_image(
        stripes, name="photo confidence",
        metadata={METADATA_KEY: {"role": "confidence", "source_image": "photo"}},
    )  # fmt: skip
    viewer.layers.selection.active = viewer.layers["photo classes"]
    dock._snap.button.native.click()
    qtbot.waitUntil(lambda: dock._status.value.startswith("snapped"), timeout=60_000)
    assert "'photo'" in dock._status.value
    np.testing.assert_array_equal(layer.data, truth)


@pytest.mark.threads
def test_a_gesture_is_computed_off_the_gui_thread_and_never_overwrites_a_stroke_made_meanwhile(
    qtbot, viewer, dock, monkeypatch
):
    """At 12 MP a relabel ran 1.1-2.4 s in the GUI thread: it is computed in a worker and
    written in one step; a brush stroke made while it computed is kept (nothing is written)."""
    import threading

    from napari_gluonseg.layers.corrections import LayerCorrector

    data = np.full(SHAPE, 4, np.int32)
    layer = plugin_labels(viewer, data.copy(), scores())
    layer.mode = "pan_zoom"
    dock._within.value = Within.REGION.value
    entered, go, threads = threading.Event(), threading.Event(), []
    prepare = LayerCorrector.prepare

    def slow(self, *args):
        prepared = prepare(self, *args)  # the edit is computed: the person paints now
        threads.append(threading.current_thread())
        entered.set()
        go.wait(30)
        return prepared

    monkeypatch.setattr(LayerCorrector, "prepare", slow)
    ctrl_click(qtbot, viewer, 20, 10)
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)
    qtbot.waitUntil(entered.is_set, timeout=10_000)
    assert threads[0] is not threading.main_thread()
    assert (layer.data == 4).all()  # the GUI went on: nothing written yet
    layer.selected_label, layer.brush_size = 2, 3
    layer.paint((5, 5), 2)  # the person paints while it computes
    go.set()
    qtbot.waitUntil(lambda: not dock._computing, timeout=10_000)
    assert layer.data[5, 5] == 2 and (layer.data[30:, 40:] == 4).all()
    assert "changed while the correction was computed" in dock._status.value

    entered.clear()
    ctrl_click(qtbot, viewer, 30, 50)  # again, untouched meanwhile: written in one edit
    go.set()
    qtbot.keyClick(dock.menu, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: not dock._computing and "relabelled" in dock._status.value)
    assert (layer.data[30:, 40:] != 4).all() and layer.data[5, 5] == 2
    layer.undo()
    assert (layer.data[30:, 40:] == 4).all() and layer.data[5, 5] == 2
