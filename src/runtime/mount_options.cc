#include "runtime/mount_options.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <string_view>

#include "base/strings.h"

namespace berth::runtime {
namespace {

struct FlagDef {
  const char* name;
  bool clear;
  unsigned long flag;
};

const FlagDef kFlags[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"iversion", false, MS_I_VERSION},
    {"lazytime", false, MS_LAZYTIME},
    {"loud", true, MS_SILENT},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"noiversion", true, MS_I_VERSION},
    {"nolazytime", true, MS_LAZYTIME},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"silent", false, MS_SILENT},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

}  // namespace

bool MountFlags::bind() const { return flags & MS_BIND; }

unsigned long propagation_flag(const std::string& o) {
  if (o == "shared") return MS_SHARED;
  if (o == "rshared") return MS_SHARED | MS_REC;
  if (o == "slave") return MS_SLAVE;
  if (o == "rslave") return MS_SLAVE | MS_REC;
  if (o == "private") return MS_PRIVATE;
  if (o == "rprivate") return MS_PRIVATE | MS_REC;
  if (o == "unbindable") return MS_UNBINDABLE;
  if (o == "runbindable") return MS_UNBINDABLE | MS_REC;
  return 0;
}

MountFlags parse_mount_options(const std::vector<std::string>& options) {
  MountFlags m;
  std::vector<std::string> data;
  for (const auto& o : options) {
    if (auto p = propagation_flag(o)) {
      m.propagation.push_back(p);
      continue;
    }
    if (o == "rro") {
      m.recursive_ro = true;
      m.flags |= MS_RDONLY;
      continue;
    }
    // Recursive attribute variants (rnosuid, rrw, ...) and idmapping/copyup
    // requests are accepted; the non-recursive equivalent is applied.
    std::string_view name = o;
    if (o == "tmpcopyup" || o == "idmap" || o == "ridmap" || o == "rrw") continue;
    if (o.size() > 2 && o[0] == 'r' && o != "rbind" && o != "relatime" && o != "remount" &&
        o != "rw" && o != "ro" && o != "rslave" && o != "rshared" && o != "rprivate") {
      std::string_view rest = name.substr(1);
      for (const auto& f : kFlags)
        if (rest == f.name && f.name != std::string_view("bind")) {
          name = rest;
          break;
        }
    }
    bool found = false;
    for (const auto& f : kFlags) {
      if (name == f.name) {
        found = true;
        if (f.clear) {
          m.flags &= ~f.flag;
          m.clear |= f.flag;
        } else {
          m.flags |= f.flag;
        }
        break;
      }
    }
    if (!found) data.push_back(o);
  }
  m.data = join(data, ",");
  return m;
}

unsigned long statfs_locked_flags(const std::string& path) {
  struct statvfs s;
  if (::statvfs(path.c_str(), &s) != 0) return 0;
  unsigned long out = 0;
  if (s.f_flag & ST_NOSUID) out |= MS_NOSUID;
  if (s.f_flag & ST_NODEV) out |= MS_NODEV;
  if (s.f_flag & ST_NOEXEC) out |= MS_NOEXEC;
  if (s.f_flag & ST_RDONLY) out |= MS_RDONLY;
  if (s.f_flag & ST_NOATIME) out |= MS_NOATIME;
  if (s.f_flag & ST_NODIRATIME) out |= MS_NODIRATIME;
  if (s.f_flag & ST_RELATIME) out |= MS_RELATIME;
  return out;
}

}  // namespace berth::runtime
