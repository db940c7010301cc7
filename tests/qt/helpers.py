"""What the widget tests share across napari versions."""


def camera_of(viewer):
    """The viewer's camera: in ``viewer.scene`` from napari 0.9, on the viewer before."""
    return viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera


def canvas_size(viewer):
    """(height, width) of the canvas, as the widget reads it on every napari version."""
    from napari_gluonseg.qt.regions import _canvas_size

    return _canvas_size(viewer)
