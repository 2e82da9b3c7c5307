#!/usr/bin/env bash
# Builds appointmentd (release) and runs it in the foreground with a data folder in
# ./appointments-data, first running scripts/install-deps.sh (libjemalloc-dev, libprotobuf-c-dev,
# protobuf-c-compiler and pkg-config, when missing). Extra arguments go to appointmentd.
# Ctrl-C drains and stops.
#
# `scripts/serve.sh --help` (or -h) installs and builds nothing: it prints the --help of the
# release appointmentd already built, or, before the first build, how to use this script.
set -euo pipefail
cd "$(dirname "$0")/.."

for argument in "$@"; do
  if [ "$argument" = "--help" ] || [ "$argument" = "-h" ]; then
    if [ -x .build/release/appointmentd ]; then
      exec .build/release/appointmentd --help
    fi
    cat <<'USAGE'
USAGE: scripts/serve.sh [appointmentd options]

Installs what the build needs when it is missing (scripts/install-deps.sh, with sudo when not
root), builds appointmentd in release mode (about 5 minutes the first time), then runs it in the
foreground with --data-dir appointments-data, passing every argument to appointmentd.
Ctrl-C drains and stops.

appointmentd is not built yet, so its flags cannot be listed here; README.md (Configuration)
shows `appointmentd --help`. After the first build, `scripts/serve.sh --help` prints it.
USAGE
    exit 0
  fi
done

scripts/install-deps.sh
swift build -c release --product appointmentd
exec "$(swift build -c release --show-bin-path)/appointmentd" --data-dir appointments-data "$@"
