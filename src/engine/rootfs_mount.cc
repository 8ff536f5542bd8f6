// engine/rootfs_mount.cc — detached mounts of a stopped container's rootfs.
#include "engine/rootfs_mount.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>

namespace berth::engine {

std::vector<monitor::RootfsMount> decode_rootfs_mounts(const Json& j) {
  std::vector<monitor::RootfsMount> out;
  if (!j.is_array()) return out;
  for (const auto& m : j) {
    if (!m.is_object()) continue;
    monitor::RootfsMount r;
    r.type = m.value("type", "");
    r.source = m.value("source", "");
    if (auto it = m.find("options"); it != m.end() && it->is_array()) {
      for (const auto& o : *it) {
        if (o.is_string()) r.options.push_back(o.get<std::string>());
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

Result<Fd> detached_overlay(const monitor::RootfsMount& m) {
  Fd fs(::fsopen("overlay", FSOPEN_CLOEXEC));
  if (!fs) return sys_error("fsopen overlay");
  for (const auto& o : m.options) {
    auto eq = o.find('=');
    int r = 0;
    if (eq == std::string::npos) {
      r = ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, o.c_str(), nullptr, 0);
    } else {
      std::string key = o.substr(0, eq), value = o.substr(eq + 1);
      r = ::fsconfig(fs.get(), FSCONFIG_SET_STRING, key.c_str(), value.c_str(), 0);
    }
    if (r != 0) return sys_error(fmt::format("overlay option {:?}", o.substr(0, o.find('='))));
  }
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    return sys_error("create overlay");
  }
  Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0));
  if (!mnt) return sys_error("fsmount overlay");
  return mnt;
}

}  // namespace

Result<Fd> open_detached_rootfs(const std::vector<monitor::RootfsMount>& mounts) {
  if (mounts.size() != 1) {
    return make_error(Errc::InvalidArgument, "container rootfs has {} mounts, expected 1",
                      mounts.size());
  }
  const auto& m = mounts.front();
  if (m.type == "overlay") return detached_overlay(m);
  if (m.type == "bind") {
    // A plain directory (the copy snapshotter): its fd is the root.
    Fd fd(::open(m.source.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return sys_error(fmt::format("open {}", m.source));
    return fd;
  }
  return make_error(Errc::InvalidArgument, "container rootfs mount type {:?} unsupported", m.type);
}

}  // namespace berth::engine
