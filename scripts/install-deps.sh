#!/usr/bin/env bash
# Installs what building and testing Appointments needs, when it is missing:
#   - libjemalloc-dev (jemalloc, the allocator appointmentd links);
#   - libprotobuf-c-dev (the protobuf-c runtime the server links) and protobuf-c-compiler
#     (protoc-c, which the tests use to check the committed generated code);
#   - with --python: the Python client's test dependencies (protobuf 4.x runtime, pytest);
#   - with --redis: redis-server and redis-benchmark, the floor that `scripts/bench-compare.sh
#     --floor` measures.
# Debian/Ubuntu only; uses sudo when not root. Safe to run again.
set -euo pipefail

python=false
redis=false
for argument in "$@"; do
  case "$argument" in
    --python) python=true ;;
    --redis) redis=true ;;
    *) echo "unknown argument: $argument (--python, --redis)" >&2; exit 2 ;;
  esac
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
dpkg -s libprotobuf-c-dev >/dev/null 2>&1 || missing+=(libprotobuf-c-dev)
dpkg -s libjemalloc-dev >/dev/null 2>&1 || missing+=(libjemalloc-dev)
command -v protoc-c >/dev/null 2>&1 || missing+=(protobuf-c-compiler)
$python && ! command -v protoc >/dev/null 2>&1 && missing+=(protobuf-compiler)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
$redis && ! command -v redis-server >/dev/null 2>&1 && missing+=(redis-server)
$redis && ! command -v redis-benchmark >/dev/null 2>&1 && missing+=(redis-tools)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if $python; then
  if ! python3 -c 'import google.protobuf, pytest, sys; sys.exit(0 if google.protobuf.__version__.startswith("4.") else 1)' 2>/dev/null; then
    echo "installing the Python client's test dependencies" >&2
    python3 -m pip install --quiet 'protobuf>=4.21,<5' pytest
  fi
fi
