#include "base/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/fd.h"

namespace berth {

Result<std::string> read_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error(fmt::format("open {}", path));
  return read_fd(fd.get(), path);
}

Result<std::string> read_fd(int fd, const std::string& what) {
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(fmt::format("read {}", what));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("write");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Result<void> write_file_atomic(const std::string& path, std::string_view data, int mode,
                               Durability d) {
  const bool durable = d == Durability::Durable;
  std::string tmpl = path + ".tmp.XXXXXX";
  Fd fd(::mkostemp(tmpl.data(), O_CLOEXEC));
  if (!fd) return sys_error(fmt::format("create temp file for {}", path));
  auto fail = [&](Error e) {
    ::unlink(tmpl.c_str());
    return e;
  };
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) return fail(sys_error("fchmod"));
  if (auto r = write_all(fd.get(), data); !r) return fail(r.error().context(tmpl));
  if (durable && ::fsync(fd.get()) != 0) return fail(sys_error(fmt::format("fsync {}", tmpl)));
  fd.reset();
  if (::rename(tmpl.c_str(), path.c_str()) != 0)
    return fail(sys_error(fmt::format("rename {} to {}", tmpl, path)));
  if (!durable) return ok();
  auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? std::string(".")
                    : slash == 0               ? std::string("/")
                                               : path.substr(0, slash);
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());
  return ok();
}

Result<void> write_new_file(const std::string& path, std::string_view data, int mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode)));
  if (!fd) return sys_error(fmt::format("create {}", path));
  // The umask may have taken bits the caller asked for.
  if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0 || !write_all(fd.get(), data)) {
    Error e = sys_error(fmt::format("write {}", path));
    ::unlink(path.c_str());
    return e;
  }
  return ok();
}

Result<void> write_file(const std::string& path, std::string_view data, bool create) {
  int flags = O_WRONLY | O_TRUNC | O_CLOEXEC | (create ? O_CREAT : 0);
  Fd fd(::open(path.c_str(), flags, 0644));
  if (!fd) return sys_error(fmt::format("open {}", path));
  if (auto r = write_all(fd.get(), data); !r) return r.error().context(path);
  return ok();
}

}  // namespace berth
