#!/usr/bin/env bash
# make pins: regenerate the lock files in requirements/ from pyproject.toml's ranges with uv's
# resolver, one per test environment (see CONTRIBUTING.md, "Pinned environments"):
#   test-py3.11.txt    make test's first leg: Python 3.11 with the [mxnet] extra
#   test-py3.13.txt    make test's second leg: Python 3.13, numpy 2, no MXNet
#   lowest-py3.11.txt  make test-lowest: every direct dependency at its declared floor
#   readers-py3.13.txt the dataset formats' reference readers (.venv-readers), from readers.in
# Resolved for Linux (the test machines); wheels only for the lowest, so that a floor is the
# oldest release that installs there without a compiler. Review the diff, run make test, commit.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
uv=$(uv_bin)

compile() {  # compile LOCK PYTHON_VERSION EXTRAS [uv options]
  local lock=$1 version=$2 extras=$3
  shift 3
  # pip too: make dist and the pre-commit instructions call the venv's pip.
  printf '%s\n' "-e .[$extras]" "pip>=24" | "$uv" pip compile - -q --python-version "$version" \
    --python-platform linux --custom-compile-command "make pins" \
    --build-constraints requirements/build.txt -o "$lock" "$@"
  echo "$lock: $(grep -c '^[a-z]' "$lock") packages"
}

compile requirements/test-py3.11.txt 3.11 qt,dask,mxnet,testing
compile requirements/test-py3.13.txt 3.13 qt,dask,testing
compile requirements/lowest-py3.11.txt 3.11 qt,dask,testing --resolution lowest-direct \
  --only-binary :all: --no-binary napari-gluonseg

"$uv" pip compile requirements/readers.in -q --python-version 3.13 --python-platform linux \
  --custom-compile-command "make pins" -o requirements/readers-py3.13.txt
echo "requirements/readers-py3.13.txt: $(grep -c '^[a-z]' requirements/readers-py3.13.txt) packages"
