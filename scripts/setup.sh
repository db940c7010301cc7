#!/usr/bin/env bash
# Idempotent set-up on Debian: system packages (as root), then two venvs with the plugin, PyQt6
# and the test tools. Reruns are cheap: apt is skipped when nothing is missing, pip when
# pyproject.toml and this script are unchanged since the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

# Xvfb and the X/Qt libraries PyQt6 loads; libgomp/libquadmath are linked by mxnet's wheel.
APT_PACKAGES=(xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0 libxcb-cursor0
  libxcb-image0 libxcb-render-util0 libxcb-shape0 libxkbcommon-x11-0 libgl1 libegl1
  libdbus-1-3 libfontconfig1 libglib2.0-0 libgomp1 libquadmath0)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  else
    echo "Missing Debian packages: ${missing[*]}" >&2
    echo "Run this script as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# Two environments, the two legs of make test:
#   .venv     Python 3.11 with the [mxnet] extra (MXNet, GluonCV: the reference engine; numpy<2)
#   .venv313  Python 3.13 with numpy 2 and no MXNet: what most napari users have
# pyenv's interpreters when present (PYENV_VERSION picks one), else what is on the PATH.
find_python() {
  local version=$1 full
  full=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".* 2>/dev/null | sort -V | tail -1)
  if [ -n "$full" ] && [ -x "$full/bin/python$version" ]; then
    echo "$full/bin/python$version"
  else
    command -v "python$version" || true
  fi
}

make_venv() {  # make_venv DIR PYTHON_VERSION EXTRAS
  local dir=$1 version=$2 extras=$3 py
  py=${PYTHON:-}
  [ "$version" = 3.13 ] && py=${PYTHON313:-}
  [ -n "$py" ] || py=$(find_python "$version")
  if [ -z "$py" ] || ! "$py" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$version')"; then
    echo "Python $version is needed for $dir (pyenv install $version, or set PYTHON/PYTHON313)" >&2
    exit 1
  fi
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  local stamp="$dir/.installed-$(cat pyproject.toml scripts/setup.sh | sha1sum | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    "$dir/bin/python" -m pip install -q --upgrade pip
    "$dir/bin/python" -m pip install -q -e ".[$extras]"
    rm -f "$dir"/.installed-*
    touch "$stamp"
  fi
}

make_venv .venv 3.11 "qt,dask,mxnet,testing"
if [ "${GLUONSEG_ONE_LEG:-0}" != 1 ]; then
  make_venv .venv313 3.13 "qt,dask,testing"
fi
