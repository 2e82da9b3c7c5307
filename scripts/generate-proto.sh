#!/usr/bin/env bash
# Regenerates the committed protobuf code from proto/:
#   - C with protoc-c into Sources/CAppointmentsProto (sources) and its include/ (headers);
#   - Swift value types and their protobuf-c bridging into Sources/AppointmentsProto/Generated.
# Run it after changing any .proto file and commit the result.
#
#   scripts/generate-proto.sh           rewrite the committed files
#   scripts/generate-proto.sh --check   change nothing; exit 1 and show the difference when the
#                                       committed files are stale (the tests run this)
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if ! command -v protoc-c >/dev/null; then
  echo "protoc-c not found: apt-get install -y protobuf-c-compiler" >&2
  exit 1
fi

protos=(appointments/v1/frame.proto appointments/v1/appointments.proto appointments/v1/storage.proto)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Lay the generated tree out in $scratch/out exactly as it sits in Sources/.
out="$scratch/out"
c_target=CAppointmentsProto
swift_out=AppointmentsProto/Generated
mkdir -p "$scratch/c"
protoc-c --proto_path=proto --c_out="$scratch/c" "${protos[@]}"
for proto in "${protos[@]}"; do
  stem=${proto%.proto}
  mkdir -p "$out/$c_target/include/$(dirname "$stem")" "$out/$c_target/$(dirname "$stem")"
  cp "$scratch/c/$stem.pb-c.h" "$out/$c_target/include/$stem.pb-c.h"
  cp "$scratch/c/$stem.pb-c.c" "$out/$c_target/$stem.pb-c.c"
done
mkdir -p "$out/$swift_out"
python3 scripts/generate-swift-proto.py --out "$out/$swift_out" "${protos[@]/#/proto/}"

generated=$(cd "$out" && find . -type f | sort)
if $check; then
  stale=0
  for file in $generated; do
    if ! diff -u "Sources/$file" "$out/$file"; then stale=1; fi
  done
  if [ $stale -ne 0 ]; then
    echo "generated protobuf code is stale: run scripts/generate-proto.sh and commit the result" >&2
    exit 1
  fi
  echo "generated protobuf code is current"
else
  for file in $generated; do
    mkdir -p "Sources/$(dirname "$file")"
    cp "$out/$file" "Sources/$file"
  done
fi
