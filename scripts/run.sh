#!/usr/bin/env bash
# Install lifelog (scripts/install.sh) and start recording with the built-in defaults.
#   scripts/run.sh                          record (lifelog record's options may follow)
#   scripts/run.sh --with multilingual ...  also install an extra first (speech in 99 languages)
set -euo pipefail
cd "$(dirname "$0")/.."
with=()
while [ "${1:-}" = "--with" ]; do
  [ -n "${2:-}" ] || { echo "scripts/run.sh: --with needs an extra, e.g. --with multilingual" >&2; exit 2; }
  with+=(--with "$2"); shift 2
done
bash scripts/install.sh "${with[@]}"
exec .venv/bin/lifelog record "$@"
