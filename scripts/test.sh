#!/usr/bin/env bash
# Runs every test: the Swift suites (unit, wire, end-to-end against a real server on port 0),
# then the Python client's tests, including the interop test against the real appointmentd, then
# a smoke run of the allocation micro-benchmark and a bounded fuzz run.
# Installs what it needs first (libjemalloc-dev, libprotobuf-c-dev, protobuf-c-compiler,
# protobuf, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --python

swift build --build-tests
swift test --skip-build

swift build --product appointmentd
APPOINTMENTD="$(swift build --show-bin-path)/appointmentd" python3 -m pytest -q clients/python/tests

# The allocation micro-benchmark still works: an in-process server, every call must succeed and
# the malloc counter must count (the figures of a debug build mean nothing).
"$(swift build --show-bin-path)/appointments-bench" allocations --calls 512 --warmup 64 --doctors 20 >/dev/null

# A short bounded fuzz run over the frame decoder and every message decoder (scripts/fuzz.sh).
scripts/fuzz.sh 30
