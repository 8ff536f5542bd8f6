#!/usr/bin/env bash
# Image benchmarks (bench/image_bench.py): cold pull of "big" berthd vs dockerd vs podman,
# `images` with 100 images (berth vs docker), idle RSS. Needs root.
#
#   bench/image_bench.sh [--no-build] [image_bench.py options...]
#
# Builds berthd and berth (release preset) unless --no-build, or when they cannot be built yet
# (their columns then read n/a). Example without berth: bench/image_bench.sh --no-build --rounds 3
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

build=1
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=0 ;;
    *) args+=("$a") ;;
  esac
done

if [[ $build -eq 1 ]]; then
  if cmake --preset release >/dev/null && cmake --build build/release --target berthd berth -j2 >/dev/null; then
    :
  else
    echo "image_bench.sh: building berthd/berth failed; their columns will read n/a" >&2
  fi
fi

export BERTHD="${BERTHD:-$repo/build/release/cmd/berthd/berthd}"
export BERTH="${BERTH:-$repo/build/release/cmd/berth/berth}"
exec /usr/bin/python3 "$here/image_bench.py" "${args[@]}"
