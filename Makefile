# The two commands of the README. Both set everything up first (idempotent).
.PHONY: setup readers run test pins test-latest test-lowest test-models dist bench

setup:
	bash scripts/setup.sh

# With a display: napari with the widget docked and a sample image. Without: a headless
# segmentation of the sample image into ./out (needs the pretrained weights; says how if missing).
# WEIGHTS=FILE.params: a local weights file instead of the zoo's download.
WEIGHTS ?=
run: setup
	.venv313/bin/napari-gluonseg demo --out out --overwrite $(if $(WEIGHTS),--weights "$(WEIGHTS)")

# The dataset formats' reference readers in their own venv (.venv-readers): for the tests only.
readers:
	bash scripts/setup_readers.sh

# Two legs, each in two pytest processes sharing the X server (TEST_WORKERS=0: one process), each
# venv holding exactly the versions pinned in requirements/ (make pins):
#   .venv     Python 3.11 + the [mxnet] extra: everything, parity with GluonCV included;
#   .venv313  Python 3.13 + numpy 2, no MXNet: every test that does not compare with MXNet
#             (those are skipped, naming the extra).
TEST_WORKERS ?= 2
LEGS ?= .venv=requirements/test-py3.11.txt .venv313=requirements/test-py3.13.txt
test: setup readers
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/mkdocs build --strict --quiet
	TEST_WORKERS=$(TEST_WORKERS) bash scripts/pytest_legs.sh $(LEGS)

# Regenerate the lock files in requirements/ from pyproject.toml (uv's resolver): on purpose,
# when a dependency's range changes or to take newer releases, after make test-latest passes.
pins:
	bash scripts/pins.sh

# The suite on the newest releases, no pins (PRE=1: pre-releases too): names what moved.
test-latest: setup
	bash scripts/test_latest.sh

# The suite with every direct dependency at its declared floor (requirements/lowest-py3.11.txt).
test-lowest: setup
	bash scripts/test_lowest.sh

# Every registry model: its graph against GluonCV's network (parity), its names and shapes, and a
# run at photo sizes through every engine it offers (slow; the Python 3.11 leg).
test-models: setup
	.venv/bin/python -m pytest -m models -v --durations=0 tests/core/models/test_every_model.py \
	  tests/core/models/onnx_build/test_parity.py tests/core/models/test_untrained.py \
	  tests/core/models/onnx_build/test_head.py

# The wheel and sdist: tests/test_dist.py (make test runs it too: built, checked by twine,
# installed at the pins, its command run), then installed by pip into fresh venvs of Python
# 3.11-3.13 and run on a photo, the [mxnet] extra on each, and the resolution to wheels for
# Windows and Apple-silicon macOS (the README's platform table).
dist: setup
	bash scripts/check_dist.sh

bench: setup
	.venv/bin/python benchmarks/bench_speed_memory.py
