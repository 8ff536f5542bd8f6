#!/usr/bin/env bash
# The main job so far: install, build, run a busybox container with
# berth-runtime, then the image workflow and a container's life through berthd
# and the berth CLI against a local registry (scripts/demo_images.py). Later
# issues replace this with the full tutorial demo (ports, volumes, dashboard).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
if [ "$(id -u)" -ne 0 ]; then
  echo "demo.sh: run as root (containers need namespaces, mounts and cgroups)" >&2
  exit 1
fi
bash scripts/install-deps.sh
bash scripts/build.sh release
rt=$PWD/build/release/cmd/berth-runtime/berth-runtime

work=$(mktemp -d /tmp/berth-demo.XXXXXX)
state=$work/state
cleanup() {
  "$rt" --root "$state" delete -f demo >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A rootfs from Debian's busybox-static: no network needed.
mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs/etc"
cp /bin/busybox "$work/bundle/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "$work/bundle/rootfs/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/bundle/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/bundle/rootfs/etc/group"

cd "$work/bundle"
"$rt" spec
# Not a terminal, and a little script instead of an interactive shell.
/usr/bin/python3 - <<'PY'
import json
c = json.load(open("config.json"))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c",
    "echo \"hello from $(hostname), pid $$ in its own pid namespace\"; "
    "echo 'mounts:'; mount | sed 's/^/  /'; echo \"uid: $(id)\"; "
    "grep -E '^(CapEff|Seccomp|NoNewPrivs)' /proc/self/status"]
c["hostname"] = "berth-demo"
c["process"]["noNewPrivileges"] = True
json.dump(c, open("config.json", "w"), indent=2)
PY
echo "== berth-runtime run demo =="
"$rt" --root "$state" run demo
echo "== exit code: $? =="

echo "== images and a container through berthd and the berth CLI =="
cd "$repo"
/usr/bin/python3 scripts/demo_images.py "$repo/build/release/cmd/berthd/berthd" \
  "$repo/build/release/cmd/berth/berth"
