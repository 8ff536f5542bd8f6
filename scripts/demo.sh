#!/usr/bin/env bash
# berth's main job, the tutorial, offline:
#   sudo bash scripts/demo.sh
# installs the dependencies (apt), builds the release preset (C++ and the dashboard),
# installs it (cmake --install, prefix /usr/local), starts berthd (through systemd when it
# runs, else as a background process logging to /var/log/berthd.log), then runs the tutorial
# with the berth CLI (scripts/demo_tutorial.py): search a local registry for the memo app,
# pull it, `berth run -d --name memos -p 5555:5230 -v ~/berth-demo/memos:/var/opt/memos
# -e CODE=... memos-demo`, save a memo, `berth rm -f memos`, run it again and find the memo,
# turn auto-start off. It prints the app's URL and the dashboard's and leaves both running.
#
#   bash scripts/demo.sh --ci BUILD_DIR
# is the same tutorial for the tests (tests/e2e/test_demo.py): no apt, no build; BUILD_DIR is
# installed into a temp prefix, whose berthd runs on temp roots, its own socket, bridge,
# nftables table and free ports; the dashboard is checked too, and everything is removed at
# the end, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (containers need namespaces, mounts, cgroups and nftables)" >&2
  exit 1
fi

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

if [ "${1:-}" = "--ci" ]; then
  build=$(cd "${2:?--ci needs the build directory}" && pwd)
  work=$(mktemp -d /var/tmp/berth-demo-ci.XXXXXX)
  prefix=$work/prefix
  tag=$(printf '%04x' $((RANDOM % 65536)))
  bridge=bdemo$tag
  table=berth_demo$tag
  sock=$work/berth.sock
  app_port=$(free_port)
  dash_port=$(free_port)
  pid=
  cleanup() {
    set +e
    if [ -S "$sock" ]; then
      DOCKER_HOST=unix://$sock "$prefix/bin/berth" rm -f memos >/dev/null 2>&1
    fi
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null
    fi
    for ns in "$work"/exec/netns/* "$work"/exec/netns-pool/*; do
      [ -e "$ns" ] && umount -l "$ns" 2>/dev/null
    done
    ip link del "$bridge" 2>/dev/null
    nft delete table ip "$table" 2>/dev/null
    umount -R -l "$work/root" 2>/dev/null
    rm -rf "$work"
  }
  trap cleanup EXIT
  cmake --install "$build" --prefix "$prefix" >/dev/null
  BERTH_NFT_TABLE=$table "$prefix/bin/berthd" --data-root "$work/root" --exec-root "$work/exec" \
    -H "unix://$sock" --config-file "$prefix/etc/berth/daemon.json" --bridge "$bridge" \
    --dashboard "tcp://127.0.0.1:$dash_port" >"$work/berthd.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do [ -S "$sock" ] && break; kill -0 "$pid" || break; sleep 0.1; done
  if [ ! -S "$sock" ]; then
    cat "$work/berthd.log" >&2
    echo "demo.sh: berthd did not start" >&2
    exit 1
  fi
  mkdir -p "$work/home"
  /usr/bin/python3 scripts/demo_tutorial.py --berth "$prefix/bin/berth" --host "unix://$sock" \
    --app-port "$app_port" --dashboard-port "$dash_port" --home "$work/home" --check --cleanup
  exit 0
fi

bash scripts/install-deps.sh
bash scripts/build.sh release
cmake --install build/release --prefix /usr/local >/dev/null
echo "== installed berth into /usr/local (berth, berthd, units, dashboard files) =="
berth=/usr/local/bin/berth
if "$berth" version >/dev/null 2>&1; then
  echo "== berthd already answers on /run/berth/berth.sock: using it (restart it to run the new build) =="
elif [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable --now berthd.socket berthd.service
  echo "== berthd started by systemd (enabled at boot; the dashboard's settings can turn that off) =="
else
  # No systemd (containers, CI machines): berthd as a plain background process.
  setsid /usr/local/bin/berthd --config-file /usr/local/etc/berth/daemon.json \
    >>/var/log/berthd.log 2>&1 </dev/null &
  for _ in $(seq 200); do "$berth" version >/dev/null 2>&1 && break; sleep 0.1; done
  "$berth" version >/dev/null || { tail -20 /var/log/berthd.log >&2; exit 1; }
  echo "== berthd started without systemd (pid $(cat /run/berth/berthd.pid 2>/dev/null || echo ?), log /var/log/berthd.log) =="
fi
"$berth" doctor || true
home=${SUDO_USER:+$(getent passwd "$SUDO_USER" | cut -d: -f6)}
/usr/bin/python3 scripts/demo_tutorial.py --berth "$berth" --home "${home:-$HOME}"
