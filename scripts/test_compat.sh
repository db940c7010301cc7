#!/usr/bin/env bash
# The widget and layer tests on another napari release (default: 0.5.6, the oldest supported),
# in a venv of their own (.venv-napari-VERSION), as `make test-compat NAPARI=0.6.6` runs them.
# Needs what scripts/setup.sh installs from apt (run `make setup` first as root).
set -euo pipefail
cd "$(dirname "$0")/.."
NAPARI=${1:-0.5.6}
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=".venv-napari-$NAPARI"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp="$VENV/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[qt,onnx,testing]" "napari==$NAPARI"
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi
"$VENV/bin/python" -c "import napari; print('napari', napari.__version__)"
xvfb-run -a -s "-screen 0 1600x1200x24" "$VENV/bin/python" -m pytest -p no:cacheprovider \
  tests/qt tests/layers tests/test_manifest.py \
  tests/core/batch/test_review.py
