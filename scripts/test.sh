#!/usr/bin/env bash
# Runs every test: the Swift suites (unit, wire, end-to-end against a real server on port 0),
# then the Python client's tests, including the interop test against the real appointmentd.
# Installs what it needs first (libprotobuf-c-dev, protobuf-c-compiler, protobuf, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --python

swift build --build-tests
swift test --skip-build

swift build --product appointmentd
APPOINTMENTD="$(swift build --show-bin-path)/appointmentd" python3 -m pytest -q clients/python/tests

# A short bounded fuzz run over the frame decoder and every message decoder (scripts/fuzz.sh).
scripts/fuzz.sh 30
