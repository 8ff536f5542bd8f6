"""OCI bundles for the tests: a rootfs copy plus config.json from a Python dict.

The base config is what the runtime under test prints for `spec` (which also
exercises that command), normalised for non-interactive tests: no terminal and
the probe as the process. Helpers tweak the dict; write() saves config.json.
"""

import copy
import json
import os
import subprocess
import tempfile

from rootfs import copy_rootfs

_spec_cache = {}


def default_spec(runtime_bin):
    """Runs `RUNTIME spec` in a temp dir and returns the parsed config.json."""
    if runtime_bin not in _spec_cache:
        with tempfile.TemporaryDirectory(prefix="berth-spec-") as d:
            r = subprocess.run([runtime_bin, "spec"], cwd=d, capture_output=True, text=True,
                               timeout=20)
            assert r.returncode == 0, f"{runtime_bin} spec failed: {r.stderr}"
            with open(os.path.join(d, "config.json")) as f:
                _spec_cache[runtime_bin] = json.load(f)
    return copy.deepcopy(_spec_cache[runtime_bin])


class Bundle:
    def __init__(self, path, template_rootfs, spec):
        self.path = path
        self.rootfs = os.path.join(path, "rootfs")
        copy_rootfs(template_rootfs, self.rootfs)
        self.config = spec
        self.config["process"]["terminal"] = False
        self.config["process"]["args"] = ["/probe", "all"]
        self.config["root"] = {"path": "rootfs", "readonly": True}
        self.write()

    # ---- process ---------------------------------------------------------------
    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config.setdefault("linux", {})

    def args(self, *argv):
        self.process["args"] = list(argv)
        return self

    def probe(self, *argv):
        """Sets the process to `/probe ARGV...`."""
        return self.args("/probe", *argv)

    def env(self, *entries, replace=False):
        if replace:
            self.process["env"] = []
        self.process.setdefault("env", []).extend(entries)
        return self

    def terminal(self, on=True):
        self.process["terminal"] = on
        return self

    # ---- namespaces --------------------------------------------------------------
    def namespaces(self):
        return self.linux.setdefault("namespaces", [])

    def set_namespace(self, ns_type, path=None):
        """Adds (or replaces) a namespace entry; path joins an existing one."""
        self.remove_namespace(ns_type)
        entry = {"type": ns_type}
        if path:
            entry["path"] = path
        self.namespaces().append(entry)
        return self

    def remove_namespace(self, ns_type):
        self.linux["namespaces"] = [n for n in self.namespaces() if n["type"] != ns_type]
        return self

    def has_namespace(self, ns_type):
        return any(n["type"] == ns_type for n in self.namespaces())

    # ---- mounts ----------------------------------------------------------------
    def add_mount(self, destination, source, mtype=None, options=None):
        m = {"destination": destination, "source": source}
        if mtype:
            m["type"] = mtype
        if options is not None:
            m["options"] = list(options)
        self.config.setdefault("mounts", []).append(m)
        return self

    def mount_for(self, destination):
        for m in self.config.get("mounts", []):
            if m["destination"] == destination:
                return m
        return None

    # ---- resources, seccomp, hooks -------------------------------------------------
    def resources(self):
        return self.linux.setdefault("resources", {})

    def seccomp(self, profile):
        self.linux["seccomp"] = profile
        return self

    def add_hook(self, kind, path, args=None, env=None, timeout=None):
        h = {"path": path}
        if args is not None:
            h["args"] = list(args)
        if env is not None:
            h["env"] = list(env)
        if timeout is not None:
            h["timeout"] = timeout
        self.config.setdefault("hooks", {}).setdefault(kind, []).append(h)
        return self

    # ---- output ----------------------------------------------------------------------
    def write(self):
        self.raw = False
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2)
        return self

    def sync(self):
        """Writes the dict unless config.json was written raw; the runner calls
        this before create/run so a test cannot forget to write()."""
        if not self.raw:
            self.write()

    def write_raw(self, text):
        """Writes config.json verbatim (for malformed-input tests); sync() then
        leaves it alone."""
        self.raw = True
        with open(os.path.join(self.path, "config.json"), "w") as f:
            f.write(text)
        return self
