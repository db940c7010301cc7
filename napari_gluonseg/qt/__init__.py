"""Everything that needs Qt or napari's GUI lives in this subpackage."""
