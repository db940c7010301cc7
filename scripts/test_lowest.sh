#!/usr/bin/env bash
# make test-lowest: the suite with every direct dependency at the floor pyproject.toml declares
# (requirements/lowest-py3.11.txt, uv's lowest-direct resolution, wheels only; napari 0.5.0,
# numpy 1.24, onnxruntime 1.16, ...), Python 3.11 without MXNet, in .venv-lowest311. A floor that
# fails here is raised in pyproject.toml (then make pins), not left as a claim.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
sync_venv .venv-lowest311 "$(need_python 3.11 "${PYTHON:-}")" requirements/lowest-py3.11.txt
bash scripts/pytest_legs.sh .venv-lowest311=requirements/lowest-py3.11.txt
