"""Questions the widget asks the user."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtWidgets import QMessageBox, QWidget

from ..layers.results import EditedChoice


def ask_about_edited_labels(
    parent: QWidget | None, layer_name: str, pixels: int, hand_set: int | None = None
) -> EditedChoice:
    """Ask whether to overwrite labels a person may have set; the safe answer is the default.
    ``hand_set``: given when every edit was tracked: ``pixels`` are then exactly the edited
    ones (by hand or relabelled in the Correct dock), offered to keep."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Labels edited by hand")
    what = "you edited" if hand_set is not None else "that may have been set by hand"
    box.setText(
        f"This run would change {pixels} pixels of '{layer_name}' {what}. "
        "Overwriting them can be undone with Ctrl+Z."
    )
    keep = None
    if hand_set is not None:
        keep = box.addButton(
            f"Update, keeping the {hand_set} pixels you edited", QMessageBox.ButtonRole.YesRole
        )
    new = box.addButton("Add as a new layer", QMessageBox.ButtonRole.AcceptRole)
    overwrite = box.addButton("Overwrite my edits", QMessageBox.ButtonRole.DestructiveRole)
    box.addButton("Discard this result", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep or new)
    box.exec()
    clicked = box.clickedButton()
    if keep is not None and clicked is keep:
        return EditedChoice.KEEP_HAND_SET
    if clicked is new:
        return EditedChoice.NEW_LAYER
    if clicked is overwrite:
        return EditedChoice.OVERWRITE
    return EditedChoice.CANCEL


def ask_replace_export(parent: QWidget | None, files: list[Path]) -> bool:
    """Ask before an export replaces earlier files; the safe answer (keep them) is the default."""
    names = "\n".join(f.name for f in files[:8]) + ("\n..." if len(files) > 8 else "")
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Replace an earlier export?")
    box.setText(f"{files[0].parent} already holds an export of this name:\n{names}")
    replace = box.addButton("Replace them", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("Keep them", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.exec()
    return box.clickedButton() is replace


def ask_export_folder(parent: QWidget | None) -> str | None:
    """A folder to export into, or None if the user cancels."""
    from qtpy.QtWidgets import QFileDialog

    folder = QFileDialog.getExistingDirectory(parent, "Export labels for training into")
    return folder or None
