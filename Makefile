# The two commands of the README. Both set everything up first (idempotent).
.PHONY: setup run test test-models test-compat dist bench

setup:
	bash scripts/setup.sh

# With a display: napari with the widget docked and a sample image. Without: a headless
# segmentation of the sample image into ./out (needs the pretrained weights; says how if missing).
# WEIGHTS=FILE.params: a local weights file instead of the zoo's download.
WEIGHTS ?=
run: setup
	.venv313/bin/napari-gluonseg demo --out out --overwrite $(if $(WEIGHTS),--weights "$(WEIGHTS)")

# Two legs, each in two pytest processes sharing the X server (TEST_WORKERS=0: one process):
#   .venv     Python 3.11 + the [mxnet] extra: everything, parity with GluonCV included;
#   .venv313  Python 3.13 + numpy 2, no MXNet: every test that does not compare with MXNet
#             (those are skipped, naming the extra).
# pytest exit 5 means "no tests collected": not a failure of the code, but say so. The tests that
# share the ONNX graph run in one process (loadgroup). PYTHONDONTWRITEBYTECODE is cleared so that
# pytest keeps its assertion-rewritten copies of napari and the other pytest plugins.
TEST_WORKERS ?= 2
LEGS ?= .venv .venv313
test: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/mkdocs build --strict --quiet
	@for venv in $(LEGS); do \
	  echo "== pytest on $$($$venv/bin/python -c 'import sys; print(sys.version.split()[0])') ($$venv)"; \
	  PYTHONDONTWRITEBYTECODE= xvfb-run -a -s "-screen 0 1600x1200x24" \
	    $$venv/bin/python -m pytest -n $(TEST_WORKERS) --dist loadgroup; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests ($$venv)"; \
	  elif [ $$rc -ne 0 ]; then exit $$rc; fi; \
	done

# Every registry model: its graph against GluonCV's network (parity), its names and shapes, and a
# run at photo sizes through every engine it offers (slow; the Python 3.11 leg).
test-models: setup
	.venv/bin/python -m pytest -m models -v --durations=0 tests/test_models.py \
	  tests/core/models/onnx_build/test_parity.py tests/core/models/test_untrained.py

# The widget and layer tests on another napari release (NAPARI=0.5.6, the oldest supported, by
# default), in a venv of their own.
NAPARI ?= 0.5.6
test-compat: setup
	bash scripts/test_compat.sh $(NAPARI)

# The wheel and sdist, checked by twine, installed into fresh venvs of Python 3.11-3.13 and run
# on a photo; pip's resolution of the base install for Windows and Apple-silicon macOS.
dist: setup
	bash scripts/check_dist.sh

bench: setup
	.venv/bin/python benchmarks/bench_speed_memory.py
