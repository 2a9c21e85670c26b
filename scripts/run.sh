#!/usr/bin/env bash
# Sets divan up (scripts/setup.sh) and runs it on the default data folder
# ./data.
#
# The HTTP server (`divan serve` on 127.0.0.1:5984) is the next piece of
# work (issue 3); until it lands this runs the embedding example, which
# uses the library directly on ./data and prints what it did.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/examples/embed data
