#!/usr/bin/env bash
# Builds berth-runtime (release preset) when it is benchmarked, then runs bench/runtime_bench.py.
#
#   bench/run.sh [--no-build] [runtime_bench.py options...]
#
# The build is skipped with --no-build, when --runtimes does not name berth, or when --berth
# points somewhere else. Needs root. Example without berth-runtime:
#   bench/run.sh --runtimes crun,runc --runs 30
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

build=1
args=()
runtimes="berth,crun,runc"
prev=""
for a in "$@"; do
  case "$a" in
    --no-build) build=0; prev=""; continue ;;
    --runtimes=*) runtimes="${a#--runtimes=}" ;;
    --berth|--berth=*) build=0 ;;
  esac
  if [[ "$prev" == "--runtimes" ]]; then runtimes="$a"; fi
  prev="$a"
  args+=("$a")
done

if [[ $build -eq 1 && ",$runtimes," == *",berth,"* ]]; then
  if [[ ! -f build/release/build.ninja && ! -f build/release/Makefile ]]; then
    cmake --preset release
  fi
  if ! cmake --build --preset release --target berth-runtime -j 2; then
    echo "bench/run.sh: building berth-runtime failed; to benchmark only the others run:" >&2
    echo "  bench/run.sh --runtimes crun,runc" >&2
    exit 1
  fi
fi

py=/usr/bin/python3
[[ -x "$py" ]] || py="$(command -v python3)"
export BERTH_BENCH_WRAPPER=1
exec "$py" "$here/runtime_bench.py" "${args[@]}"
