// The container's root filesystem: mounted by the monitor before the runtime
// creates the container, unmounted after the runtime deleted it.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/file.h"
#include "base/strings.h"
#include "monitor/server.h"

namespace berth::monitor {
namespace {

std::string boot_id() {
  auto r = read_file("/proc/sys/kernel/random/boot_id");
  return r ? std::string(trim(*r)) : std::string();
}

// Overlay leaves <workdir>/work/incompat/volatile behind a volatile mount and
// refuses to mount that workdir again: after a crash the upper directory may
// be missing writes. Within one boot nothing was lost, so a marker from a
// mount of this boot (the stamp beside the workdir says which) is cleared
// for a restart; one from an earlier boot is left and the mount fails with
// overlay's error. (The engine removes --rm containers it finds at start-up,
// so that case means a crash while one ran.)
std::string volatile_stamp(const std::string& workdir) {
  auto slash = workdir.rfind('/');
  return (slash == std::string::npos ? std::string(".") : workdir.substr(0, slash)) +
         "/volatile.boot";
}

void clear_volatile_marker(const std::string& workdir, const std::string& boot) {
  std::string marker = workdir + "/work/incompat/volatile";
  struct stat st;
  if (::stat(marker.c_str(), &st) != 0) return;
  auto stamp = read_file(volatile_stamp(workdir));
  if (!stamp || boot.empty() || trim(*stamp) != boot) return;
  ::unlink((marker + "/dirty").c_str());
  ::rmdir(marker.c_str());
  ::rmdir((workdir + "/work/incompat").c_str());
}

std::string option_value(const std::vector<std::string>& options, std::string_view key) {
  for (const auto& o : options)
    if (o.size() > key.size() && o.compare(0, key.size(), key) == 0 && o[key.size()] == '=')
      return o.substr(key.size() + 1);
  return "";
}

}  // namespace

Result<void> Monitor::mount_rootfs() {
  std::string target = c_.bundle + "/rootfs";
  if (!c_.rootfs_mounts.empty()) ::mkdir(target.c_str(), 0755);
  for (const auto& m : c_.rootfs_mounts) {
    if (m.type == "overlay") {
      std::string data = join(m.options, ",");
      std::string workdir = option_value(m.options, "workdir");
      bool vol = c_.volatile_rootfs && !workdir.empty();
      std::string boot = vol ? boot_id() : "";
      if (vol) clear_volatile_marker(workdir, boot);
      int rc = -1;
      if (vol) {
        rc = ::mount(m.source.c_str(), target.c_str(), "overlay", 0, (data + ",volatile").c_str());
        if (rc == 0) {
          [[maybe_unused]] auto w = write_file_atomic(volatile_stamp(workdir), boot + "\n", 0644,
                                                      Durability::ProcessCrashSafe);
        }
      }
      // Without "volatile" (not asked for, or a kernel older than 5.10).
      if (rc != 0 && (!vol || errno == EINVAL))
        rc = ::mount(m.source.c_str(), target.c_str(), "overlay", 0, data.c_str());
      if (rc != 0) return sys_error(fmt::format("mount the rootfs overlay on {}", target));
    } else {
      unsigned long flags = MS_BIND | MS_REC;
      bool ro = false;
      for (const auto& o : m.options)
        if (o == "ro") ro = true;
      if (::mount(m.source.c_str(), target.c_str(), nullptr, flags, nullptr) != 0)
        return sys_error(fmt::format("bind {} on {}", m.source, target));
      ++mounted_;
      if (ro &&
          ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
        return sys_error(fmt::format("remount {} read-only", target));
      continue;
    }
    ++mounted_;
  }
  return ok();
}

void Monitor::unmount_rootfs() {
  std::string target = c_.bundle + "/rootfs";
  for (; mounted_ > 0; --mounted_) {
    if (::umount2(target.c_str(), 0) != 0) ::umount2(target.c_str(), MNT_DETACH);
  }
}

}  // namespace berth::monitor
