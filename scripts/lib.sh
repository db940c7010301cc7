# Shared by the set-up and test scripts (sourced, not run): finding an interpreter, the pinned uv,
# and making a venv hold exactly what a lock file in requirements/ says.

# find_python VERSION: pyenv's interpreter when present (PYENV_ROOT), else pythonVERSION on the PATH.
find_python() {
  local version=$1 full
  full=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}/versions/$version".* 2>/dev/null | sort -V | tail -1)
  if [ -n "$full" ] && [ -x "$full/bin/python$version" ]; then
    echo "$full/bin/python$version"
  else
    command -v "python$version" || true
  fi
}

# need_python VERSION [OVERRIDE]: the interpreter to use, or a message and exit 1.
need_python() {
  local version=$1 py=${2:-}
  [ -n "$py" ] || py=$(find_python "$version")
  if [ -z "$py" ] || ! "$py" -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$version')"; then
    echo "Python $version is needed (pyenv install $version, or set PYTHON/PYTHON313)" >&2
    exit 1
  fi
  echo "$py"
}

# uv_bin: the uv of requirements/uv.txt, installed once into .venv-uv with pip (uv resolves and
# installs the test venvs; pip is only its bootstrap). Prints its path.
uv_bin() {
  local venv=.venv-uv stamp
  stamp="$venv/.installed-$(sha1sum requirements/uv.txt | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    rm -rf "$venv"
    "$(need_python 3.11 "${PYTHON:-}")" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements/uv.txt >&2
    touch "$stamp"
  fi
  echo "$PWD/$venv/bin/uv"
}

# sync_venv DIR PYTHON LOCK: DIR holds exactly LOCK's pins (and the package, editable), nothing
# else; redone only when the lock, the build pins, pyproject.toml or these scripts change.
sync_venv() {
  local dir=$1 py=$2 lock=$3 uv stamp
  uv=$(uv_bin)
  stamp="$dir/.installed-$(cat "$lock" requirements/build.txt pyproject.toml scripts/lib.sh \
    | sha1sum | cut -c1-12)"
  [ -f "$stamp" ] && return 0
  "$uv" venv -q --clear --python "$py" "$dir"
  "$uv" pip sync -q --python "$dir/bin/python" --build-constraints requirements/build.txt "$lock"
  touch "$stamp"
}
