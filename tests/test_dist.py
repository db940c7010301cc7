"""The package as a user gets it, quickly (`make dist` does more, on every Python): the sdist
and wheel built with the pinned build requirements, checked by twine, the sdist holding the
package and no tests, the wheel every file of the package; the wheel installed into a scratch
venv (uv, this leg's lock as constraints, so from uv's cache) where its command lists the models
and segments a photo with untrained weights. Also: the [mxnet] extra is for Python 3.11 only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from napari_gluonseg.core.models import untrained

ROOT = Path(__file__).resolve().parents[1]
DOG = ROOT / "tests" / "data" / "dog.jpg"
PACKAGE = "napari_gluonseg"
# The leg's own lock (make test and make test-lowest say which), else this Python's test lock.
LOCK = ROOT / (
    os.environ.get("GLUONSEG_LOCKFILE")
    or f"requirements/test-py{sys.version_info[0]}.{sys.version_info[1]}.txt"
)
# The extra installs nothing from Python 3.12 on (pyproject.toml's markers).
MXNET_EXTRA_PYTHONS = ("3.11",)
NEWER_PYTHONS = ("3.12", "3.13", "3.14")
# The model with the smallest weights file (4.8 MB untrained): the run checks the install.
SMALL_MODEL = "fastscnn_citys"

pytestmark = pytest.mark.xdist_group("dist")  # one build per pytest run, not one per process


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None, code: int = 0):
    """Run a command (in the source tree unless told); its output, or a failure that shows it."""
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    command = " ".join(map(str, args))
    assert done.returncode == code, f"{command} exited {done.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def uv() -> str:
    """The pinned uv of requirements/uv.txt (scripts/lib.sh installs it once)."""
    return run("bash", "-c", "source scripts/lib.sh && uv_bin").strip()


@pytest.fixture(scope="module")
def dist(uv, tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel, built as `make dist` builds them (the wheel from the sdist), from
    a copy of the files git would commit: a clean checkout's build, and the source tree's
    egg-info, which other test processes read, is left alone."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # not a tracked file deleted in the working tree
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    constraints = ROOT / "requirements" / "build.txt"
    run(uv, "build", "-q", "--build-constraint", constraints, "-o", out, source)
    return {"source": source, "sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl"))}


@pytest.fixture(scope="module")
def installed(uv, dist, tmp_path_factory) -> Path:
    """A scratch venv of this Python holding the wheel and its dependencies at this leg's pins;
    from Python 3.12 on with the [mxnet] extra, which must add nothing there. Its bin folder."""
    if not LOCK.is_file():
        pytest.skip(f"no lock file for Python {sys.version_info[0]}.{sys.version_info[1]}")
    work = tmp_path_factory.mktemp("venv")
    constraints = work / "constraints.txt"  # the lock less its `-e .` (this source tree)
    lines = LOCK.read_text().splitlines()
    constraints.write_text("\n".join(line for line in lines if not line.startswith("-e")))
    venv = work / "venv"
    run(uv, "venv", "-q", "--python", sys.executable, venv)
    extra = "[mxnet]" if sys.version_info >= (3, 12) else ""
    wheel = f"{dist['wheel']}{extra}"
    run(uv, "pip", "install", "-q", "--python", venv / "bin" / "python", "-c", constraints, wheel)
    return venv / "bin"


def in_scratch(installed: Path, tmp_path: Path, command: str, *args: str | Path, code: int = 0):
    """Run one of the scratch venv's commands away from the source tree (neither the working
    folder nor PYTHONPATH), with a model cache of its own."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["MXNET_HOME"] = str(tmp_path / "mxnet_home")
    return run(installed / command, *args, cwd=tmp_path, env=env, code=code)


def test_twine_passes_the_sdist_and_the_wheel(dist):
    run(sys.executable, "-m", "twine", "check", "--strict", dist["sdist"], dist["wheel"])


def test_the_sdist_holds_the_package_and_no_tests(dist):
    """The suite needs the repository (scripts, docs, benchmarks, lock files, Xvfb): it is run
    from a clone, so the sdist ships none of it rather than a few test files without their
    conftest.py and data (MANIFEST.in prunes tests/)."""
    with tarfile.open(dist["sdist"]) as sdist:
        names = [name.split("/", 1)[1] for name in sdist.getnames() if "/" in name]
    top = {name.split("/")[0] for name in names}
    assert top == {
        "LICENSE",
        "MANIFEST.in",
        "PKG-INFO",
        "README.md",
        "pyproject.toml",
        "setup.cfg",
        PACKAGE,
        f"{PACKAGE}.egg-info",
    }
    assert f"{PACKAGE}/napari.yaml" in names


def test_the_wheel_holds_every_file_of_the_package(dist):
    """A data file of the package that pyproject.toml's package-data leaves out fails here."""
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        shipped = {name for name in wheel.namelist() if name.startswith(f"{PACKAGE}/")}
    source = dist["source"]
    tree = {p.relative_to(source).as_posix() for p in (source / PACKAGE).rglob("*") if p.is_file()}
    assert sorted(tree - shipped) == []
    assert sorted(shipped - tree) == []


def test_the_installed_command_lists_the_models_and_segments_a_photo(installed, tmp_path):
    where = in_scratch(
        installed, tmp_path, "python", "-c", f"import {PACKAGE}; print({PACKAGE}.__file__)"
    )
    assert Path(where.strip()).is_relative_to(installed.parent), where
    assert in_scratch(installed, tmp_path, "napari-gluonseg", "--version").startswith(
        "napari-gluonseg "
    )
    assert SMALL_MODEL in in_scratch(installed, tmp_path, "napari-gluonseg", "models").split()
    weights = tmp_path / f"UNTRAINED-{SMALL_MODEL}.params"
    untrained.save_untrained(SMALL_MODEL, weights)
    out = tmp_path / "out"
    args = [DOG, "--quiet", "--model", SMALL_MODEL, "--weights", weights, "--scale", "0.25"]
    in_scratch(installed, tmp_path, "napari-gluonseg", "segment", *args, "--out", out)
    assert {p.name for p in out.iterdir()} >= {"dog_labels.png", "dog_classes.csv", "summary.csv"}


@pytest.mark.skipif(sys.version_info < (3, 12), reason="the [mxnet] extra installs on 3.11")
def test_the_mxnet_extra_adds_nothing_here_and_the_engine_names_python_3_11(installed, tmp_path):
    find = "import importlib.util as u; print([m for m in ('mxnet', 'gluoncv') if u.find_spec(m)])"
    assert in_scratch(installed, tmp_path, "python", "-c", find).strip() == "[]"
    args = ["segment", DOG, "--engine", "mxnet", "--out", tmp_path / "out"]
    refused = in_scratch(installed, tmp_path, "napari-gluonseg", *args, code=2)
    assert "needs Python 3.11" in refused, refused


def test_every_requirement_of_the_mxnet_extra_is_for_python_3_11_only():
    """Without a marker, pip on Python 3.13 compiles numpy 1.26 from source (no cp313 wheel)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for line in project["optional-dependencies"]["mxnet"]:
        marker = Requirement(line).marker
        assert marker is not None, f"{line!r}: no python_version marker"
        for version in MXNET_EXTRA_PYTHONS + NEWER_PYTHONS:
            applies = marker.evaluate({"python_version": version})
            assert applies == (version in MXNET_EXTRA_PYTHONS), f"{line!r} on Python {version}"
