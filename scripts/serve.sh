#!/usr/bin/env bash
# Builds appointmentd (release) and runs it in the foreground with a data folder in
# ./appointments-data, installing libprotobuf-c-dev and libjemalloc-dev first if they are missing.
# Extra arguments go to appointmentd (see `scripts/serve.sh --help`). Ctrl-C drains and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product appointmentd
exec "$(swift build -c release --show-bin-path)/appointmentd" --data-dir appointments-data "$@"
