// volume/copy_up.cc — the tree copy behind copy_up(): *at() calls with
// O_NOFOLLOW everywhere, so a symlink in the image can never redirect a
// write outside the volume.
#include "volume/copy_up.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <utility>

#include "base/fd.h"

namespace berth::volume {

namespace {

constexpr int kMaxDepth = 512;

struct Copier {
  int dst_root = -1;
  // (dev, ino) of a multiply linked file -> its path relative to dst_root.
  std::map<std::pair<dev_t, ino_t>, std::string> links;

  Result<void> attrs(int dir, const std::string& name, const struct stat& st, bool symlink) {
    if (::fchownat(dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return sys_error("chown " + name);
    }
    if (!symlink && ::fchmodat(dir, name.c_str(), st.st_mode & 07777, 0) != 0) {
      return sys_error("chmod " + name);
    }
    timespec ts[2] = {st.st_atim, st.st_mtim};
    ::utimensat(dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
    return {};
  }

  Result<void> file(int sdir, int ddir, const std::string& name, const std::string& rel,
                    const struct stat& st) {
    if (st.st_nlink > 1) {
      auto key = std::make_pair(st.st_dev, st.st_ino);
      if (auto it = links.find(key); it != links.end()) {
        if (::linkat(dst_root, it->second.c_str(), ddir, name.c_str(), 0) == 0) return {};
      }
      links[key] = rel;
    }
    Fd in(::openat(sdir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in) return sys_error("open " + rel);
    Fd out(
        ::openat(ddir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return sys_error("create " + rel);
    off_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error("copy " + rel);
      if (n == 0) break;  // the file shrank meanwhile
      left -= n;
    }
    return attrs(ddir, name, st, false);
  }

  Result<void> tree(int sdir, int ddir, const std::string& rel, int depth) {
    if (depth > kMaxDepth) {
      return make_error(Errc::InvalidArgument, "copy-up: {} is nested too deeply", rel);
    }
    int dup = ::dup(sdir);
    if (dup < 0) return sys_error("dup");
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return sys_error("opendir " + rel);
    }
    std::unique_ptr<DIR, int (*)(DIR*)> guard(d, ::closedir);
    ::rewinddir(d);
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      if (::fstatat(sdir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return sys_error("stat " + path);
      }
      struct stat existing {};
      if (::fstatat(ddir, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (::mkdirat(ddir, name.c_str(), 0700) != 0) return sys_error("mkdir " + path);
        Fd s(::openat(sdir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        Fd t(::openat(ddir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!s || !t) return sys_error("open " + path);
        BERTH_TRY(tree(s.get(), t.get(), path, depth + 1));
        BERTH_TRY(attrs(ddir, name, st, false));
      } else if (S_ISREG(st.st_mode)) {
        BERTH_TRY(file(sdir, ddir, name, path, st));
      } else if (S_ISLNK(st.st_mode)) {
        std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
        ssize_t n = ::readlinkat(sdir, name.c_str(), target.data(), target.size());
        if (n < 0) return sys_error("readlink " + path);
        target.resize(static_cast<size_t>(n));
        if (::symlinkat(target.c_str(), ddir, name.c_str()) != 0) {
          return sys_error("symlink " + path);
        }
        BERTH_TRY(attrs(ddir, name, st, true));
      } else {
        // fifo, socket, device: the node itself (no contents to copy).
        if (::mknodat(ddir, name.c_str(), st.st_mode, st.st_rdev) != 0) {
          return sys_error("mknod " + path);
        }
        BERTH_TRY(attrs(ddir, name, st, false));
      }
    }
    return {};
  }
};

}  // namespace

Result<void> copy_up(int src_dir, const std::string& dst_dir) {
  Fd dst(::open(dst_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dst) return sys_error("open " + dst_dir);
  Copier c;
  c.dst_root = dst.get();
  BERTH_TRY(c.tree(src_dir, dst.get(), "", 0));
  struct stat st {};
  if (::fstat(src_dir, &st) == 0) {
    if (::fchown(dst.get(), st.st_uid, st.st_gid) != 0) return sys_error("chown " + dst_dir);
    if (::fchmod(dst.get(), st.st_mode & 07777) != 0) return sys_error("chmod " + dst_dir);
  }
  return {};
}

bool dir_is_empty(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return true;
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

}  // namespace berth::volume
