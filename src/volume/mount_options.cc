#include "volume/mount_options.h"

#include <sys/mount.h>

#include "base/strings.h"

namespace berth::volume {

MountArgs parse_mount_options(const std::string& o) {
  struct Word {
    const char* name;
    bool clear;  // the word removes the flag ("rw" clears MS_RDONLY)
    unsigned long flag;
  };
  static const Word kFlags[] = {
      {"ro", false, MS_RDONLY},
      {"rw", true, MS_RDONLY},
      {"nosuid", false, MS_NOSUID},
      {"suid", true, MS_NOSUID},
      {"nodev", false, MS_NODEV},
      {"dev", true, MS_NODEV},
      {"noexec", false, MS_NOEXEC},
      {"exec", true, MS_NOEXEC},
      {"sync", false, MS_SYNCHRONOUS},
      {"async", true, MS_SYNCHRONOUS},
      {"dirsync", false, MS_DIRSYNC},
      {"remount", false, MS_REMOUNT},
      {"mand", false, MS_MANDLOCK},
      {"nomand", true, MS_MANDLOCK},
      {"noatime", false, MS_NOATIME},
      {"atime", true, MS_NOATIME},
      {"nodiratime", false, MS_NODIRATIME},
      {"diratime", true, MS_NODIRATIME},
      {"relatime", false, MS_RELATIME},
      {"norelatime", true, MS_RELATIME},
      {"strictatime", false, MS_STRICTATIME},
      {"nostrictatime", true, MS_STRICTATIME},
      {"bind", false, MS_BIND},
      {"rbind", false, MS_BIND | MS_REC},
  };
  static const std::pair<const char*, unsigned long> kPropagation[] = {
      {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
      {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
      {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
      {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
  };
  MountArgs out;
  std::vector<std::string> data;
  for (const std::string& raw : split(o, ',', true)) {
    std::string w(trim(raw));
    if (w.empty()) continue;
    bool known = false;
    for (const auto& f : kFlags) {
      if (w != f.name) continue;
      known = true;
      if (f.clear) {
        out.flags &= ~f.flag;
      } else {
        out.flags |= f.flag;
      }
      if (f.flag & MS_BIND) out.bind = true;
    }
    for (const auto& [name, flag] : kPropagation) {
      if (w == name) {
        known = true;
        out.propagation = flag;
      }
    }
    if (!known) data.push_back(w);
  }
  out.data = join(data, ",");
  return out;
}

}  // namespace berth::volume
