"""The package's floors, read from its imports: ``core`` imports neither napari nor Qt, ``layers``
no Qt, only ``qt`` imports Qt; each floor of ``core`` imports only the floors below it (see
``napari_gluonseg/core/__init__.py``); no two modules import each other, however indirectly."""

from __future__ import annotations

import ast
from pathlib import Path

import napari_gluonseg

ROOT = Path(napari_gluonseg.__file__).parent
PACKAGE = "napari_gluonseg"
# Each floor of core and the floors it may import (its own included).
FLOORS = {
    "base": {"base"},
    "models": {"base", "models"},
    "run": {"base", "models", "run"},
    "files": {"base", "models", "run", "files"},
    "edits": {"base", "models", "run", "edits"},
    "batch": {"base", "models", "run", "files", "edits", "batch"},
    "learn": {"base", "models", "run", "files", "edits", "batch", "learn"},
    "datasets": {"base", "models", "run", "files", "edits", "batch", "datasets"},
}
QT_MODULES = ("qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6", "magicgui", "superqt")


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports, at its top or inside functions, as absolute names."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, *([base] if base else [])])
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


MODULES = {module_name(p): p for p in ROOT.rglob("*.py")}
GRAPH = {m: {i for i in imports_of(p) if i in MODULES and i != m} for m, p in MODULES.items()}


def floor(module: str) -> str | None:
    parts = module.split(".")
    if parts[:2] != [PACKAGE, "core"] or len(parts) < 3:
        return None
    return parts[2] if parts[2] in FLOORS else "base"


def test_core_imports_neither_napari_nor_qt_and_layers_no_qt():
    for module, path in MODULES.items():
        outside = {i.split(".")[0] for i in imports_of(path)}
        if module.startswith(f"{PACKAGE}.core"):
            assert not outside & {"napari", *QT_MODULES}, module
        if not module.startswith(f"{PACKAGE}.qt"):
            assert not outside & set(QT_MODULES), module


def test_each_floor_of_core_imports_only_the_floors_below_it():
    wrong = [
        f"{m} imports {i}"
        for m, deps in GRAPH.items()
        for i in deps
        if floor(m) and floor(i) and floor(i) not in FLOORS[floor(m)]
    ]
    assert not wrong, "\n".join(sorted(wrong))
    upward = [f"{m} imports {i}" for m, deps in GRAPH.items() for i in deps if floor(m) and
              not i.startswith(f"{PACKAGE}.core")]  # fmt: skip
    assert not upward, "\n".join(sorted(upward))


def test_the_docks_use_the_engines_only_through_run():
    """The segmentation dock imported onnxruntime's call registry to cancel (issue 31): an
    MXNet run could not be stopped that way. Stopping is ``core.run.stop``'s, for every engine."""
    engines = f"{PACKAGE}.core.models.engines"
    wrong = [
        f"{m} imports {i}"
        for m, deps in GRAPH.items()
        if m.startswith((f"{PACKAGE}.qt", f"{PACKAGE}.layers"))
        for i in deps
        if i.startswith(engines)
    ]
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circles():
    """Tarjan's strongly connected components of the import graph: each must be one module
    (a package and its own modules excepted: ``__init__`` may re-export them)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for d in GRAPH[m]:
            if d not in index:
                visit(d)
                low[m] = min(low[m], low[d])
            elif d in on_stack:
                low[m] = min(low[m], index[d])
        if low[m] == index[m]:
            component = []
            while True:
                d = stack.pop()
                on_stack.discard(d)
                component.append(d)
                if d == m:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for m in sorted(GRAPH):
        if m not in index:
            visit(m)
    assert not circles, circles


def test_the_docks_add_and_remove_layers_only_through_the_layers_package():
    """One home for what happens to a viewer's layers (``layers/``): no dock adds, inserts or
    removes a layer itself."""
    import re

    writes = re.compile(r"\.add_layer\(|\.add_(image|labels)\(|\.layers\.(remove|insert|append)\(")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "qt").glob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if writes.search(line)
    ]
    assert found == []


# Each run option whose name is its own word, and the most modules that may name it: its
# declaration (core/run/options.py, whence the CLI, the record and the tooltips are made), the plan
# that checks it against the model and the image, the module that acts on it, the dock that sets
# it, and where it is written down for a rerun. CONTRIBUTING's layout section gives the counts.
OPTION_MODULES = {
    "tile_size": 4,  # options, plan, layout (acts), models/padding (its error names it)
    "flip": 4,  # options, plan (passes doubled), execute (acts), the dock
    "tta_scales": 4,  # options, plan (passes), execute (acts, provenance), the dock
    "probability_classes": 5,  # options, plan (indices), execute, the dock, the batch record
    "min_confidence": 5,  # options, execute, postprocess (acts), edits/uncertain (says it), dock
    "intensity_range": 5,  # options, plan, preprocess (acts), execute (provenance), the dock
    "check_memory_first": 3,  # options, plan, batch/settings (off for the stand-in image)
}


def test_each_run_option_is_named_in_few_modules():
    import re

    named = {
        option: sorted(
            str(path.relative_to(ROOT))
            for path in ROOT.rglob("*.py")
            if re.search(rf"\b{option}\b", path.read_text())
        )
        for option in OPTION_MODULES
    }
    over = {o: m for o, m in named.items() if len(m) > OPTION_MODULES[o]}
    assert not over, over
    assert all("core/run/options.py" in m for m in named.values())


# Modules over LONG_MODULE lines say why at their top ("Over 400 lines: ...").
LONG_MODULE = 400


def test_a_long_module_says_why_it_is_long():
    unexplained = [
        f"{path.relative_to(ROOT)} ({n} lines)"
        for path in ROOT.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > LONG_MODULE
        and "Over 400 lines:" not in (ast.get_docstring(ast.parse(path.read_text())) or "")
    ]
    assert not unexplained, unexplained


# Modules without a test file of their own (tests/<folder>/test_<module>.py), and the test file
# that tests them, by a name of theirs that it uses. Each family's builder (onnx_build/) is tested
# against GluonCV, one model per family, by onnx_build/test_parity.py.
TESTED_IN = {
    "core/datasets/cityscapes.py": ("tests/core/datasets/test_export.py", "cityscapes"),
    "core/datasets/coco.py": ("tests/core/datasets/test_export.py", "polygons=True"),
    "core/datasets/items.py": ("tests/core/datasets/test_export.py", "split_of"),
    "core/datasets/opened_base.py": ("tests/core/datasets/test_opened.py", "open_dataset"),
    "core/datasets/opened_cityscapes.py": ("tests/core/datasets/test_opened.py", "cityscapes"),
    "core/datasets/opened_yolo.py": ("tests/core/datasets/test_opened.py", "yolo"),
    "core/datasets/opened_coco.py": ("tests/core/datasets/test_opened.py", "coco"),
    "core/datasets/opened_masks.py": ("tests/core/datasets/test_opened.py", "cvat"),
    "core/datasets/polygons.py": ("tests/core/datasets/test_rings.py", "class_polygons"),
    "core/datasets/rle.py": ("tests/core/datasets/test_export.py", "coco"),
    "core/datasets/voc.py": ("tests/core/datasets/test_export.py", "voc"),
    "core/datasets/voc_classes.py": ("tests/core/datasets/test_opened.py", "voc"),
    "core/datasets/writer.py": ("tests/core/datasets/test_export.py", "cannot_hold"),
    "core/datasets/yolo.py": ("tests/core/datasets/test_export.py", "yolo"),
    "__main__.py": ("tests/cli/test_segment.py", '"-m", "napari_gluonseg"'),
    "_reader.py": ("tests/test_manifest.py", "reader"),
    "_sample_data.py": ("tests/test_manifest.py", "sample_data"),
    "_writer.py": ("tests/test_manifest.py", "writer"),
    "cli/exits.py": ("tests/cli/test_parser.py", "EXIT_BAD_INPUT"),
    "cli/progress.py": ("tests/cli/test_segment.py", "one_line_per"),
    "core/batch/ctrl_c.py": ("tests/cli/test_segment.py", "ctrl_c"),
    "core/batch/settings.py": ("tests/core/batch/test_folder.py", "options_of"),
    "core/batch/summary.py": ("tests/core/batch/test_folder.py", "SUMMARY_NAME"),
    "core/errors.py": ("tests/core/run/test_options.py", "OptionError"),
    "core/events.py": ("tests/core/run/test_execute.py", "Progress"),
    "core/models/cache.py": ("tests/cli/test_listings.py", '"cache"'),
    "core/models/engines/metadata.py": ("tests/core/models/engines/test_onnx.py", "metadata"),
    "core/models/engines/mxnet.py": ("tests/core/models/test_untrained.py", "mxnet"),
    "core/models/engines/onnx_export.py": ("tests/core/models/engines/test_onnx.py", "export"),
    "core/models/engines/request.py": ("tests/core/models/engines/test_onnx.py", "NetworkRequest"),
    "core/run/resize.py": ("tests/core/run/test_postprocess.py", "resize"),
    "core/run/result.py": ("tests/core/batch/test_image.py", "SegmentationResult"),
    "core/run/scores.py": ("tests/core/edits/test_uncertain.py", "ScoreGrid"),
    "core/run/stop.py": ("tests/qt/test_segment_stop.py", "stop"),
    "layers/review_dataset.py": ("tests/qt/test_review_dataset.py", "DatasetSession"),
    "qt/class_picker.py": ("tests/qt/test_segment_widget.py", "class_picker"),
    "qt/controls.py": ("tests/qt/helpers.py", "controls"),
    "qt/dialogs.py": ("tests/qt/test_segment_edits.py", "dialogs"),
    "qt/lifetime.py": ("tests/qt/test_segment_stop.py", "close_button"),
    "qt/threads.py": ("tests/qt/conftest.py", "threads"),
}


def test_each_module_has_a_test_file_or_names_where_it_is_tested():
    tests = ROOT.parent / "tests"
    untested = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        own = tests / rel.parent / f"test_{path.stem.lstrip('_')}.py"
        if path.name == "__init__.py" or own.exists():
            continue
        where = TESTED_IN.get(str(rel))
        if rel.parent == Path("core/models/onnx_build"):  # a family's builder: one test for all
            where = ("tests/core/models/onnx_build/test_parity.py", "ONE_PER_FAMILY")
        if where is None or where[1] not in (ROOT.parent / where[0]).read_text():
            untested.append(str(rel))
    assert not untested, untested
