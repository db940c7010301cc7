"""Questions the widget asks the user."""

from __future__ import annotations

from enum import Enum

from qtpy.QtWidgets import QMessageBox, QWidget


class EditedLayerChoice(Enum):
    """What to do when the labels layer a run would replace has been edited by hand."""

    OVERWRITE = "overwrite"
    NEW_LAYER = "new layer"
    CANCEL = "cancel"


def ask_about_edited_labels(parent: QWidget | None, layer_name: str) -> EditedLayerChoice:
    """Ask whether to overwrite hand-edited labels; the safe answer is the default."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Labels edited by hand")
    box.setText(
        f"'{layer_name}' has been edited since the last run. Overwriting it loses those edits."
    )
    new = box.addButton("Add as a new layer", QMessageBox.ButtonRole.AcceptRole)
    overwrite = box.addButton("Overwrite my edits", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Discard this result", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(new)
    box.exec()
    clicked = box.clickedButton()
    if clicked is new:
        return EditedLayerChoice.NEW_LAYER
    if clicked is overwrite:
        return EditedLayerChoice.OVERWRITE
    return EditedLayerChoice.CANCEL


def ask_export_folder(parent: QWidget | None) -> str | None:
    """A folder to export into, or None if the user cancels."""
    from qtpy.QtWidgets import QFileDialog

    folder = QFileDialog.getExistingDirectory(parent, "Export labels for training into")
    return folder or None
