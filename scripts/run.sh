#!/usr/bin/env bash
# Install lifelog (scripts/install.sh) and start recording with the built-in defaults.
#   scripts/run.sh                          record (lifelog record's options may follow)
#   scripts/run.sh --with EXTRA ...         also install an extra first (e.g. openai-whisper)
set -euo pipefail
cd "$(dirname "$0")/.."
with=()
while [ "${1:-}" = "--with" ]; do
  [ -n "${2:-}" ] || { echo "scripts/run.sh: --with needs an extra, e.g. --with openai-whisper" >&2; exit 2; }
  with+=(--with "$2"); shift 2
done
bash scripts/install.sh "${with[@]}"
exec .venv/bin/lifelog record "$@"
