"""Assembles a container rootfs at test time from Debian's busybox-static.

No network: the rootfs is /bin/busybox plus applet symlinks, a few /etc files
and the static probe binary at /probe. A template is built once per session and
copied per bundle (tests mutate their rootfs).
"""

import os
import shutil

BUSYBOX = "/bin/busybox"

APPLETS = [
    "sh", "ls", "cat", "echo", "sleep", "id", "hostname", "mount", "umount", "ps",
    "true", "false", "env", "pwd", "touch", "mkdir", "rm", "grep", "head", "tail",
    "wc", "stat", "readlink", "kill", "chmod", "ln", "test", "[", "printf", "sed",
    "cut", "tr", "dd", "uname", "whoami", "nproc", "ip", "ifconfig",
]

PASSWD = """root:x:0:0:root:/root:/bin/sh
test:x:1000:1000:test user:/home/test:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""

GROUP = """root:x:0:
wheel:x:10:test
audio:x:29:test
test:x:1000:
nogroup:x:65534:
"""


def build_rootfs(dest, probe):
    """Creates a rootfs directory at `dest` containing busybox, applets and /probe."""
    if not os.path.exists(BUSYBOX):
        raise RuntimeError(f"{BUSYBOX} missing: install Debian's busybox-static")
    os.makedirs(dest)
    for d in ["bin", "etc", "dev", "proc", "sys", "tmp", "root", "home/test", "run", "mnt",
              "var/tmp"]:
        os.makedirs(os.path.join(dest, d), exist_ok=True)
    os.chmod(os.path.join(dest, "tmp"), 0o1777)
    shutil.copy2(BUSYBOX, os.path.join(dest, "bin", "busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(dest, "bin", applet))
    with open(os.path.join(dest, "etc", "passwd"), "w") as f:
        f.write(PASSWD)
    with open(os.path.join(dest, "etc", "group"), "w") as f:
        f.write(GROUP)
    with open(os.path.join(dest, "etc", "hostname"), "w") as f:
        f.write("rootfs\n")
    os.chown(os.path.join(dest, "home", "test"), 1000, 1000)
    shutil.copy2(probe, os.path.join(dest, "probe"))
    os.chmod(os.path.join(dest, "probe"), 0o755)
    return dest


def copy_rootfs(template, dest):
    """Copies a template rootfs, keeping symlinks, modes and owners."""
    shutil.copytree(template, dest, symlinks=True)
    return dest
