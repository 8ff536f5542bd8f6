"""Host-side view of a container's cgroups, for v1 (incl. hybrid) and v2."""

import os


def version():
    """2 when /sys/fs/cgroup is the unified hierarchy, else 1 (v1 or hybrid)."""
    return 2 if os.path.exists("/sys/fs/cgroup/cgroup.controllers") else 1


def _cgroup_mounts():
    """{controller or "" for v2: (mount point, mount root)} from mountinfo."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.rstrip("\n").split(" - ", 1)
            fields = left.split()
            fstype, _source, super_opts = right.split(" ", 2)
            if fstype == "cgroup2":
                mounts.setdefault("", (fields[4], fields[3]))
            elif fstype == "cgroup":
                for opt in super_opts.split(","):
                    if opt in ("rw", "ro") or opt.startswith("release_agent"):
                        continue
                    mounts.setdefault(opt, (fields[4], fields[3]))
    return mounts


def paths(pid):
    """{controller: host directory} of the process's cgroups. On v2 the key is ""."""
    mounts = _cgroup_mounts()
    result = {}
    with open(f"/proc/{pid}/cgroup") as f:
        for line in f:
            _hid, controllers, path = line.rstrip("\n").split(":", 2)
            names = controllers.split(",") if controllers else [""]
            for name in names:
                if name not in mounts:
                    continue
                point, root = mounts[name]
                rel = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
                result[name] = os.path.normpath(os.path.join(point, rel))
    return result


def controller_dir(pid, controller):
    """The host directory of one controller (v1) or the unified dir (v2)."""
    p = paths(pid)
    key = "" if version() == 2 else controller
    assert key in p, f"no {controller!r} cgroup for pid {pid}: {p}"
    return p[key]


def read(pid, controller, filename):
    with open(os.path.join(controller_dir(pid, controller), filename)) as f:
        return f.read().strip()


def exists(pid, controller, filename):
    return os.path.exists(os.path.join(controller_dir(pid, controller), filename))
