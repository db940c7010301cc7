#!/usr/bin/env bash
# make dist: the quick form first (tests/test_dist.py, which make test runs too: the sdist and
# wheel built with the pinned build requirements, twine, what each holds, the wheel installed at
# the pins and its command run); then that build, in dist/, installed by pip into fresh venvs of
# Python 3.11, 3.12 and 3.13 at today's releases (what a user gets) segmenting a photo with a
# .params file; the [mxnet] extra installed on 3.11 and run with MXNet, and on 3.12/3.13 what
# it would add (nothing) and what the engine says; last, the resolution of the base install
# to wheels on Windows and Apple-silicon macOS (uv's resolver). Its lines are the README's table.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
.venv/bin/python -m pytest -q -p no:cacheprovider tests/test_dist.py
rm -rf dist
"$(uv_bin)" build -q --build-constraint requirements/build.txt -o dist .
.venv/bin/python -m twine check --strict dist/*
wheel=$PWD/$(ls dist/*.whl)
dog=$PWD/tests/data/dog.jpg
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MXNET_HOME=$work/mxnet_home
weights=$work/UNTRAINED-fcn_resnet50_ade.params
.venv/bin/python -c "from napari_gluonseg.core.models.untrained import save_untrained as s; \
s('fcn_resnet50_ade', '$weights')"
for version in 3.11 3.12 3.13; do
  venv=$work/venv$version
  "$(need_python "$version")" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel"
  out=$work/out$version
  # Untrained weights: this checks the install, the labels are noise. Away from the source tree.
  (cd "$work" && "$venv/bin/napari-gluonseg" segment "$dog" --quiet \
    --weights "$weights" --out "$out") || exit 1
  mods=$("$venv/bin/python" -c "import importlib.util as u; \
print([m for m in ('mxnet', 'gluoncv') if u.find_spec(m)])")
  numpy=$("$venv/bin/python" -c "import numpy; print(numpy.__version__)")
  echo "Python $version: wheel installed ($(du -sm "$venv" | cut -f1) MB, numpy $numpy," \
    "MXNet packages: $mods); segment wrote $(ls "$out" | tr '\n' ' ')"
done
# The [mxnet] extra as the README says, into a fresh 3.11 venv (on top of a base install pip
# would downgrade numpy and leave packages that need numpy 2), run with MXNet itself.
venv=$work/venv3.11-mxnet
"$(need_python 3.11)" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel[mxnet]"
(cd "$work" && "$venv/bin/napari-gluonseg" segment "$dog" --quiet --engine mxnet \
  --weights "$weights" --out "$work/out-mxnet") || exit 1
echo "Python 3.11 with [mxnet]: $(du -sm "$venv" | cut -f1) MB" \
  "(numpy $("$venv/bin/python" -c "import numpy; print(numpy.__version__)")); pip check:" \
  "$("$venv/bin/python" -m pip check --disable-pip-version-check 2>&1 | tr '\n' ' ');" \
  "segment --engine mxnet wrote $(ls "$work/out-mxnet" | tr '\n' ' ')"
for version in 3.12 3.13; do
  venv=$work/venv$version
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --dry-run \
    --report "$work/report.json" "$wheel[mxnet]"
  adds=$("$venv/bin/python" -c "import json; print([i['metadata']['name'] for i in \
json.load(open('$work/report.json'))['install'] if i['metadata']['name'] != 'napari-gluonseg'])")
  said=$(cd "$work" && "$venv/bin/napari-gluonseg" segment "$dog" \
    --engine mxnet --out "$work/mx" 2>&1 || true)
  echo "Python $version with [mxnet]: pip would add $adds; --engine mxnet says: $said"
done
# Other platforms, by uv's resolver (pip's --platform/--python-version evaluate environment
# markers for the Python running pip, not the target): wheels only, markers for the target.
resolve() {  # resolve PLATFORM PYTHON_VERSION EXTRAS: the pins, one a line
  printf '%s\n' "napari-gluonseg[$3] @ file://$wheel" | "$(uv_bin)" pip compile - -q --no-header \
    --no-annotate --only-binary :all: --python-platform "$1" --python-version "$2"
}
for platform in x86_64-pc-windows-msvc aarch64-apple-darwin; do
  for version in 3.11 3.13; do
    base=$(resolve "$platform" "$version" qt)
    if with=$(resolve "$platform" "$version" qt,mxnet 2>"$work/err"); then
      [ "$with" = "$base" ] && extra="installs nothing" || extra="adds $(comm -13 \
        <(echo "$base") <(echo "$with") | tr '\n' ' ')"
    else
      extra="does not resolve ($(grep -o 'Wheels are available.*' "$work/err" || cat "$work/err"))"
    fi
    echo "$platform, Python $version: the base install + PyQt6 resolves to" \
      "$(grep -c . <<<"$base") wheels; [mxnet] $extra"
  done
done
