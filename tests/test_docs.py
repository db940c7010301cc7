"""The README and the guide in docs/: every relative link leads to a file of the repository and,
with an anchor, to a heading of that file (a broken link is a failed test, as a docs build
would fail); the README stays a page a newcomer reads in two minutes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of a page's headings (lower case, punctuation dropped, spaces as -)."""
    found = set()
    in_code = False
    for line in page.read_text().splitlines():
        in_code ^= line.startswith("```")
        heading = re.match(r"^#+ (.*)$", line)
        if heading and not in_code:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            found.add(text.replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_leads_somewhere(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no {dest}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading '{anchor}' in {dest.name}")
    assert not broken, "\n".join(broken)


def test_the_readme_is_short():
    assert 100 <= len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_ci_runs_exactly_the_readmes_test_command():
    """The README's two commands are the Makefile's targets, and CI (``.ci/run``) runs its test
    command and nothing else, so that what the README calls the tests is what CI checks."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"^## Two commands\n\n```bash\n(.*?)```", readme, re.S | re.M)
    assert block is not None, "the README's section 'Two commands' opens with its commands"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert commands == ["make run", "make test"]
    targets = re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M)
    assert {"run", "test"} <= set(targets)
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    steps = [s for s in lines if s and not s.startswith(("#", "set ", "cd "))]
    assert steps == ["make test"]


def test_the_documented_signature_of_segment_image_is_the_codes():
    """docs/python.md spells segment_image's options with their defaults: the fields of
    RunOptions, which the code checks (the README's copy had drifted from it)."""
    import ast
    import dataclasses

    from napari_gluonseg.core.run.options import RunOptions

    text = (ROOT / "docs" / "python.md").read_text()
    spelled = re.search(r"`segment_image\(image, (.*?)\)`:", text, re.S)
    assert spelled is not None
    call = ast.parse(f"f({spelled.group(1).replace('*, ', '')})").body[0].value  # type: ignore[attr-defined]
    documented = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    internal = {"check_memory_first"}  # the batch's stand-in plan; not a user's option
    fields = {f.name: f.default for f in dataclasses.fields(RunOptions) if f.name not in internal}
    assert documented == fields


@pytest.mark.parametrize(
    "page", PAGES[:1] + PAGES[2:], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_user_pages_carry_no_session_dates_or_commit_hashes(page):
    """A figure says the command that made it and the machine, not the day or the commit (a
    lab notebook's marks): the README and the guide, not CONTRIBUTING.md."""
    text = page.read_text()
    dates = re.findall(r"\b20\d\d-\d\d-\d\d\b", text)
    commits = re.findall(r"\b(?:commit|at) [0-9a-f]{7,40}\b", text)
    assert dates == [] and commits == []


DOTTED = re.compile(r"\bnapari_gluonseg(?:\.[A-Za-z_]\w*)+")


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` names a module, or an attribute of the longest module it starts
    with (``napari_gluonseg.core.batch.review.ReviewSession``)."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_python_name_the_docs_give_imports(page):
    """docs/command-line.md named napari_gluonseg.review.ReviewSession: no such module."""
    names = sorted(set(DOTTED.findall(page.read_text())))
    assert [name for name in names if not _resolves(name)] == []


def test_the_docs_never_send_a_pip_user_to_a_path_of_a_clone():
    """--scheme napari_gluonseg/schemes/street_ade20k.csv exists only in a clone: the command
    line takes a shipped scheme by name."""
    text = (ROOT / "docs" / "command-line.md").read_text()
    assert "--scheme street_ade20k" in text and "napari-gluonseg schemes" in text
    pages = [ROOT / "README.md", *PAGES]
    assert [p.name for p in pages if "napari_gluonseg/schemes/" in p.read_text()] == []
