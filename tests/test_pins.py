"""The pinned test environments (requirements/, made by scripts/pins.sh): a pinned leg holds
exactly its lock file's versions; every lock admits what pyproject.toml asks for; the lowest
lock tests each declared floor (so a floor raised or added without `make pins` fails here)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# scripts/pins.sh's own table: `compile requirements/LOCK PYTHON EXTRAS [options]`.
LOCKS = {
    lock: (python, extras.split(","))
    for lock, python, extras in re.findall(
        r"^compile (requirements/\S+) (\S+) (\S+)", (ROOT / "scripts/pins.sh").read_text(), re.M
    )
}


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / lock).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split(";")[0].strip().split("==")
            found[normal(name)] = version
    return found


def direct_requirements(python: str, extras: list[str]) -> list[Requirement]:
    """pyproject.toml's dependencies and those of `extras` that apply on Linux at `python`."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    where = {
        "python_version": python,
        "python_full_version": python + ".0",
        "sys_platform": "linux",
    }
    return [r for r in wanted if r.marker is None or r.marker.evaluate(where)]


def test_the_three_locks_are_listed():
    assert sorted(LOCKS) == [
        "requirements/lowest-py3.11.txt",
        "requirements/test-py3.11.txt",
        "requirements/test-py3.13.txt",
    ]


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_lock_admits_what_pyproject_asks_for(lock):
    pinned = pins(lock)
    python, extras = LOCKS[lock]
    wrong = []
    for req in direct_requirements(python, extras):
        version = pinned.get(normal(req.name))
        if version is None or not req.specifier.contains(version, prereleases=True):
            wrong.append(f"{req} (pinned: {version})")
    assert not wrong, f"{lock} is older than pyproject.toml: run make pins. {wrong}"


def test_the_lowest_lock_pins_each_direct_dependency_at_its_declared_floor():
    lock = "requirements/lowest-py3.11.txt"
    pinned = pins(lock)
    not_at_floor = []
    for req in direct_requirements(*LOCKS[lock]):
        floors = [Version(s.version) for s in req.specifier if s.operator in (">=", "==")]
        if not floors:
            not_at_floor.append(f"{req}: no floor declared")
            continue
        floor, version = max(floors), Version(pinned[normal(req.name)])
        # numpy>=1.24 is tested at 1.24.2, its oldest release with wheels for Python 3.11.
        if version.release[: len(floor.release)] != floor.release:
            not_at_floor.append(f"{req}: tested at {version}")
    assert not not_at_floor, not_at_floor


@pytest.mark.skipif(
    not os.environ.get("GLUONSEG_LOCKFILE"),
    reason="not a pinned leg (make test and make test-lowest set GLUONSEG_LOCKFILE)",
)
def test_a_pinned_leg_holds_exactly_its_lock_file():
    lock = os.environ["GLUONSEG_LOCKFILE"]
    assert LOCKS[lock][0] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    # The venv's own site-packages (the source tree's egg-info is on sys.path too).
    site = list({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    dists = {normal(d.metadata["Name"]): d for d in importlib.metadata.distributions(path=site)}
    # The package itself: this repository, installed editable (the lock's `-e .`).
    origin = json.loads(dists.pop("napari-gluonseg").read_text("direct_url.json") or "{}")
    assert origin == {"url": ROOT.as_uri(), "dir_info": {"editable": True}}
    installed = {name: dist.version for name, dist in dists.items()}
    expected = pins(lock)
    differ = {
        name: (expected.get(name), installed.get(name))
        for name in expected.keys() | installed.keys()
        if expected.get(name) != installed.get(name)
    }
    assert not differ, f"(pinned, installed) in {sys.prefix}: {differ}"
