#!/usr/bin/env bash
# Container benchmarks (bench/container_bench.py): `run --rm IMG true`, 50 x `run -d` with the
# per-container monitor PSS, `ps -a` with 50 containers and `logs` of 1,000,000 lines, for
# berth -> berthd, the docker CLI -> berthd, the docker CLI -> dockerd (Debian 20.10, own data
# root and socket) and podman (own --root). Needs root.
#
#   bench/container_bench.sh [--no-build] [--no-results] [container_bench.py options...]
#
#   --only dockerd,podman   engines to run (default berthd,dockerd,podman)
#   --parts run,many,ps,logs
#   --rounds N --count N --ps-runs N --log-lines N --logs-runs N --warmup N
#
# Builds berthd, berth, berth-monitor, berth-init and berth-runtime (release preset) unless --no-build;
# berthd's columns read n/a when they cannot be built. The markdown block replaces the one
# between the bench:containers markers in bench/RESULTS.md (appended the first time) unless
# --no-results. Example without berthd: bench/container_bench.sh --no-build --only dockerd,podman
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
  if cmake --preset release >/dev/null &&
     cmake --build build/release --target berthd berth berth-monitor berth-init berth-runtime -j2 >/dev/null; then
    :
  else
    echo "container_bench.sh: building berthd/berth/berth-monitor/berth-init/berth-runtime failed; berthd's rows will read n/a" >&2
  fi
fi

export BERTHD="${BERTHD:-$repo/build/release/cmd/berthd/berthd}"
export BERTH="${BERTH:-$repo/build/release/cmd/berth/berth}"
export BERTH_MONITOR="${BERTH_MONITOR:-$repo/build/release/cmd/berth-monitor/berth-monitor}"
export BERTH_INIT="${BERTH_INIT:-$repo/build/release/cmd/berth-init/berth-init}"
export BERTH_RUNTIME="${BERTH_RUNTIME:-$repo/build/release/cmd/berth-runtime/berth-runtime}"
exec /usr/bin/python3 "$here/container_bench.py" "${args[@]}" "${results[@]}"
