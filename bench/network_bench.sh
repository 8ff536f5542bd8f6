#!/usr/bin/env bash
# Network and mount benchmarks (bench/network_bench.py): requests/s through a published port vs
# straight to the container (wrk), what the default bridge adds to `run --rm`, what a bind mount
# and a named volume add; berthd beside dockerd. Needs root, wrk and dockerd (Debian).
#
#   bench/network_bench.sh [--no-build] [--no-results] [network_bench.py options...]
#
#   --only berthd,dockerd   --parts net,mounts,wrk   --rounds N --secs N --runs N --warmup N
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

build=1
results=(--results "$here/RESULTS.md")
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    --no-results) results=() ;;
    *) args+=("$a") ;;
  esac
done

if [[ $build -eq 1 ]]; then
  cmake --preset release >/dev/null
  cmake --build build/release --target berthd berth berth-monitor berth-init berth-runtime -j2 >/dev/null
fi

export BERTHD="${BERTHD:-$repo/build/release/cmd/berthd/berthd}"
export BERTH="${BERTH:-$repo/build/release/cmd/berth/berth}"
exec /usr/bin/python3 "$here/network_bench.py" "${args[@]}" "${results[@]}"
