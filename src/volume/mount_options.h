// volume/mount_options.h — docker's local-driver `o=` option string as
// mount(2) arguments: known flag words become MS_* flags, everything else is
// passed to the filesystem as data ("size=10m,uid=1000"). Pure; unit-tested.
// Depends on: base.
#pragma once

#include <string>

#include "base/result.h"

namespace berth::volume {

struct MountArgs {
  unsigned long flags = 0;        // MS_RDONLY, MS_NOSUID, MS_BIND...
  unsigned long propagation = 0;  // MS_SHARED / MS_PRIVATE... (a second mount(2))
  std::string data;               // comma-joined filesystem options
  bool bind = false;              // "bind" or "rbind" was given
};

MountArgs parse_mount_options(const std::string& o);

}  // namespace berth::volume
