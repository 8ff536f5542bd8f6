"""Linux capability numbers (linux/capability.h) and mask helpers."""

CAPS = ["CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
        "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
        "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
        "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
        "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
        "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"]


def mask(names):
    """Bitmask of capability names given with or without the CAP_ prefix."""
    m = 0
    for n in names:
        m |= 1 << CAPS.index(n.removeprefix("CAP_"))
    return m


def names(m):
    return sorted("CAP_" + c for i, c in enumerate(CAPS) if m >> i & 1)


def probe_masks(data):
    """{"inh": int, ...} from the probe's hex strings."""
    return {k: int(v, 16) for k, v in data["caps"].items()}
