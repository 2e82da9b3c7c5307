#!/usr/bin/env bash
# Measures appointmentd's resident memory and start-up time on a large data folder (issue 5:
# 100,000 doctors and 1,000,000 appointments held in under 1 GiB, start-up under 5 s).
#
# Usage: scripts/bench-memory.sh [--doctors N] [--patients N] [--appointments N] [--runs N]
#          [--no-build]
# Defaults: 100,000 doctors, 100,000 patients, 1,000,000 appointments, 3 runs.
#
# `appointments-bench seed-snapshot` writes a data folder holding one snapshot of that size
# (built with the domain's own code; seeding it through the RPCs would take hours of password
# hashing). Then, RUNS times: start the release appointmentd on it, time from the exec to the
# port file (written once recovery is done and the listener is bound), read VmRSS and VmHWM
# (peak) from /proc/PID/status, stop it with SIGTERM. Prints one line per run and the medians.
set -euo pipefail
cd "$(dirname "$0")/.."

DOCTORS=100000
PATIENTS=100000
APPOINTMENTS=1000000
RUNS=3
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --doctors) DOCTORS=$2; shift 2 ;;
    --patients) PATIENTS=$2; shift 2 ;;
    --appointments) APPOINTMENTS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

B=.build-bench/release
if [[ $BUILD == 1 ]]; then
  scripts/install-deps.sh
  swift build -c release --scratch-path .build-bench --product appointmentd
  swift build -c release --scratch-path .build-bench --product appointments-bench
fi

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "seeding $DOCTORS doctors, $PATIENTS patients, $APPOINTMENTS appointments…" >&2
"$B/appointments-bench" seed-snapshot --data-dir "$WORK/data" \
  --doctors "$DOCTORS" --patients "$PATIENTS" --appointments "$APPOINTMENTS"

STARTS=()
RSS=()
PEAKS=()
for run in $(seq 1 "$RUNS"); do
  rm -f "$WORK/port"
  start=$(date +%s%N)
  "$B/appointmentd" --data-dir "$WORK/data" --port 0 --port-file "$WORK/port" --log-level warning &
  SERVER_PID=$!
  until [[ -s $WORK/port ]]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "appointmentd exited during start-up" >&2; exit 1; fi
    sleep 0.01
  done
  end=$(date +%s%N)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
  peak=$(awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID"
  SERVER_PID=
  ms=$(((end - start) / 1000000))
  printf 'run %d: listening after %d ms, RSS %d MiB (peak %d MiB)\n' "$run" "$ms" $((rss / 1024)) $((peak / 1024))
  STARTS+=("$ms")
  RSS+=("$((rss / 1024))")
  PEAKS+=("$((peak / 1024))")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }
printf 'median of %d: start-up %d ms, RSS %d MiB, peak RSS %d MiB\n' "$RUNS" \
  "$(median "${STARTS[@]}")" "$(median "${RSS[@]}")" "$(median "${PEAKS[@]}")"
