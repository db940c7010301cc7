#!/usr/bin/env bash
# make test-latest: the suite against the newest releases that pyproject.toml's ranges admit, no
# pins (PRE=1: pre-releases too, as napari's own --pre job does). Each leg gets a fresh venv
# (.venv-latest311 with the [mxnet] extra, .venv-latest313 without), then this prints every
# package whose newest release differs from its pin in requirements/, and the suite's verdict per
# leg. A failure here names the upstream releases to suspect; make test, on the pins, stays green.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
uv=$(uv_bin)
pre=()
[ "${PRE:-0}" = 1 ] && pre=(--prerelease allow)

moved() {  # moved VENV LOCK: "name pinned -> newest" for each package that is not the pin
  "$uv" pip freeze -q --python "$1/bin/python" --exclude-editable | "$1/bin/python" -c '
import re, sys
def pinned(lines):
    pairs = (l.split(";")[0].strip().split("==") for l in lines if "==" in l and l[0] != "#")
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pairs}
pins, now = pinned(open(sys.argv[1])), pinned(sys.stdin)
for name in sorted(pins.keys() | now.keys()):
    if pins.get(name) != now.get(name):
        old, new = pins.get(name, "(not pinned)"), now.get(name, "(gone)")
        print(f"  {name} {old} -> {new}")
' "$2"
}

verdicts=()
status=0
for leg in "3.11 .venv-latest311 qt,dask,mxnet,testing requirements/test-py3.11.txt" \
           "3.13 .venv-latest313 qt,dask,testing requirements/test-py3.13.txt"; do
  read -r version venv extras lock <<<"$leg"
  "$uv" venv -q --clear --python "$(need_python "$version")" "$venv"
  if ! "$uv" pip install -q --python "$venv/bin/python" "${pre[@]}" -e ".[$extras]" pip; then
    verdicts+=("Python $version: the newest releases do not resolve or install (above)")
    status=1
    continue
  fi
  echo "== Python $version: newest releases against $lock"
  moved "$venv" "$lock"
  if bash scripts/pytest_legs.sh "$venv"; then
    verdicts+=("Python $version: passed on the newest releases")
  else
    verdicts+=("Python $version: FAILED on the newest releases (suspects: the packages listed above)")
    status=1
  fi
done
echo "== make test-latest"
printf '%s\n' "${verdicts[@]}"
exit $status
