import subprocess
import sys
from pathlib import Path

import npe2


def test_npe2_validate_with_imports():
    npe2_cli = Path(sys.executable).parent / "npe2"
    out = subprocess.run(
        [str(npe2_cli), "validate", "napari-gluonseg", "--imports"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "valid" in out.stdout.lower()


def test_manifest_contributions():
    manifest = npe2.PluginManifest.from_distribution("napari-gluonseg")
    assert manifest.display_name == "GluonCV Segmentation"
    assert [w.display_name for w in manifest.contributions.widgets] == [
        "Semantic segmentation",
        "Review folder",
    ]
    assert [s.key for s in manifest.contributions.sample_data] == ["chelsea"]
