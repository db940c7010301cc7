#!/usr/bin/env bash
# make dist: build the wheel and sdist, check them with twine, install the wheel into fresh venvs
# of Python 3.11, 3.12 and 3.13 (no MXNet) and segment a photo with a .params file there; the
# installed size with the [mxnet] extra; then ask pip whether the base install resolves to wheels
# on Windows and Apple-silicon macOS.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
.venv/bin/python -m build --outdir dist . >/dev/null 2>&1 || .venv/bin/python -m build --outdir dist .
.venv/bin/python -m twine check --strict dist/*
wheel=$(ls dist/*.whl)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
.venv/bin/python -c "from napari_gluonseg.core.models.untrained import save_untrained as s; \
s('fcn_resnet50_ade', '$work/UNTRAINED-fcn_resnet50_ade.params')"
for version in 3.11 3.12 3.13; do
  py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".*/bin/python"$version" | tail -1)
  "$py" -m venv "$work/venv$version"
  "$work/venv$version/bin/python" -m pip install -q "$wheel"
  out="$work/out$version"
  # Untrained weights: this checks the install, the labels are noise.
  "$work/venv$version/bin/napari-gluonseg" segment tests/data/dog.jpg --quiet \
    --weights "$work/UNTRAINED-fcn_resnet50_ade.params" --out "$out"
  mods=$("$work/venv$version/bin/python" -c "import importlib.util as u; \
print([m for m in ('mxnet', 'gluoncv') if u.find_spec(m)])")
  numpy=$("$work/venv$version/bin/python" -c "import numpy; print(numpy.__version__)")
  size=$(du -sm "$work/venv$version" | cut -f1)
  echo "Python $version: wheel installed ($size MB, numpy $numpy, MXNet packages: $mods);" \
    "segment wrote $(ls "$out" | tr '\n' ' ')"
done
# The [mxnet] extra beside the base install, both on Python 3.11.
"$work/venv3.11/bin/python" -m pip install -q "$wheel[mxnet]"
echo "Python 3.11 with [mxnet]: $(du -sm "$work/venv3.11" | cut -f1) MB" \
  "(numpy $("$work/venv3.11/bin/python" -c "import numpy; print(numpy.__version__)"))"
for platform in win_amd64 macosx_14_0_arm64; do
  for version in 3.11 3.13; do
    .venv/bin/python -m pip install -q --dry-run --ignore-installed --only-binary=:all: \
      --platform "$platform" --python-version "$version" --report "$work/report.json" \
      "$wheel[qt]" >/dev/null
    count=$(.venv/bin/python -c "import json; print(len(json.load(open('$work/report.json'))['install']))")
    echo "$platform, Python $version: pip resolves the base install + PyQt6 to $count wheels"
  done
done
