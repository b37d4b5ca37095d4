#!/usr/bin/env bash
# Install lifelog (scripts/install.sh) and start recording with the built-in defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/lifelog record "$@"
