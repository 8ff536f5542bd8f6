// engine/local_containers_joins.cc — --network, --pid and --ipc
// "container:NAME": a container that lives in namespaces of another one.
//
// The namespaces are those of the other container's current run, so they
// are looked up at every start (the bundle is written then, not only at
// create) and that container must be running, as docker requires. Joining
// its network also means its /etc/hostname, /etc/hosts and /etc/resolv.conf
// and its hostname; joining its IPC namespace means its /dev/shm, which a
// "shareable" container keeps in a tmpfs berthd mounts on the host
// (<container dir>/shm) for as long as it runs.
#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "engine/local_containers.h"
#include "engine/spec_builder.h"

namespace berth::engine {
namespace {

struct Join {
  const char* ns;    // OCI namespace type
  const char* flag;  // for messages
  std::string target;
};

std::vector<Join> joins_of(const HostConfig& hc) {
  std::vector<Join> out;
  auto add = [&](const char* ns, const char* flag, const std::string& mode) {
    if (starts_with(mode, "container:")) out.push_back({ns, flag, mode.substr(10)});
  };
  add("network", "--network", hc.network_mode);
  add("pid", "--pid", hc.pid_mode);
  add("ipc", "--ipc", hc.ipc_mode);
  return out;
}

// /proc/PID/ns/ names the network namespace "net".
std::string proc_name(const std::string& ns) { return ns == "network" ? "net" : ns; }

bool is_running(const ContainerState& s) { return s.status == "running" || s.status == "paused"; }

}  // namespace

bool joins_namespaces(const HostConfig& hc) { return !joins_of(hc).empty(); }

std::string LocalContainerService::shm_dir(const std::string& id) const {
  return ctr_dir(id) + "/shm";
}

Result<void> LocalContainerService::validate_joins(const Ctr& c) {
  for (const Join& j : joins_of(c.cfg.host_config)) {
    if (std::string(j.ns) == "network") continue;  // validate_network
    BERTH_TRY(find(j.target));
  }
  return {};
}

Result<void> LocalContainerService::resolve_joins_locked(const Ctr& c, SpecInput& si,
                                                         bool at_start) {
  for (const Join& j : joins_of(c.cfg.host_config)) {
    const std::string ns = j.ns;
    if (!at_start) {
      // Create: a placeholder, so the rest of the spec is checked (and
      // written); every start writes it again with the real path.
      si.join_namespaces[ns] = "/proc/self/ns/" + proc_name(ns);
      continue;
    }
    auto other = BERTH_TRY(find_locked(j.target));
    if (other->id == c.id) {
      return make_error(Errc::InvalidArgument, "{}: cannot join the container's own namespace",
                        j.flag);
    }
    const ContainerState& st = other->state;
    if (!is_running(st) || st.pid <= 0) {
      if (ns == "network") {
        return make_error(Errc::Conflict, "cannot join network of a non running container: {}",
                          j.target);
      }
      if (ns == "pid") {
        return make_error(Errc::Conflict, "cannot join PID of a non running container: {}",
                          j.target);
      }
      return make_error(Errc::Conflict,
                        "can't join IPC of container {0}: container {0} is not running", j.target);
    }
    if (ns == "ipc") {
      if (other->cfg.host_config.ipc_mode != "shareable") {
        return make_error(Errc::InvalidArgument,
                          "can't join IPC of container {}: non-shareable IPC (hint: use "
                          "IpcMode:shareable for the donor container)",
                          j.target);
      }
      si.shm_path = shm_dir(other->id);
    }
    si.join_namespaces[ns] = fmt::format("/proc/{}/ns/{}", st.pid, proc_name(ns));
    if (ns == "network") {
      // Its name and the files that go with its network, as docker does.
      std::string dir = ctr_dir(other->id);
      si.hostname_path = dir + "/hostname";
      si.hosts_path = dir + "/hosts";
      si.resolv_conf_path = dir + "/resolv.conf";
      si.config.hostname = other->cfg.config.hostname;
      si.config.domainname = other->cfg.config.domainname;
    }
  }
  return {};
}

Result<void> LocalContainerService::mount_shm(const Ctr& c) {
  const HostConfig& hc = c.cfg.host_config;
  if (hc.ipc_mode != "shareable") return {};
  std::string dir = shm_dir(c.id);
  unmount_shm(c.id);  // a previous run's, if its cleanup was missed
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error(Errc::Internal, "creating {}: {}", dir, std::strerror(errno));
  }
  int64_t size = hc.shm_size > 0 ? hc.shm_size : kDefaultShmSize;
  std::string data = fmt::format("mode=1777,size={}", size);
  if (::mount("shm", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, data.c_str()) != 0) {
    return make_error(Errc::Internal, "mounting the shareable /dev/shm on {}: {}", dir,
                      std::strerror(errno));
  }
  return {};
}

void LocalContainerService::unmount_shm(const std::string& id) {
  std::string dir = shm_dir(id);
  for (int i = 0; i < 4 && ::umount2(dir.c_str(), MNT_DETACH) == 0; ++i) {
  }
}

}  // namespace berth::engine
