#!/usr/bin/env bash
# Install everything the tests need (Debian packages, ./.venv) and run the full test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
if [ "$#" -eq 0 ]; then  # the whole suite (CI): the code's habits first (under a minute)
  .venv/bin/ruff format --check src tests bench scripts
  .venv/bin/ruff check src tests bench scripts
  .venv/bin/mypy
fi
# Two workers, each a whole test file at a time (module fixtures are built once): most end-to-end
# tests wait on recordings, so two share two cores well. LIFELOG_TEST_WORKERS=0 runs in one process.
exec .venv/bin/python -m pytest -n "${LIFELOG_TEST_WORKERS:-2}" --dist loadfile --durations=25 "$@"
