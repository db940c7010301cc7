"""What the widget tests share across napari versions."""


def camera_of(viewer):
    """The viewer's camera: in ``viewer.scene`` from napari 0.9, on the viewer before."""
    return viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera


def canvas_size(viewer):
    """(height, width) of the canvas, as the widget reads it on every napari version."""
    from napari_gluonseg.qt.regions import _canvas_size

    return _canvas_size(viewer)


def open_dock(viewer, name: str):
    """The dock ``name`` as napari's *Plugins* menu opens it: built with a ``PublicOnlyProxy``
    of the viewer (its layers proxies too, a new one at each access), docked in the window."""
    _, widget = viewer.window.add_plugin_dock_widget("napari-gluonseg", name)
    return widget
