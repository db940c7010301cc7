#!/usr/bin/env bash
# make readers (make test runs it): the dataset formats' reference readers (datumaro, pycocotools,
# supervision), which the tests of both legs hand each exported dataset to, in a venv of their
# own that shares nothing with the package (requirements/readers.in says why). Only the tests use
# it: make run does not build it. Redone only when its lock or these scripts change.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
sync_venv .venv-readers "$(need_python 3.13 "${PYTHON313:-}")" requirements/readers-py3.13.txt
