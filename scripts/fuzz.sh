#!/usr/bin/env bash
# Fuzzes the frame decoder and every protobuf message decoder with libFuzzer and AddressSanitizer
# (the target is scripts/fuzz/; see scripts/fuzz/README.md).
#
#   scripts/fuzz.sh [SECONDS]   build if needed, then fuzz for SECONDS (default 60)
#   scripts/fuzz.sh 0           build if needed, then only replay the committed corpus (for CI)
#
# Builds into .build-fuzz/; new inputs go to .build-fuzz/fuzz-corpus/ (the committed corpus in
# scripts/fuzz/corpus/ is read, never written), crashes to .build-fuzz/fuzz-artifacts/, the log
# to .build-fuzz/fuzz-logs/. Prints the executions and coverage, and exits non-zero on a crash.
# Extra libFuzzer flags can be passed in FUZZ_FLAGS (e.g. FUZZ_FLAGS="-jobs=2 -workers=2").
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
seconds="${1:-60}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2; }

scratch="$repo/.build-fuzz"
binary="$scratch/release/AppointmentsFuzz"
corpus="$repo/scripts/fuzz/corpus"

# The fuzzer and ASan runtimes come with the swift.org toolchain (not with Xcode's).
swiftc_path="$(readlink -f "$(command -v swiftc)")"
if ! ls "$(dirname "$swiftc_path")"/../lib/clang/*/lib/*/libclang_rt.fuzzer*.a >/dev/null 2>&1; then
  echo "error: the Swift toolchain at $(dirname "$swiftc_path") has no libFuzzer runtime;" \
    "use a swift.org toolchain" >&2
  exit 2
fi
scripts/install-deps.sh  # libprotobuf-c-dev, which the main package links

# Pin the main package's dependency versions when it has resolved them.
if [ -f Package.resolved ] && ! cmp -s Package.resolved scripts/fuzz/Package.resolved; then
  cp Package.resolved scripts/fuzz/Package.resolved
fi
echo "building the fuzz target into .build-fuzz/" >&2
build_start=$SECONDS
# --sanitize instruments the C targets (arena, generated descriptors); -Xswiftc the Swift ones.
swift build -c release --package-path scripts/fuzz --scratch-path "$scratch" \
  --sanitize=fuzzer --sanitize=address \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2
echo "built in $((SECONDS - build_start)) s" >&2

# Swift's own backtracer would catch a trap first and trips ASan while it reads memory; leave
# traps to libFuzzer, which prints the stack and saves the input.
export SWIFT_BACKTRACE=enable=no
mkdir -p "$scratch/fuzz-corpus" "$scratch/fuzz-artifacts" "$scratch/fuzz-logs"
log="$scratch/fuzz-logs/fuzz-$(date +%Y%m%d-%H%M%S).log"
common=(-max_len=4096 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1
  -artifact_prefix="$scratch/fuzz-artifacts/")

status=0
if [ "$seconds" -eq 0 ]; then
  # Every committed seed and reproducer, once each (including the crashes/ subfolder).
  mapfile -t inputs < <(find "$corpus" -type f | sort)
  "$binary" "${common[@]}" ${FUZZ_FLAGS:-} "${inputs[@]}" >"$log" 2>&1 || status=$?
  echo "replayed ${#inputs[@]} inputs of scripts/fuzz/corpus/"
else
  "$binary" "${common[@]}" -max_total_time="$seconds" ${FUZZ_FLAGS:-} \
    "$scratch/fuzz-corpus" "$corpus" >"$log" 2>&1 || status=$?
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)' "$log" | tail -n 2 || true
  grep -E '^Done [0-9]+ runs|stat::number_of_executed_units' "$log" | tail -n 2 || true
fi
echo "log: ${log#"$repo"/}"

if [ "$status" -ne 0 ]; then
  echo "FUZZER FOUND A CRASH (exit $status):" >&2
  { grep -E -A 40 'ERROR: |Fatal error|deadly signal' "$log" || tail -n 60 "$log"; } | head -n 80 >&2 || true
  grep -m 1 -E 'Test unit written to' "$log" >&2 || true
  exit "$status"
fi
echo "no crash"
