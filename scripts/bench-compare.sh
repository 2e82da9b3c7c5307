#!/usr/bin/env bash
# Compares appointmentd with the grpc-swift 2 peer (../shared/peers/grpc-swift-peer) on the same
# machine, in one run: for each workload and concurrency, RUNS runs of ours and RUNS of the peer,
# alternating (ours, peer, ours, peer, …), a fresh server for every run; then the medians of
# throughput, p50 and p99, and the ratios ours/peer, as a Markdown table.
#
# Usage: scripts/bench-compare.sh [--workload book|find]... [--config CxM]... [--runs N]
#          [--duration S] [--warmup S] [--slots-per-day N] [--durability none|fsync]
#          [--responses check|decode|status] [--driver auto|library|frames] [--wait-quiet SECONDS]
#          [--floor] [--out FILE.jsonl] [--no-build]
# Defaults: --workload book --workload find, --config 8x64 --config 1x1, 3 runs, 10 s measured
# after 2 s of warm-up, 1 slot a day, --durability none (the peer keeps everything in memory and
# writes nothing to disk; `fsync` measures ours with its write-ahead log fsynced), --responses check
# (see "Responses" below), no waiting for
# a quiet machine (--wait-quiet S: before each run, wait up to S seconds until other processes use
# less than 5 % of a core over 2 s — the machine is shared with other people's builds), results in .build-results/compare-<UTC time>.jsonl (+ .md; git-ignored).
#
# Concurrency mapping. A config CxM means C TCP connections with M calls outstanding on each,
# C×M in all:
#   ours:  appointments-bench run --connections C --in-flight M   (C×M workers, M bound to each
#          of C connections, each keeping one call outstanding)
#   peer:  peer-bench --connections C --concurrency C×M           (its --concurrency counts the
#          workers of all connections together, shared round robin over its C HTTP/2 connections)
# so both keep C×M calls outstanding over C TCP connections. (The peer's own matrix calls
# `--connections 8 --concurrency 64` "8x64": that is 64 calls over 8 connections, our 8x8.)
#
# Data. The peer has 1,000 doctors over 10 specializations with one booking per doctor and day;
# ours registers 1,000 doctors over its 11 specializations and 1,000 patients through the real
# RPCs, with --slots-per-day 1 by default (the server's one-slot-a-day schedule), so a `find`
# answer lists every free doctor of the specialization (~91 of them, page size 100) like the
# peer's (100). `book` books a fresh slot on every call in both; `find` asks a random
# specialization on a random day within 365 days in both. Both check a HS256 JWT on every call
# (the peer's are signed by the bench with the shared --secret; ours come from real logins).
#
# Responses. The peer's bench gets every answer decoded into SwiftProtobuf values by grpc-swift
# (it has no other way). Ours, with --responses check, checks every answer's wire format by
# protobuf-c's rules without building it (a walk with the message's descriptor): the load
# generator shares the two cores with the server, and a `find` answer of ~91 doctors costs the
# client ~75 µs of CPU to decode into Swift values, ~11 µs in all to receive and check.
# --responses decode makes ours decode too; --responses status counts each answer by its status
# without reading the payload (ours only: the peer's client cannot skip decoding), which leaves
# the cores to the server.
#
# Driver. Ours makes its calls with `appointments-bench run --driver` (default auto): `frames`
# (channel handlers sending each call from the last answer, ~3–4 µs of client CPU per `book`
# call) where it can, i.e. with --responses check or status; `library` (a task per outstanding call through
# AppointmentsClient, ~5–8 µs) otherwise. --driver library measures ours through the client library.
#
# Floor (--floor). DESIGN.md §6 names `redis-benchmark` the floor cost of an in-memory TCP request.
# With --floor each `book` round also runs redis-server (no persistence, a fresh one per run) and
# `redis-benchmark -t set -c C -P M -r 1000000 -d 100`: C connections with M commands pipelined on
# each, SET of a 100-byte value under one of a million random keys (ours creates a ~100-byte
# appointment per booking). redis-benchmark counts requests, not seconds: a first run of 20,000
# SETs (C×M×20 if more) is the warm-up and measures the rate, and the measured run makes
# rate × --duration of them. It reports no p90 or p99.9, and counts no errors (its stderr lines
# with "ERR" are counted instead). scripts/install-deps.sh --redis installs it when missing.
#
# Builds: ours with --scratch-path .build-bench; the peer from a copy in .build-peer/ (git-ignored
# by `.build-*/`), refreshed when the shared source changes, its build kept for the next time
# (the first release build of the peer takes ~11 minutes on 2 cores). The summary names the commit
# the script last built ours from; with --no-build after binaries were rebuilt by hand it says the
# commit is unknown.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

WORKLOADS=()
CONFIGS=()
RUNS=3
DURATION=10
WARMUP=2
SLOTS_PER_DAY=1
DURABILITY=none
RESPONSES=check
DRIVER=auto
WAIT_QUIET=0
OUT=""
BUILD=1
FLOOR=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --workload) WORKLOADS+=("$2"); shift 2 ;;
    --config) CONFIGS+=("$2"); shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --slots-per-day) SLOTS_PER_DAY="$2"; shift 2 ;;
    --durability) DURABILITY="$2"; shift 2 ;;
    --responses) RESPONSES="$2"; shift 2 ;;
    --driver) DRIVER="$2"; shift 2 ;;
    --wait-quiet) WAIT_QUIET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --floor) FLOOR=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ ${#WORKLOADS[@]} -gt 0 ]] || WORKLOADS=(book find)
[[ ${#CONFIGS[@]} -gt 0 ]] || CONFIGS=(8x64 1x1)
for wl in "${WORKLOADS[@]}"; do
  [[ "$wl" == book || "$wl" == find ]] || { echo "--workload must be book or find (the peer has no other)" >&2; exit 2; }
done
[[ "$RESPONSES" == check || "$RESPONSES" == decode || "$RESPONSES" == status ]] || { echo "--responses must be check, decode or status" >&2; exit 2; }
[[ "$DRIVER" == auto || "$DRIVER" == library || "$DRIVER" == frames ]] || { echo "--driver must be auto, library or frames" >&2; exit 2; }
for cfg in "${CONFIGS[@]}"; do
  [[ "$cfg" =~ ^[0-9]+x[0-9]+$ ]] || { echo "--config must look like 8x64, not $cfg" >&2; exit 2; }
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="${OUT:-.build-results/compare-$STAMP.jsonl}"
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
SUMMARY="${OUT%.jsonl}.md"

PEER_SOURCE="$ROOT/../shared/peers/grpc-swift-peer"
PEER_DIR="$ROOT/.build-peer/grpc-swift-peer"
PEER_SECRET="peer-bench-secret"

# --- builds -----------------------------------------------------------------------------------
if [[ $BUILD == 1 ]]; then
  echo "== building appointmentd and appointments-bench (release, .build-bench)" >&2
  scripts/install-deps.sh >&2
  swift build -c release --scratch-path .build-bench --product appointmentd >&2
  swift build -c release --scratch-path .build-bench --product appointments-bench >&2
  # What the binaries were built from, for the summary of this and of later --no-build runs.
  {
    git rev-parse --short HEAD 2>/dev/null || echo unknown
    (git status --porcelain -- Sources Package.swift 2>/dev/null || true) | { grep -v "Sources/appointments-bench/" || true; } | wc -l
  } > .build-bench/bench-compare-source
fi
BIN=$(swift build -c release --scratch-path .build-bench --show-bin-path)

if [[ ! -d "$PEER_DIR" ]] || ! diff -rq --exclude=.build "$PEER_SOURCE" "$PEER_DIR" > /dev/null 2>&1; then
  echo "== copying the peer to $PEER_DIR (its .build is kept)" >&2
  mkdir -p "$PEER_DIR"
  find "$PEER_DIR" -mindepth 1 -maxdepth 1 ! -name .build -exec rm -rf {} +
  cp -r "$PEER_SOURCE"/. "$PEER_DIR"/
  chmod -R u+w "$PEER_DIR"
fi
if [[ $BUILD == 1 ]]; then
  echo "== building the peer (release; ~11 min the first time)" >&2
  swift build -c release --package-path "$PEER_DIR" >&2
fi
PEER_BIN=$(swift build -c release --package-path "$PEER_DIR" --show-bin-path)
if [[ $FLOOR == 1 ]]; then
  scripts/install-deps.sh --redis >&2
fi
for binary in "$BIN/appointmentd" "$BIN/appointments-bench" "$PEER_BIN/peer-server" "$PEER_BIN/peer-bench"; do
  [[ -x "$binary" ]] || { echo "missing $binary (run without --no-build)" >&2; exit 1; }
done

# --- runs -------------------------------------------------------------------------------------
TICK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
PEER_PID=""
stop_peer() { if [[ -n "$PEER_PID" ]]; then kill -TERM "$PEER_PID" 2>/dev/null || true; wait "$PEER_PID" 2>/dev/null || true; PEER_PID=""; fi; }
trap stop_peer EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

run_ours() {  # workload conns inflight run
  local json
  json=$("$BIN/appointments-bench" run --server "$BIN/appointmentd" --workload "$1" \
    --connections "$2" --in-flight "$3" --duration "$DURATION" --warmup "$WARMUP" \
    --slots-per-day "$SLOTS_PER_DAY" --durability "$DURABILITY" --responses "$RESPONSES" --driver "$DRIVER" --label "ours-$1-$2x$3-run$4")
  python3 - "$json" "$4" >> "$OUT" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
r.update(impl="ours", run=int(sys.argv[2]), config=f'{r["connections"]}x{r["in_flight"]}')
print(json.dumps(r, sort_keys=True))
PY
}

run_peer() {  # workload conns inflight run
  local port log spid c0 c1 t0 t1 m0 m1 json timefile
  port=$(free_port)
  log=$(mktemp)
  timefile=$(mktemp)
  "$PEER_BIN/peer-server" --host 127.0.0.1 --port "$port" --secret "$PEER_SECRET" > "$log" 2>&1 &
  spid=$!
  PEER_PID=$spid
  for _ in $(seq 1 200); do grep -q "listening" "$log" && break; sleep 0.1; done
  grep -q "listening" "$log" || { echo "peer-server did not start:" >&2; cat "$log" >&2; stop_peer; return 1; }
  c0=$(cpu_ticks "$spid"); t0=$(date +%s.%N); m0=$(busy_ticks)
  json=$(/usr/bin/time -f "%U %S %e" -o "$timefile" \
    "$PEER_BIN/peer-bench" --host 127.0.0.1 --port "$port" --secret "$PEER_SECRET" \
    --workload "$1" --connections "$2" --concurrency $(( $2 * $3 )) \
    --duration "$DURATION" --warmup "$WARMUP" --label "peer-$1-$2x$3-run$4")
  c1=$(cpu_ticks "$spid"); t1=$(date +%s.%N); m1=$(busy_ticks)
  local rss
  rss=$(awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$spid/status")
  stop_peer
  rm -f "$log"
  python3 - "$json" "$4" "$2" "$3" "$c0" "$c1" "$t0" "$t1" "$TICK" "$rss" "$(cat "$timefile")" "$m0" "$m1" >> "$OUT" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
run, conns, inflight = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c0, c1, t0, t1, tick = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9])
rss = float(sys.argv[10])
user, system, wall = (float(x) for x in sys.argv[11].split()[-3:])
busy = (int(sys.argv[13]) - int(sys.argv[12])) / tick
r.update(
    impl="peer", run=run, config=f"{conns}x{inflight}", connections=conns, in_flight=inflight,
    throughput=r["throughput_rps"],
    # over the whole life of peer-bench (token signing, warm-up, measured window), as the
    # peer's own run-matrix.sh measures it
    server_cpu_s=round((c1 - c0) / tick, 2), server_cpu_pct=round(100 * (c1 - c0) / tick / (t1 - t0), 1),
    server_rss_mb=round(rss, 1), client_cpu_s=round(user + system, 2),
    client_cpu_pct=round(100 * (user + system) / wall, 1) if wall > 0 else None,
    # CPU every other process used over the same time: a busy machine shows here
    other_cpu_s=round(max(0.0, busy - (c1 - c0) / tick - (user + system)), 2),
)
print(json.dumps(r, sort_keys=True))
PY
  rm -f "$timefile"
}

run_floor() {  # conns inflight run: redis-benchmark SET, C connections × M pipelined
  local port log spid c0 c1 t0 t1 m0 m1 timefile errfile warm rate requests csv
  port=$(free_port)
  log=$(mktemp); timefile=$(mktemp); errfile=$(mktemp)
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no > "$log" 2>&1 &
  spid=$!
  PEER_PID=$spid
  for _ in $(seq 1 100); do [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]] && break; sleep 0.1; done
  [[ "$(redis-cli -p "$port" ping 2>/dev/null)" == PONG ]] || { echo "redis-server did not start:" >&2; cat "$log" >&2; stop_peer; return 1; }
  local bench=(redis-benchmark -p "$port" -t set -c "$1" -P "$2" -r 1000000 -d 100 --csv)
  warm=$(( $1 * $2 * 20 > 20000 ? $1 * $2 * 20 : 20000 ))
  rate=$("${bench[@]}" -n "$warm" 2>> "$errfile" | awk -F'"' '$2 == "SET" { print int($4) }')
  requests=$(( rate * ${DURATION%.*} > 10000 ? rate * ${DURATION%.*} : 10000 ))
  c0=$(cpu_ticks "$spid"); t0=$(date +%s.%N); m0=$(busy_ticks)
  csv=$(/usr/bin/time -f "%U %S %e" -o "$timefile" "${bench[@]}" -n "$requests" 2>> "$errfile" | awk -F'"' '$2 == "SET"')
  c1=$(cpu_ticks "$spid"); t1=$(date +%s.%N); m1=$(busy_ticks)
  stop_peer
  python3 - "$csv" "$3" "$1" "$2" "$c0" "$c1" "$t0" "$t1" "$TICK" "$(cat "$timefile")" "$m0" "$m1" "$requests" "$(grep -c ERR "$errfile" || true)" >> "$OUT" <<'PY'
import datetime, json, sys
fields = [f.strip('"') for f in sys.argv[1].split(",")]
rps, avg, low, p50, p95, p99, high = (float(x) for x in fields[1:8])
run, conns, inflight = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
c0, c1, t0, t1, tick = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9])
user, system, wall = (float(x) for x in sys.argv[10].split()[-3:])
busy = (int(sys.argv[12]) - int(sys.argv[11])) / tick
print(json.dumps(dict(
    impl="redis", workload="book", operation="SET", run=run, config=f"{conns}x{inflight}",
    connections=conns, in_flight=inflight, calls=int(sys.argv[13]), errors=int(sys.argv[14]),
    throughput=rps, mean_ms=avg, p50_ms=p50, p95_ms=p95, p99_ms=p99, max_ms=high,
    date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    server_cpu_s=round((c1 - c0) / tick, 2), server_cpu_pct=round(100 * (c1 - c0) / tick / (t1 - t0), 1),
    client_cpu_s=round(user + system, 2), client_cpu_pct=round(100 * (user + system) / wall, 1) if wall > 0 else None,
    other_cpu_s=round(max(0.0, busy - (c1 - c0) / tick - (user + system)), 2),
), sort_keys=True))
PY
  rm -f "$log" "$timefile" "$errfile"
}

show_last() {
  python3 - "$OUT" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print(f'   {r["impl"]:4} {r["workload"]} {r["config"]} run {r["run"]}: {r["throughput"]:,.0f} calls/s, '
      f'p50 {r["p50_ms"]:.3f} ms, p99 {r["p99_ms"]:.3f} ms, errors {r["errors"]}, '
      f'other processes {r.get("other_cpu_s", "?")} CPU s', file=sys.stderr)
PY
}

wait_quiet() {  # until other processes use < 5 % of a core over 2 s, at most WAIT_QUIET s
  [[ "$WAIT_QUIET" -gt 0 ]] || return 0
  local deadline=$(( SECONDS + WAIT_QUIET )) b0 b1
  while (( SECONDS < deadline )); do
    b0=$(busy_ticks); sleep 2; b1=$(busy_ticks)
    (( (b1 - b0) * 100 < TICK * 2 * 5 )) && return 0
    echo "   waiting for a quiet machine: other processes used $(( (b1 - b0) * 100 / (TICK * 2) )) % of a core" >&2
  done
  echo "   still busy after $WAIT_QUIET s: running anyway (see other_cpu_s)" >&2
}

for wl in "${WORKLOADS[@]}"; do
  for cfg in "${CONFIGS[@]}"; do
    conns="${cfg%x*}"; inflight="${cfg#*x}"
    for run in $(seq 1 "$RUNS"); do
      wait_quiet
      echo "== $wl $cfg run $run/$RUNS: ours" >&2
      run_ours "$wl" "$conns" "$inflight" "$run"; show_last
      wait_quiet
      echo "== $wl $cfg run $run/$RUNS: peer (--connections $conns --concurrency $(( conns * inflight )))" >&2
      run_peer "$wl" "$conns" "$inflight" "$run"; show_last
      if [[ $FLOOR == 1 && "$wl" == book ]]; then
        wait_quiet
        echo "== $wl $cfg run $run/$RUNS: redis-benchmark SET (-c $conns -P $inflight)" >&2
        run_floor "$conns" "$inflight" "$run"; show_last
      fi
    done
  done
done

# --- summary ----------------------------------------------------------------------------------
COMMIT=unknown; DIRTY=0
if [[ -f .build-bench/bench-compare-source ]]; then
  { read -r COMMIT; read -r DIRTY; } < .build-bench/bench-compare-source
  # Binaries rebuilt by hand since the script's own build may hold other code than that commit.
  if [[ "$BIN/appointmentd" -nt .build-bench/bench-compare-source || "$BIN/appointments-bench" -nt .build-bench/bench-compare-source ]]; then
    COMMIT="unknown (binaries rebuilt outside this script after its build of $COMMIT)"
  fi
fi
python3 - "$OUT" "$RUNS" "$DURATION" "$WARMUP" "$SLOTS_PER_DAY" "$DURABILITY" "$COMMIT" "$DIRTY" "$RESPONSES" > "$SUMMARY" <<'PY'
import json, platform, statistics, subprocess, sys
path, runs, duration, warmup, slots, durability, commit, dirty, responses = sys.argv[1:10]
rows = [json.loads(line) for line in open(path) if line.strip()]
drivers = sorted({r.get("driver", "library") for r in rows if r.get("impl") == "ours"})
def model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"
swift = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()
swift = next((l for l in swift if "Swift version" in l), "unknown").strip()
nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
print(f"Measured {rows[0]['date'][:10] if rows else ''} on {nproc} cores ({model()}), {swift}; "
      f"client and server share the cores. {runs} runs each, {duration} s measured after {warmup} s "
      f"of warm-up, a fresh server per run; medians. Ours: commit {commit}"
      f"{'' if dirty == '0' else f' with {dirty} uncommitted change(s) under Sources/'}, "
      f"--durability {durability}, --slots-per-day {slots}, --responses {responses}, "
      f"driver {' and '.join(drivers) or 'none'}. Results: `{path}`.")
print()
print("| workload | conns × in-flight | impl | calls/s (median) | calls/s (min–max) | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | server CPU % | client CPU % | other CPU s |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
groups = {}
for r in rows:
    groups.setdefault((r["workload"], r["config"]), {}).setdefault(r["impl"], []).append(r)
def med(rs, key):
    values = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(values) if values else float("nan")
ratios = []
order = lambda k: (k[0], -int(k[1].split("x")[0]) * int(k[1].split("x")[1]))
ms = lambda value: "–" if value != value else f"{value:.3f}"  # nan: not reported (redis-benchmark)
for key in sorted(groups, key=order):
    wl, cfg = key
    for impl in ("ours", "peer", "redis"):
        rs = groups[key].get(impl, [])
        if not rs:
            continue
        tps = [r["throughput"] for r in rs]
        print(f"| {wl} | {cfg.replace('x', ' × ')} | {'redis SET' if impl == 'redis' else impl} | {med(rs, 'throughput'):,.0f} | {min(tps):,.0f}–{max(tps):,.0f} | "
              f"{sum(r['errors'] for r in rs)} | {ms(med(rs, 'p50_ms'))} | {ms(med(rs, 'p90_ms'))} | {ms(med(rs, 'p99_ms'))} | "
              f"{ms(med(rs, 'p999_ms'))} | {med(rs, 'server_cpu_pct'):.0f} | {med(rs, 'client_cpu_pct'):.0f} | "
              f"{max(r.get('other_cpu_s') or 0 for r in rs):.2f} |")
    ours, peer, redis = (groups[key].get(impl) for impl in ("ours", "peer", "redis"))
    if ours and peer:
        ratios.append((wl, cfg, med(ours, "throughput") / med(peer, "throughput"),
                       med(peer, "p50_ms") / med(ours, "p50_ms"), med(peer, "p99_ms") / med(ours, "p99_ms"),
                       (med(ours, "throughput") / med(redis, "throughput"), med(ours, "p50_ms") / med(redis, "p50_ms")) if redis else None))
floor = any(r[5] is not None for r in ratios)
print()
print("| workload | conns × in-flight | throughput ours/peer | p50 peer/ours (× lower) | p99 peer/ours (× lower) |"
      + (" throughput ours/redis SET | p50 ours/redis SET |" if floor else ""))
print("|---|---|---|---|---|" + ("---|---|" if floor else ""))
for wl, cfg, tp, p50, p99, of_floor in ratios:
    print(f"| {wl} | {cfg.replace('x', ' × ')} | **{tp:.1f}×** | {p50:.1f}× | {p99:.1f}× |"
          + ((" – | – |" if of_floor is None else f" {of_floor[0]:.2f} | {of_floor[1]:.1f}× |") if floor else ""))
print()
print("Server CPU %: ours over the measured window (/proc/PID/stat); the peer over the whole life of "
      "peer-bench (warm-up included), as its run-matrix.sh measures it; redis over its measured run. "
      "100 % = one core. Other CPU s: "
      "the most CPU seconds other processes of the machine used during one run of the row (0 on a "
      "quiet machine; more means the row is disturbed).")
PY
cat "$SUMMARY"
echo "results: $OUT, summary: $SUMMARY" >&2
