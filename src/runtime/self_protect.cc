#include "runtime/self_protect.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

#include "base/fd.h"
#include "base/log.h"

extern char** environ;

namespace berth::runtime {
namespace {

constexpr const char* kMarker = "_BERTH_RUNTIME_PROTECTED";

Result<Fd> readonly_clone() {
  Fd fd(static_cast<int>(
      ::syscall(SYS_open_tree, AT_FDCWD, "/proc/self/exe", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!fd) return sys_error("open_tree /proc/self/exe");
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, fd.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
    return sys_error("mount_setattr read-only");
  return fd;
}

Result<Fd> sealed_copy() {
  Fd src(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!src) return sys_error("open /proc/self/exe");
  struct stat st;
  if (::fstat(src.get(), &st) != 0) return sys_error("stat self");
  Fd mfd(::memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!mfd) return sys_error("memfd_create");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = ::sendfile(mfd.get(), src.get(), &off, static_cast<size_t>(st.st_size - off));
    if (n <= 0) return sys_error("copy self to memfd");
  }
  if (::fcntl(mfd.get(), F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) !=
      0)
    return sys_error("seal memfd");
  return mfd;
}

}  // namespace

bool self_is_protected() {
  struct statvfs sv;
  if (::statvfs("/proc/self/exe", &sv) == 0 && (sv.f_flag & ST_RDONLY)) return true;
  Fd fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  int seals = ::fcntl(fd.get(), F_GET_SEALS);
  return seals >= 0 && (seals & F_SEAL_WRITE);
}

Result<void> ensure_protected_self(char** argv) {
  if (std::getenv(kMarker)) {
    ::unsetenv(kMarker);
    if (self_is_protected()) return ok();
    return make_error(Errc::Internal, "re-executed runtime is not protected");
  }
  if (self_is_protected()) return ok();
  ::setenv(kMarker, "1", 1);
  auto fd = readonly_clone();
  if (!fd) {
    log_debug("read-only self clone unavailable ({}), using a sealed memfd", fd.error().message);
    fd = sealed_copy();
  }
  if (!fd) {
    ::unsetenv(kMarker);
    return std::move(fd).error();
  }
  ::syscall(SYS_execveat, fd->get(), "", argv, environ, AT_EMPTY_PATH);
  ::unsetenv(kMarker);
  return sys_error("re-execute the protected runtime");
}

}  // namespace berth::runtime
