// engine/rootfs_mount.cc — detached mounts of a stopped container's rootfs.
#include "engine/rootfs_mount.h"

#include <unistd.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "base/strings.h"

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
    int err = errno;
    // Name the directory that is missing: the kernel only says ENOENT.
    std::string missing;
    for (const auto& o : m.options) {
      auto eq = o.find('=');
      if (eq == std::string::npos) continue;
      for (const auto& d : split(o.substr(eq + 1), ':'))
        if (!d.empty() && ::access(d.c_str(), F_OK) != 0) missing += " " + d;
    }
    errno = err;
    return sys_error(missing.empty() ? std::string("create overlay")
                                     : "create overlay (missing:" + missing + ")");
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

namespace {

// The layer directories of the rootfs, topmost first; nullopt when unsure.
std::optional<std::vector<std::string>> layer_dirs(const std::vector<monitor::RootfsMount>& ms) {
  if (ms.size() != 1) return std::nullopt;
  const auto& m = ms.front();
  if (m.type == "bind") return std::vector<std::string>{m.source};
  if (m.type != "overlay") return std::nullopt;
  std::vector<std::string> upper, lower;
  for (const auto& o : m.options) {
    if (o.find('\\') != std::string::npos) return std::nullopt;  // escaped ':' or ','
    if (starts_with(o, "upperdir=")) upper.push_back(o.substr(9));
    if (starts_with(o, "lowerdir=")) {
      for (auto& d : split(o.substr(9), ':'))
        if (!d.empty()) lower.push_back(std::move(d));
    }
  }
  if (lower.empty()) return std::nullopt;
  upper.insert(upper.end(), lower.begin(), lower.end());
  return upper;
}

}  // namespace

bool rootfs_lacks_path(const std::vector<monitor::RootfsMount>& mounts, const std::string& path) {
  auto dirs = layer_dirs(mounts);
  if (!dirs) return false;
  std::vector<std::string> parts;
  for (auto& p : split(path, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") return false;
    parts.push_back(std::move(p));
  }
  if (parts.empty()) return false;  // "/" always exists
  for (const auto& dir : *dirs) {
    Fd cur(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cur) return false;
    for (size_t i = 0; i < parts.size(); ++i) {
      struct stat st {};
      if (::fstatat(cur.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) break;  // not in this layer
        return false;
      }
      // A symlink may lead anywhere in the merged tree, a whiteout (char
      // device) hides lower layers: the layers alone cannot tell.
      if (S_ISLNK(st.st_mode) || S_ISCHR(st.st_mode)) return false;
      if (i + 1 == parts.size()) return false;  // found
      if (!S_ISDIR(st.st_mode)) break;
      Fd next(::openat(cur.get(), parts[i].c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next) return false;
      cur = std::move(next);
    }
  }
  return true;
}

}  // namespace berth::engine
