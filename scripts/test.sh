#!/usr/bin/env bash
# Runs every test: the Swift suites (unit, wire, end-to-end against a real server on port 0),
# then the Python client's tests, including the interop test against the real appointmentd, then
# smoke runs of the allocation micro-benchmark and of the load harness, and a bounded fuzz run.
# Installs what it needs first (libjemalloc-dev, libprotobuf-c-dev, protobuf-c-compiler,
# protobuf, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --python

swift build --build-tests
swift test --skip-build

swift build --product appointmentd
bin="$(swift build --show-bin-path)"
APPOINTMENTD="$bin/appointmentd" python3 -m pytest -q clients/python/tests

# The allocation micro-benchmark still works: an in-process server, every call must succeed and
# the malloc counter must count (the figures of a debug build mean nothing).
"$bin/appointments-bench" allocations --calls 512 --warmup 64 --doctors 20 >/dev/null

# The load harness still works against the real server: `contended` exits non-zero unless every
# raced slot was won exactly once; `mixed` (books, cancels, finds; responses decoded) and `find`
# (responses only checked) must make calls without errors.
small=(--server "$bin/appointmentd" --durability none --doctors 20 --patients 50 --connections 2 --in-flight 4 --warmup 0.5 --duration 1)
"$bin/appointments-bench" run "${small[@]}" --workload contended >/dev/null
"$bin/appointments-bench" run "${small[@]}" --workload mixed | python3 -c '
import json, sys
run = json.load(sys.stdin)
if run["calls"] == 0 or run["errors"] != 0 or sorted(run["operations"]) != ["book", "cancel", "find"] or run["responses"] != "decode":
    sys.exit(f"mixed smoke run failed: {run}")'
"$bin/appointments-bench" run "${small[@]}" --workload find | python3 -c '
import json, sys
run = json.load(sys.stdin)
if run["calls"] == 0 or run["errors"] != 0 or run["responses"] != "check":
    sys.exit(f"find smoke run failed: {run}")'

# A short bounded fuzz run over the frame decoder and every message decoder (scripts/fuzz.sh).
scripts/fuzz.sh 30
