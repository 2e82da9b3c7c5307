#!/usr/bin/env bash
# Installs what building and testing Appointments needs, when it is missing:
#   - libjemalloc-dev (jemalloc, the allocator appointmentd links);
#   - libprotobuf-c-dev (the protobuf-c runtime the server links) and protobuf-c-compiler
#     (protoc-c, which the tests use to check the committed generated code);
#   - pkg-config, through which the build finds libprotobuf-c and jemalloc;
#   - with --python: protobuf-compiler (protoc, which the tests use to check the Python client's
#     committed generated code) and the Python client's test dependencies for python3, as
#     clients/python/pyproject.toml allows them (the protobuf runtime >=4.21,<8, pytest >=7).
#     They come from pip when python3's pip may install; otherwise (no pip, as on a fresh
#     Debian 12, or a Debian python3 that pip refuses to change: "externally-managed-environment")
#     from Debian: python3-protobuf (4.21 on Debian 12) and python3-pytest; and where those are
#     too old, from pip again (python3-pip, with --break-system-packages if it must);
#   - with --redis: redis-server and redis-benchmark, the floor that `scripts/bench-compare.sh
#     --floor` measures;
#   - with --valgrind: valgrind (its vgdb), gcc, curl and xz-utils, which
#     `scripts/bench-instructions.sh` uses.
# Debian/Ubuntu only; uses sudo when not root. Safe to run again. --help prints this.
set -euo pipefail

python=false
redis=false
valgrind=false
for argument in "$@"; do
  case "$argument" in
    --python) python=true ;;
    --redis) redis=true ;;
    --valgrind) valgrind=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $argument (see --help)" >&2; exit 2 ;;
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
if $valgrind; then
  command -v vgdb >/dev/null 2>&1 || missing+=(valgrind)
  command -v gcc >/dev/null 2>&1 || missing+=(gcc)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
fi
updated=false
apt_install() {
  echo "installing $*" >&2
  $updated || $sudo apt-get update -qq
  updated=true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

if $python; then
  # The versions clients/python/pyproject.toml allows; keep the two in step.
  requirements=("protobuf>=4.21,<8" "pytest>=7")
  # Exits 0 when python3 has them, 1 (saying what is wrong) when not.
  python_ready() {
    python3 - <<'PY'
import sys
try:
    import google.protobuf, pytest
except ImportError as error:
    sys.exit(f"python3 ({sys.executable}) lacks {error.name}")
protobuf = tuple(int(part) for part in google.protobuf.__version__.split(".")[:2])
if not ((4, 21) <= protobuf < (8, 0) and int(pytest.__version__.split(".")[0]) >= 7):
    sys.exit(f"python3 ({sys.executable}) has protobuf {google.protobuf.__version__} and pytest "
             f"{pytest.__version__}; the client's tests need protobuf >=4.21,<8 and pytest >=7")
PY
  }
  # 0 when python3 is a distribution's that its pip must not change (PEP 668's EXTERNALLY-MANAGED
  # file, as in Debian 12; not inside a virtual environment).
  externally_managed() {
    python3 -c 'import os, sys, sysconfig
sys.exit(0 if sys.prefix == sys.base_prefix and os.path.isfile(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'
  }
  pip_install() {
    echo "installing ${requirements[*]} with pip for python3 $*" >&2
    python3 -m pip install --quiet "$@" "${requirements[@]}"
  }

  if ! python_ready 2>/dev/null; then
    if python3 -m pip --version >/dev/null 2>&1 && ! externally_managed; then
      pip_install
    else
      apt_install python3-protobuf python3-pytest
      if ! python_ready 2>/dev/null; then
        # The distribution's packages are too old: pip after all, over them if it must.
        python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
        if externally_managed; then pip_install --break-system-packages; else pip_install; fi
      fi
    fi
    python_ready || { echo "python3 still lacks the Python client's test dependencies" >&2; exit 1; }
  fi
fi
