"""The segmentation dock's "Export labels...": a labels layer as it is now (hand corrections
included) written for training with its class table and provenance (and the run's kept scores
if asked), by :func:`~napari_gluonseg.layers.results.export_layer`; or, with its image's file,
as a dataset of a format other tools read
(:func:`~napari_gluonseg.layers.export.export_layer_dataset`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari.layers import Labels
from napari.utils.notifications import show_error
from qtpy.QtWidgets import QWidget

from ..core.errors import ExportExistsError, GluonsegError
from ..core.files.export import existing_export_files
from ..layers.export import DATASET_FORMATS, export_layer_dataset
from ..layers.results import export_layer, export_stem_of, plugin_labels_layer
from . import dialogs
from .controls import RunControls

if TYPE_CHECKING:
    import napari


def labels_to_export(viewer: napari.viewer.Viewer, controls: RunControls) -> Labels | None:
    """The layer chosen in 'write into', else the plugin's labels of the image chosen."""
    if controls.target.value is not None:
        return controls.target.value
    image = controls.image.value
    return None if image is None else plugin_labels_layer(viewer, image)


def export_labels(
    parent: QWidget, layer: Labels, folder: str | Path, controls: RunControls
) -> tuple[dict[str, Path], str]:
    """Write ``layer`` into ``folder`` in the format the controls choose; an earlier export of
    the same name is only replaced if the user says so (asked over ``parent``). The files
    written ({} if none), and what the dock says."""
    if controls.export_format.value in DATASET_FORMATS:
        return export_layer_as_dataset(
            layer, controls.image.value, folder, controls.export_format.value
        )
    clash = existing_export_files(folder, export_stem_of(layer))
    if clash and not dialogs.ask_replace_export(parent, clash):
        return {}, "export cancelled: the existing files are kept"
    try:
        fmt = controls.export_format.value
        keep = bool(controls.export_scores.value)
        paths = export_layer(layer, folder, fmt, keep_scores=keep, overwrite=bool(clash))
    except (GluonsegError, OSError) as exc:
        show_error(f"Export failed: {exc}")
        return {}, f"export failed: {exc}"
    return paths, f"exported {layer.name} to {Path(folder).resolve()}"


def export_layer_as_dataset(
    layer: Labels, image: Any, folder: str | Path, fmt: str
) -> tuple[dict[str, Path], str]:
    """Write ``layer`` with ``image``'s file as a dataset of ``fmt`` into the empty ``folder``;
    one that holds files is refused, not replaced: the dataset would take the whole folder's
    place. The folder ({} if not written), and what the dock says."""
    try:
        summary = export_layer_dataset(layer, image, folder, fmt)
    except ExportExistsError:
        text = f"{folder} already holds files: a dataset is written into an empty folder."
        show_error(f"Export failed: {text}")
        return {}, f"export failed: {text}"
    except (GluonsegError, OSError) as exc:
        show_error(f"Export failed: {exc}")
        return {}, f"export failed: {exc}"
    return {"dataset": summary.out}, summary.describe()
