// runtime/mount_options.h — turns OCI mount option strings into mount(2)
// flags, propagation flags and the filesystem data string.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"

namespace berth::runtime {

struct MountFlags {
  unsigned long flags = 0;                 // MS_* applied at mount time (incl. MS_BIND/MS_REC)
  unsigned long clear = 0;                 // flags explicitly cleared ("rw", "suid", "dev", "exec")
  std::vector<unsigned long> propagation;  // MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (|MS_REC)
  bool recursive_ro = false;               // "rro": MOUNT_ATTR_RDONLY with AT_RECURSIVE
  std::string data;  // comma-joined fs-specific options ("size=65536k,mode=755")
  bool bind() const;
};

// Unknown options that look like flags are passed to the filesystem as data,
// like runc does; "tmpcopyup" and "idmap" are recognised and ignored by the
// caller where unsupported.
MountFlags parse_mount_options(const std::vector<std::string>& options);

// The flags to keep when remounting a bind mount: MS_RDONLY etc. must be
// re-applied together with any flags the kernel locks (nosuid/nodev/noexec
// from the source in a user namespace).
unsigned long statfs_locked_flags(const std::string& path);

// "shared"/"rshared"/... -> MS_* (with MS_REC for r*); 0 if not propagation.
unsigned long propagation_flag(const std::string& opt);

}  // namespace berth::runtime
