"""The provenance record every result carries (a layer's metadata, an export's
``{stem}_provenance.json``): its keys in one place, each with the module that writes it, and the
readers that need more than one key.

- a run (:mod:`.run.execute`): :data:`MODEL`, :data:`WEIGHTS`, :data:`WEIGHTS_SOURCE`,
  :data:`WEIGHTS_SHA1` and the run's settings (scale, tiling, engine, classes, scheme, versions);
- an export (:mod:`.files.export`): :data:`CHECKSUMS_KEY` (the set's sha256, taken out again on
  reading), :data:`PROBABILITY_MAPS` (which class each map file is);
- a batch (:mod:`.batch.settings`, :mod:`.batch.image`): :data:`INPUT_KEY`, :data:`BATCH_KEY`
  (the settings a rerun compares);
- a person's review (:mod:`.batch.review`): :data:`CORRECTED_KEY`, :data:`CORRECTIONS_KEY`;
- an export of a napari layer (``layers.results``): :data:`EXPORTED_LAYER`,
  :data:`EDITED_BY_HAND`, :data:`HAND_TRACKING_COMPLETE` and the hand-edit counts
  (:mod:`.edits.record`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODEL = "model"
WEIGHTS = "weights"
WEIGHTS_SOURCE = "weights_source"  # "zoo" or "local"
WEIGHTS_SHA1 = "weights_sha1"
CHECKSUMS_KEY = "export_sha256"
PROBABILITY_MAPS = "probability_maps"
INPUT_KEY = "input"
BATCH_KEY = "batch"
# Set by a person's review: such labels are never replaced by a batch, overwrite or not.
CORRECTED_KEY = "corrected_by_hand"
CORRECTIONS_KEY = "hand_corrections"
EXPORTED_LAYER = "exported_layer"
EDITED_BY_HAND = "edited_by_hand"
HAND_TRACKING_COMPLETE = "hand_tracking_complete"


def weights_note(provenance: dict[str, Any]) -> str:
    """Say which weights made a result; a local file is not vouched for as a trained model."""
    sha1 = str(provenance.get(WEIGHTS_SHA1, ""))[:8]
    name = Path(str(provenance.get(WEIGHTS, ""))).name
    if provenance.get(WEIGHTS_SOURCE) == "zoo":
        return f"weights: GluonCV model zoo, pretrained ({name})"
    if str(provenance.get(MODEL, "")) == str(provenance.get(WEIGHTS, "")):  # a learned model
        return f"weights: learned model {name} (sha1 {sha1}), learned from your corrections"
    return f"weights: local file {name} (sha1 {sha1}), not the zoo's pretrained weights"
