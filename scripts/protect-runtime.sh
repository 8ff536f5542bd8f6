#!/usr/bin/env bash
# Puts an installed berth-runtime on a read-only bind mount of itself (run at
# boot, before containers start; idempotent). A container can then never open
# the runtime binary for writing through /proc/PID/exe (CVE-2019-5736 class),
# and berth-runtime, which checks this on every create/run/exec, skips its
# per-call re-exec from a read-only clone of itself.
#   scripts/protect-runtime.sh [/usr/local/bin/berth-runtime]
set -euo pipefail
bin="${1:-/usr/local/bin/berth-runtime}"
[ -x "$bin" ] || { echo "protect-runtime: $bin is not an executable" >&2; exit 1; }
if findmnt -n -o OPTIONS --target "$bin" | tr ',' '\n' | grep -qx ro &&
   [ "$(findmnt -n -o TARGET --target "$bin")" = "$(readlink -f "$bin")" ]; then
  echo "protect-runtime: $bin is already on a read-only bind mount"
  exit 0
fi
mount --bind "$bin" "$bin"
mount -o remount,bind,ro "$bin"
echo "protect-runtime: $bin is now read-only (undo: umount $bin)"
