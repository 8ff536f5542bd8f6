"""Host-side snapshots used to prove that a failed operation left nothing
behind: mounts, processes rooted in a test dir, cgroup directories."""

import os
import time




def mountinfo_points():
    with open("/proc/self/mountinfo") as f:
        return sorted(line.split()[4] for line in f)


def processes_rooted_under(path):
    """Pids whose root directory or cwd lies under `path` (container leftovers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        for link in ("root", "cwd", "exe"):
            try:
                target = os.readlink(f"/proc/{entry}/{link}")
            except OSError:
                continue
            if target == path or target.startswith(path + "/"):
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                except OSError:
                    break
                if state not in ("Z", "X"):
                    found.append(int(entry))
                break
    return found


def cgroup_dirs_named(name):
    """Every cgroup directory (any controller, v1 or v2) whose path contains name."""
    found = []
    roots = ["/sys/fs/cgroup"]
    for root in roots:
        for dirpath, dirnames, _ in os.walk(root):
            for d in dirnames:
                if name in d:
                    found.append(os.path.join(dirpath, d))
            # cgroup trees can be deep; stop descending into matches
            dirnames[:] = [d for d in dirnames if name not in d]
    return found


class Snapshot:
    """Mounts and cgroup dirs before an operation, compared after it."""

    def __init__(self, workdir, cgroup_name=None):
        self.workdir = workdir
        self.cgroup_name = cgroup_name
        self.mounts = mountinfo_points()
        self.cgroups = cgroup_dirs_named(cgroup_name) if cgroup_name else []

    def assert_clean(self, rt):
        assert mountinfo_points() == self.mounts, "mounts changed"
        # The runtime may have signalled its child without waiting for it.
        deadline = time.monotonic() + 5
        while processes_rooted_under(self.workdir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert processes_rooted_under(self.workdir) == [], "container processes left"
        if self.cgroup_name:
            assert cgroup_dirs_named(self.cgroup_name) == self.cgroups, "cgroup dirs left"
        state_entries = os.listdir(rt.root) if os.path.isdir(rt.root) else []
        assert state_entries == [], f"state left under --root: {state_entries}"


