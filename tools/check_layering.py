#!/usr/bin/env python3
"""Fails when a module under src/ includes a berth module it may not use.

The allowed edges are the "may use" column of docs/design/ARCHITECTURE.md,
restated here as data (the table mixes modules with external libraries).
A project include is `#include "<module>/..."`; store/* modules have two
path components. Mains (cmd/) and tests/ may include anything.
Exit 0 when clean, 1 with one line per violation.
"""
import os
import re
import sys

ALLOWED = {
    "base": set(),
    "build": {"base"},
    "sys": {"base"},
    "oci": {"base"},
    "cgroups": {"base", "sys", "oci"},
    "runtime": {"base", "sys", "oci", "cgroups"},
    "logs": {"base", "sys"},
    "monitor": {"base", "sys", "oci", "runtime", "logs", "cgroups"},
    "store/content": {"base", "sys"},
    "store/metadata": {"base"},
    "snapshot": {"base", "sys", "oci", "store/content", "store/metadata"},
    "registry": {"base", "oci", "store/content"},
    "image": {"base", "oci", "store/content", "store/metadata", "snapshot", "registry"},
    "network": {"base", "sys"},
    "volume": {"base", "sys", "store/metadata"},
    "engine": {"base", "sys", "oci", "cgroups", "logs", "store/content", "store/metadata",
               "snapshot", "registry", "image", "network", "volume", "monitor", "build"},
    "http": {"base", "sys"},
    "api/types": {"base", "oci"},
    "api/server": {"base", "http", "api/types", "engine"},
    "api/client": {"base", "http", "api/types"},
    "dashboard": {"base", "sys", "http"},
    "cli": {"base", "oci", "api/client", "api/types", "build"},
}
# engine may reach the monitor only through its protocol and client.
ENGINE_MONITOR_HEADERS = {"monitor/protocol.h", "monitor/client.h"}
TWO_PART = {"store", "api"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def module_of(path_parts):
    if path_parts[0] in TWO_PART and len(path_parts) > 2:
        return "/".join(path_parts[:2])
    return path_parts[0]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    src = os.path.join(root, "src")
    if len(sys.argv) == 3 and sys.argv[1] == "--src":
        src = sys.argv[2]
    errors = []
    for dirpath, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, src).split(os.sep)
            mod = module_of(rel)
            if mod not in ALLOWED:
                errors.append(f"src/{'/'.join(rel)}: module '{mod}' is not in the layering table")
                continue
            with open(full, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    parts = inc.split("/")
                    if len(parts) < 2:
                        continue  # a local header without a module prefix
                    target = module_of(parts)
                    if target not in ALLOWED or target == mod:
                        continue
                    if mod == "engine" and target == "monitor":
                        if inc not in ENGINE_MONITOR_HEADERS:
                            errors.append(f"src/{'/'.join(rel)}:{lineno}: engine may include "
                                          f"only monitor/protocol.h and monitor/client.h, not {inc}")
                        continue
                    if target not in ALLOWED[mod]:
                        errors.append(f"src/{'/'.join(rel)}:{lineno}: module '{mod}' may not "
                                      f"include '{inc}' (module '{target}')")
    for e in errors:
        print(e)
    if errors:
        print(f"check_layering: {len(errors)} violation(s)")
        return 1
    print("check_layering: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
