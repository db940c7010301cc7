#!/usr/bin/env bash
# pytest on each leg under one X server per leg: scripts/pytest_legs.sh VENV[=LOCK] ...
# A leg given a lock file is a pinned one: tests/test_pins.py then checks that the venv holds
# exactly that lock's versions. TEST_WORKERS pytest processes per leg (0: one process).
# pytest's exit 5 ("no tests collected") is not a failure of the code, but is said.
# The tests that share the ONNX graph run in one process (loadgroup). PYTHONDONTWRITEBYTECODE is
# cleared so that pytest keeps its assertion-rewritten copies of napari and the other plugins.
set -uo pipefail
cd "$(dirname "$0")/.."
for leg in "$@"; do
  venv=${leg%%=*}
  lock=""
  [ "$leg" != "$venv" ] && lock=${leg#*=}
  echo "== pytest on $("$venv/bin/python" -c 'import sys; print(sys.version.split()[0])') ($venv${lock:+, pinned by $lock})"
  GLUONSEG_LOCKFILE=$lock PYTHONDONTWRITEBYTECODE= xvfb-run -a -s "-screen 0 1600x1200x24" \
    "$venv/bin/python" -m pytest -n "${TEST_WORKERS:-2}" --dist loadgroup ${PYTEST_ARGS:-}
  rc=$?
  if [ $rc -eq 5 ]; then
    echo "pytest collected no tests ($venv)"
  elif [ $rc -ne 0 ]; then
    exit $rc
  fi
done
