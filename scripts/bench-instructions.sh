#!/usr/bin/env bash
# Counts the instructions appointmentd executes per booking, with Callgrind: a figure that, unlike
# calls per second on this shared 2-core machine (whose memory speed alone moves throughput by a
# third from one hour to the next), repeats from run to run, so that a change to the serving path
# can be judged by it (issue 5: "valgrind --tool=callgrind count instructions repeatably").
#
# Usage: scripts/bench-instructions.sh [--connections N] [--in-flight N] [--warmup S]
#          [--duration S] [--doctors N] [--patients N] [--top N] [--keep DIR]
#          [--server PATH] [--server-arg ARG]... [--no-build]
# Defaults: 8 connections × 64 in flight (the `book` target's), 5 s of warm-up, 20 s counted,
# 1,000 doctors and 1,000 patients, the top 25 functions, the release build's appointmentd
# (--server: another binary, e.g. one built before a change, to compare).
#
# How: the release appointmentd runs under `valgrind --tool=callgrind --separate-threads=yes`
# (--durability none, --password-cost test, a fresh data folder; extra flags with --server-arg),
# and `appointments-bench run --workload book` drives it over loopback. Once the harness's
# warm-up is over, Callgrind's counters are zeroed (`vgdb … zero`); when the harness ends, they
# are dumped (`vgdb … dump`) and scripts/callgrind-summary.py divides the instructions of all the
# server's threads by the bookings that Callgrind itself counted (calls of CalendarShard.bookSlot):
# neither the window's edges nor the server's slowness under Valgrind (~50× — the harness's
# latencies and rates mean nothing here) change the quotient. Then the server is stopped.
#
# Instructions are not time: a cache miss costs one, and the kernel's work (reads, writes, epoll)
# is not counted. Valgrind runs the server's threads one at a time, so batches differ from a
# native run's. Compare counts of the same configuration, before and after a change.
#
# Valgrind: 3.19 (Debian 12's) cannot read the binaries' DWARF 5 debug information; this uses the
# newest Debian release's valgrind (3.20 or later), unpacked into .build-valgrind/ (git-ignored)
# from deb.debian.org when the system's is older, and the system's `vgdb` (apt package valgrind,
# installed when missing) to reach it. A Swift program with an `async` main needs
# scripts/valgrind-dispatch-main.c preloaded under any Valgrind (see that file).
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=8
IN_FLIGHT=64
WARMUP=5
DURATION=20
DOCTORS=1000
PATIENTS=1000
TOP=25
KEEP=
BUILD=1
SERVER=
SERVER_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --connections) CONNECTIONS=$2; shift 2 ;;
    --in-flight) IN_FLIGHT=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --doctors) DOCTORS=$2; shift 2 ;;
    --patients) PATIENTS=$2; shift 2 ;;
    --top) TOP=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    --server) SERVER=$2; shift 2 ;;
    --server-arg) SERVER_ARGS+=("$2"); shift 2 ;;
    --server-arg=*) SERVER_ARGS+=("${1#--server-arg=}"); shift ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

B=.build-bench/release
SERVER=${SERVER:-$B/appointmentd}
scripts/install-deps.sh --valgrind
if [[ $BUILD == 1 ]]; then
  swift build -c release --scratch-path .build-bench --product appointmentd
  swift build -c release --scratch-path .build-bench --product appointments-bench
fi

# A valgrind of 3.20 or later: the system's, or the newest Debian release's unpacked here.
VALGRIND=valgrind
VALGRIND_ENV=()
version_at_least_3_20() { [[ $("$@" --version 2>/dev/null) =~ valgrind-3\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 20)); }
if ! version_at_least_3_20 valgrind; then
  LOCAL=.build-valgrind
  if ! version_at_least_3_20 env VALGRIND_LIB="$LOCAL/usr/libexec/valgrind" "$LOCAL/usr/bin/valgrind"; then
    echo "valgrind $(valgrind --version) is too old; fetching the newest Debian release's…" >&2
    MIRROR=http://deb.debian.org/debian
    rm -rf "$LOCAL" && mkdir -p "$LOCAL"
    curl -fsS "$MIRROR/dists/stable/main/binary-amd64/Packages.xz" -o "$LOCAL/Packages.xz"
    DEB=$(xz -dc "$LOCAL/Packages.xz" | awk '/^Package: / {p = ($2 == "valgrind")} p && /^Filename: / && !f {f = $2} END {print f}')
    [[ -n $DEB ]] || { echo "no valgrind package in Debian stable's index" >&2; exit 1; }
    curl -fsS "$MIRROR/$DEB" -o "$LOCAL/valgrind.deb"
    dpkg -x "$LOCAL/valgrind.deb" "$LOCAL"
    version_at_least_3_20 env VALGRIND_LIB="$LOCAL/usr/libexec/valgrind" "$LOCAL/usr/bin/valgrind" \
      || { echo "the fetched valgrind ($DEB) does not run here" >&2; exit 1; }
  fi
  VALGRIND=$LOCAL/usr/bin/valgrind
  VALGRIND_ENV=(VALGRIND_LIB="$LOCAL/usr/libexec/valgrind")
fi

WORK=$(mktemp -d)
SERVER_PID=
HARNESS_PID=
cleanup() {
  for pid in $HARNESS_PID $SERVER_PID; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
gcc -O2 -shared -fPIC -o "$WORK/dispatch-main.so" scripts/valgrind-dispatch-main.c

echo "starting appointmentd under $(env "${VALGRIND_ENV[@]}" "$VALGRIND" --version) (callgrind)…" >&2
env "${VALGRIND_ENV[@]}" LD_PRELOAD="$WORK/dispatch-main.so" "$VALGRIND" --tool=callgrind --separate-threads=yes \
  --callgrind-out-file="$WORK/callgrind.out" --log-file="$WORK/valgrind.log" \
  "$SERVER" --port 0 --port-file "$WORK/port" --data-dir "$WORK/data" --durability none \
  --password-cost test --login-attempts-per-minute 1000000000 \
  --registrations-per-address-per-minute 1000000000 --log-level warning "${SERVER_ARGS[@]}" &
SERVER_PID=$!
until [[ -s $WORK/port ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "appointmentd exited during start-up:" >&2
    tail -20 "$WORK/valgrind.log" >&2
    exit 1
  fi
  sleep 0.1
done

: >"$WORK/bench.log"
echo "seeding and driving it: $CONNECTIONS × $IN_FLIGHT, ${WARMUP} s of warm-up, ${DURATION} s counted…" >&2
"$B/appointments-bench" run --host 127.0.0.1 --port "$(cat "$WORK/port")" --workload book \
  --connections "$CONNECTIONS" --in-flight "$IN_FLIGHT" --warmup "$WARMUP" --duration "$DURATION" \
  --doctors "$DOCTORS" --patients "$PATIENTS" --timeout 600 >"$WORK/bench.json" 2>"$WORK/bench.log" &
HARNESS_PID=$!
# The harness's first progress line after its warm-up.
until grep -q measuring "$WORK/bench.log"; do
  if ! kill -0 "$HARNESS_PID" 2>/dev/null; then
    echo "appointments-bench ended before its warm-up did:" >&2
    tail -20 "$WORK/bench.log" >&2
    exit 1
  fi
  sleep 0.2
done
vgdb --pid="$SERVER_PID" zero >/dev/null
wait "$HARNESS_PID" || { echo "appointments-bench failed:" >&2; tail -20 "$WORK/bench.log" >&2; exit 1; }
HARNESS_PID=
vgdb --pid="$SERVER_PID" dump >/dev/null
grep -E '^  (calls|throughput) ' "$WORK/bench.log" | sed 's/^ */harness: /' >&2
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=

# The dump asked for is the first numbered one: callgrind.out.1-01, .1-02, … (one per thread).
shopt -s nullglob
FILES=("$WORK"/callgrind.out.1-*)
[[ ${#FILES[@]} -gt 0 ]] || { echo "Callgrind wrote no dump" >&2; exit 1; }
scripts/callgrind-summary.py --top "$TOP" "${FILES[@]}"
if [[ -n $KEEP ]]; then
  mkdir -p "$KEEP"
  cp "${FILES[@]}" "$KEEP"/
  echo "dump kept in $KEEP (callgrind_annotate reads it)" >&2
fi
