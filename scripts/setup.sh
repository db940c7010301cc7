#!/usr/bin/env bash
# Idempotent set-up on Debian: system packages (as root), then two venvs with the plugin, PyQt6
# and the test tools at the versions pinned in requirements/. Reruns are cheap: apt is skipped
# when nothing is missing, a venv when its lock file and pyproject.toml are unchanged.
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

# Two environments, the two legs of make test, each holding exactly the versions its lock file in
# requirements/ pins (make pins regenerates them; pyproject.toml keeps the open ranges users get):
#   .venv     Python 3.11 with the [mxnet] extra (MXNet, GluonCV: the reference engine; numpy<2)
#   .venv313  Python 3.13 with numpy 2 and no MXNet: what most napari users have
# pyenv's interpreters when present (PYENV_VERSION picks one), else PYTHON/PYTHON313 or the PATH.
source scripts/lib.sh
sync_venv .venv "$(need_python 3.11 "${PYTHON:-}")" requirements/test-py3.11.txt
if [ "${GLUONSEG_ONE_LEG:-0}" != 1 ]; then
  sync_venv .venv313 "$(need_python 3.13 "${PYTHON313:-}")" requirements/test-py3.13.txt
fi
