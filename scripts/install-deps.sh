#!/usr/bin/env bash
# Installs every Debian package berth needs to build, test and benchmark.
# Idempotent: packages already present are skipped, and apt-get update runs
# only when something is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git clang-format
  # libraries (see docs/design/ARCHITECTURE.md section 6)
  libfmt-dev nlohmann-json3-dev libssl-dev libseccomp-dev libcap-dev libcli11-dev
  libboost-dev libcurl4-openssl-dev libarchive-dev libsqlite3-dev libzstd-dev
  zlib1g-dev
  libmnl-dev libnl-route-3-dev libnftables-dev libldns-dev
  # static archives of libarchive's dependencies, for the fully static berth CLI
  libacl1-dev liblz4-dev
  # tests
  libgtest-dev libgmock-dev googletest python3-pytest
  # test rootfs and peers for the runtime benchmark
  busybox-static crun runc hyperfine time
  # image tests: a local registry (no auth / htpasswd / token), the docker
  # client library, and the peers of the image benchmarks
  docker-registry apache2-utils python3-docker python3-cryptography docker.io podman
  # tools the tests use to inspect the host
  iproute2 procps util-linux
  # network tests and benchmarks: nft (inspect berth's table), an upstream resolver for the
  # embedded DNS, docker-compose (python, Debian's), wrk
  nftables dnsmasq-base docker-compose wrk
  # the dashboard's browser tests (driven by playwright-core from npm)
  chromium
)
# The dashboard builds with npm. Debian 12's nodejs + npm packages are enough; a host that
# already has npm on PATH (e.g. nodesource's nodejs, which bundles npm and conflicts with
# Debian's npm package) keeps it.
if ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps.sh: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
