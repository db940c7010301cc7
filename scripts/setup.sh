#!/usr/bin/env bash
# Idempotent set-up on Debian: system packages (as root), then .venv with the plugin, PyQt6 and the
# test tools. Reruns are cheap: apt is skipped when nothing is missing, pip when pyproject.toml is
# unchanged since the last successful install.
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

PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Python 3.11 is required (mxnet 1.9.1 has no wheels for newer Pythons); set PYTHON=" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
stamp=".venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[qt,onnx,testing]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
