#!/usr/bin/env bash
# Install everything the tests need (Debian packages, ./.venv) and run the full test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
exec .venv/bin/python -m pytest "$@"
