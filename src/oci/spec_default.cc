// default_spec: the configuration `runc spec` writes, so bundles made with
// `berth-runtime spec` behave the same under runc, crun and berth.
#include <unistd.h>

#include "oci/spec_codec.h"

namespace berth::oci {
namespace {

Mount mount(std::string dest, std::string type, std::string source,
            std::vector<std::string> options = {}) {
  Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

Process default_process() {
  Process p;
  p.terminal = true;
  p.args = {"sh"};
  p.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};
  p.cwd = "/";
  // The three capabilities runc grants by default; inheritable stays empty so
  // that exec'd programs cannot pick up more than the bounding set allows.
  const std::vector<std::string> caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  Capabilities c;
  c.bounding = caps;
  c.effective = caps;
  c.permitted = caps;
  c.ambient = caps;
  p.capabilities = std::move(c);
  p.rlimits.push_back(Rlimit{"RLIMIT_NOFILE", 1024, 1024});
  p.no_new_privileges = true;
  return p;
}

std::vector<Mount> default_mounts(bool rootless) {
  std::vector<Mount> m;
  m.push_back(mount("/proc", "proc", "proc"));
  m.push_back(
      mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  std::vector<std::string> pts = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"};
  // gid=5 (tty) cannot be mapped in a rootless user namespace holding only the caller's ids.
  if (!rootless) pts.push_back("gid=5");
  m.push_back(mount("/dev/pts", "devpts", "devpts", std::move(pts)));
  m.push_back(
      mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  m.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  if (rootless) {
    // Without its own network namespace a container may not mount sysfs, so
    // rootless bundles (which keep the host network) bind the host's /sys.
    m.push_back(mount("/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro"}));
  } else {
    m.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  }
  m.push_back(
      mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return m;
}

Linux default_linux(bool rootless) {
  Linux l;
  if (rootless) {
    // Map root in the container to the (unprivileged) caller, the only id an
    // unprivileged process may map without newuidmap(1).
    l.uid_mappings.push_back(IdMapping{0, static_cast<uint32_t>(geteuid()), 1});
    l.gid_mappings.push_back(IdMapping{0, static_cast<uint32_t>(getegid()), 1});
    for (const char* ns : {"pid", "ipc", "uts", "mount", "user"}) {
      l.namespaces.push_back(Namespace{ns, ""});
    }
  } else {
    Resources r;
    r.devices.push_back(DeviceCgroupRule{false, "", std::nullopt, std::nullopt, "rwm"});
    l.resources = std::move(r);
    for (const char* ns : {"pid", "network", "ipc", "uts", "mount"}) {
      l.namespaces.push_back(Namespace{ns, ""});
    }
  }
  l.masked_paths = {"/proc/acpi",        "/proc/asound",        "/proc/kcore",
                    "/proc/keys",        "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug",   "/sys/firmware",
                    "/proc/scsi"};
  l.readonly_paths = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
  return l;
}

}  // namespace

Spec default_spec(bool rootless) {
  Spec s;
  s.oci_version = kSpecVersion;
  s.process = default_process();
  s.root = Root{"rootfs", true};
  s.hostname = "runc";
  s.mounts = default_mounts(rootless);
  s.linux = default_linux(rootless);
  return s;
}

}  // namespace berth::oci
