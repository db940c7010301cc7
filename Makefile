# The two commands of the README. Both set everything up first (idempotent).
.PHONY: setup run test test-models test-compat bench

setup:
	bash scripts/setup.sh

# With a display: napari with the widget docked and a sample image. Without: a headless
# segmentation of the sample image into ./out (needs the pretrained weights; says how if missing).
run: setup
	.venv/bin/napari-gluonseg demo --out out --overwrite

# pytest exit 5 means "no tests collected": not a failure of the code, but say so.
# Two pytest processes share the X server (TEST_WORKERS=0: one process); the tests that share
# the ONNX export run in one of them (loadgroup). PYTHONDONTWRITEBYTECODE is cleared so that pytest
# keeps its assertion-rewritten copies of napari and the other pytest plugins (~7 s per process).
TEST_WORKERS ?= 2
test: setup
	.venv/bin/ruff check .
	.venv/bin/mypy
	PYTHONDONTWRITEBYTECODE= xvfb-run -a -s "-screen 0 1600x1200x24" \
	  .venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

# Every registry model, untrained, at odd photo sizes through every engine it offers (slow).
test-models: setup
	.venv/bin/python -m pytest -m models -v --durations=0 tests/test_models.py

# The widget and layer tests on another napari release (NAPARI=0.5.6, the oldest supported, by
# default), in a venv of their own.
NAPARI ?= 0.5.6
test-compat: setup
	bash scripts/test_compat.sh $(NAPARI)

bench: setup
	.venv/bin/python benchmarks/bench_speed_memory.py
