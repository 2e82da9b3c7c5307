#!/usr/bin/env bash
# Runs every test: the Swift suites (unit, wire, end-to-end against a real server on port 0),
# then the Python client's tests, including the interop test against the real appointmentd, then
# smoke runs of the allocation micro-benchmark and of the load harness, and a bounded fuzz run.
# First runs scripts/install-deps.sh --python, which installs what is missing: libjemalloc-dev,
# libprotobuf-c-dev, protobuf-c-compiler, pkg-config, and for the Python client protobuf-compiler
# (protoc) and its test dependencies (the protobuf runtime and pytest).
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
# raced slot was won exactly once; `mixed` (books, cancels, finds; responses decoded, through the
# client library), `find` (the frame driver) and `book` through the client library must make calls
# without errors; `book` on a single doctor with a two-day horizon runs out of slots, and the frame
# driver, counting answers by status alone, must count the refusals (ALREADY_EXISTS: SLOT_TAKEN,
# or ALREADY_BOOKED when the patient already holds that doctor's day).
small=(--server "$bin/appointmentd" --durability none --doctors 20 --patients 50 --connections 2 --in-flight 4 --warmup 0.5 --duration 1)
# smoke EXPECTED ARGS…: one small run with ARGS; its JSON line must hold EXPECTED's fields, and it
# must make calls without errors, or with "error": CODE, calls that fail with CODE only, not all.
smoke() {
  local expected=$1
  shift
  "$bin/appointments-bench" run "${small[@]}" "$@" | python3 -c '
import json, sys
run, want = json.load(sys.stdin), json.loads(sys.argv[1])
codes = {want.pop("error")} if "error" in want else set()
ok = run["calls"] > run["errors"] and {key.split("/")[0] for key in run["error_codes"]} == codes
ok = ok and all((sorted(run[key]) if key == "operations" else run[key]) == value for key, value in want.items())
if not ok:
    sys.exit(f"smoke run {sys.argv[2]} failed: {run}")' "$expected" "$*"
}
"$bin/appointments-bench" run "${small[@]}" --workload contended >/dev/null
smoke '{"operations": ["book", "cancel", "find"], "responses": "decode", "driver": "library"}' --workload mixed
smoke '{"responses": "check", "driver": "frames"}' --workload find
smoke '{"responses": "check", "driver": "library"}' --workload book --driver library
smoke '{"driver": "frames", "responses": "status", "error": "ALREADY_EXISTS"}' --workload book --responses status --doctors 1 --horizon-days 3 --slots-per-day 1 --warmup 0

# A short bounded fuzz run over the frame decoder and every message decoder (scripts/fuzz.sh).
scripts/fuzz.sh 30
