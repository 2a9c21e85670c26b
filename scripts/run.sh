#!/usr/bin/env bash
# Sets divan up (scripts/setup.sh) and starts the server on
# http://127.0.0.1:5984 with the data folder ./data. Stop it with Ctrl-C.
# Extra arguments go to `divan serve` (see `build/http/divan --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/http/divan serve --bind 127.0.0.1 --port 5984 --data data "$@"
