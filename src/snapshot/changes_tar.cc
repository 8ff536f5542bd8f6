// snapshot/changes_tar.cc — an overlay upper dir as an OCI layer tar (the
// layer `docker commit` adds). See write_overlay_changes in snapshotter.h.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.h"
#include "snapshot/fs_ops.h"
#include "snapshot/snapshotter.h"

namespace berth::snapshot {

namespace {

using Sink = std::function<Result<void>(std::string_view)>;

struct SinkState {
  const Sink* sink = nullptr;
  std::optional<Error> error;
};

la_ssize_t write_cb(archive*, void* data, const void* buf, size_t n) {
  auto* st = static_cast<SinkState*>(data);
  auto r = (*st->sink)(std::string_view(static_cast<const char*>(buf), n));
  if (!r) {
    st->error = std::move(r).error();
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<archive_entry, EntryFree>;

// An xattr name overlay uses for its own bookkeeping.
bool overlay_private(std::string_view name) {
  return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

class ChangesWriter {
 public:
  ChangesWriter(archive* a, SinkState* st) : a_(a), st_(st) {}

  Result<void> walk(int dirfd, const std::string& rel) {
    auto names = BERTH_TRY(list(dirfd, rel));
    for (const auto& name : names) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return sys_error(fmt::format("stat {}", path));
      auto xattrs = BERTH_TRY(read_xattrs(dirfd, name, path));
      if (xattrs.count("trusted.overlay.redirect") || xattrs.count("trusted.overlay.metacopy"))
        return make_error(Errc::FailedPrecondition,
                          "{}: made by overlay's redirect_dir/metacopy feature, which a layer "
                          "cannot express",
                          path);
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        BERTH_TRY(empty_file(whiteout_path(rel, ".wh." + name), st));
        continue;
      }
      if (S_ISREG(st.st_mode) &&
          (xattrs.count("trusted.overlay.whiteout") || xattrs.count("user.overlay.whiteout"))) {
        BERTH_TRY(empty_file(whiteout_path(rel, ".wh." + name), st));
        continue;
      }
      if (S_ISSOCK(st.st_mode)) continue;  // tar cannot carry sockets (docker skips them too)
      if (S_ISDIR(st.st_mode)) {
        BERTH_TRY(header(path, st, xattrs, {}));
        bool opaque = false;
        for (const char* k : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
          auto it = xattrs.find(k);
          if (it != xattrs.end() && it->second == "y") opaque = true;
        }
        if (opaque) BERTH_TRY(empty_file(path + "/.wh..wh..opq", st));
        Fd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) return sys_error(fmt::format("open {}", path));
        BERTH_TRY(walk(sub.get(), path));
        continue;
      }
      if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
        auto [it, fresh] = links_.try_emplace(Inode{st.st_dev, st.st_ino}, path);
        if (!fresh) {
          BERTH_TRY(header(path, st, xattrs, it->second));
          continue;
        }
      }
      BERTH_TRY(header(path, st, xattrs, {}, dirfd, name));
    }
    return ok();
  }

 private:
  struct Inode {
    dev_t dev;
    ino_t ino;
    bool operator<(const Inode& o) const { return dev != o.dev ? dev < o.dev : ino < o.ino; }
  };

  static std::string whiteout_path(const std::string& rel, const std::string& base) {
    return rel.empty() ? base : rel + "/" + base;
  }

  Result<void> check(int rc, const std::string& what) {
    if (rc >= ARCHIVE_WARN) return ok();
    if (st_->error) return st_->error->context(what);
    const char* msg = archive_error_string(a_);
    return make_error(Errc::Io, "{}: {}", what, msg ? msg : "tar write failed");
  }

  static Result<std::vector<std::string>> list(int dirfd, const std::string& rel) {
    int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dup < 0) return sys_error(fmt::format("open {}", rel.empty() ? "." : rel));
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return sys_error(fmt::format("opendir {}", rel));
    }
    std::vector<std::string> out;
    for (;;) {
      errno = 0;
      dirent* ent = ::readdir(d);
      if (!ent) {
        int err = errno;
        ::closedir(d);
        if (err) return sys_error(fmt::format("readdir {}", rel), err);
        break;
      }
      std::string_view n = ent->d_name;
      if (n != "." && n != "..") out.emplace_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // All xattrs of dirfd/name without following it (the dir's magic link is
  // ours and followed; the final component is not). ENOTSUP = none.
  static Result<std::map<std::string, std::string>> read_xattrs(int dirfd, const std::string& name,
                                                                const std::string& path) {
    std::map<std::string, std::string> out;
    std::string p = proc_fd_path(dirfd, name);
    std::vector<char> names(1024);
    ssize_t n;
    for (;;) {
      n = ::llistxattr(p.c_str(), names.data(), names.size());
      if (n >= 0) break;
      if (errno == ENOTSUP) return out;
      if (errno != ERANGE || names.size() > (1u << 20))
        return sys_error(fmt::format("llistxattr {}", path));
      names.resize(names.size() * 4);
    }
    std::vector<char> value(1024);
    for (ssize_t i = 0; i < n;) {
      std::string key = names.data() + i;
      i += static_cast<ssize_t>(key.size()) + 1;
      ssize_t v;
      for (;;) {
        v = ::lgetxattr(p.c_str(), key.c_str(), value.data(), value.size());
        if (v >= 0 || errno != ERANGE || value.size() > (1u << 20)) break;
        value.resize(value.size() * 4);
      }
      if (v < 0) {
        if (errno == ENODATA) continue;
        return sys_error(fmt::format("lgetxattr {} {}", path, key));
      }
      out.emplace(std::move(key), std::string(value.data(), static_cast<size_t>(v)));
    }
    return out;
  }

  Result<void> empty_file(const std::string& path, const struct stat& st) {
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0);
    archive_entry_set_size(e.get(), 0);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    return check(archive_write_header(a_, e.get()), "tar " + path);
  }

  // One entry from st; `link` = hardlink target; regular content is read
  // from dirfd/name when given.
  Result<void> header(const std::string& path, const struct stat& st,
                      const std::map<std::string, std::string>& xattrs, const std::string& link,
                      int dirfd = -1, const std::string& name = {}) {
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    for (const auto& [k, v] : xattrs)
      if (!overlay_private(k))
        archive_entry_xattr_add_entry(e.get(), k.c_str(), v.data(), v.size());
    Fd content;
    if (!link.empty()) {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_hardlink(e.get(), link.c_str());
      archive_entry_set_size(e.get(), 0);
    } else if (S_ISDIR(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      std::vector<char> buf(static_cast<size_t>(std::max<off_t>(st.st_size, 255)) + 1);
      ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
      if (n < 0) return sys_error(fmt::format("readlink {}", path));
      archive_entry_set_symlink(e.get(), std::string(buf.data(), static_cast<size_t>(n)).c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_filetype(e.get(), S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
    } else if (S_ISFIFO(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFIFO);
    } else if (S_ISREG(st.st_mode)) {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      content.reset(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!content) return sys_error(fmt::format("open {}", path));
      struct stat cst;
      if (::fstat(content.get(), &cst) != 0) return sys_error(fmt::format("stat {}", path));
      archive_entry_set_size(e.get(), cst.st_size);
    } else {
      return make_error(Errc::InvalidArgument, "{}: unsupported file type", path);
    }
    BERTH_TRY(check(archive_write_header(a_, e.get()), "tar " + path));
    if (!content) return ok();
    int64_t left = archive_entry_size(e.get());
    buf_.resize(1 << 20);
    while (left > 0) {
      ssize_t n = ::read(content.get(), buf_.data(),
                         static_cast<size_t>(std::min<int64_t>(left, buf_.size())));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return sys_error(fmt::format("read {}", path));
      if (n == 0) return make_error(Errc::Io, "{}: file shrank while it was being read", path);
      la_ssize_t w = archive_write_data(a_, buf_.data(), static_cast<size_t>(n));
      if (w < 0) return check(static_cast<int>(w), "tar " + path);
      left -= n;
    }
    return ok();
  }

  archive* a_;
  SinkState* st_;
  std::map<Inode, std::string> links_;
  std::vector<char> buf_;
};

}  // namespace

Result<void> write_overlay_changes(const std::string& upper_dir, const Sink& sink) {
  Fd root(::open(upper_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return sys_error(fmt::format("open {}", upper_dir));
  SinkState st{&sink, std::nullopt};
  archive* a = archive_write_new();
  if (!a) return make_error(Errc::Internal, "archive_write_new failed");
  struct Free {
    archive* a;
    ~Free() { archive_write_free(a); }
  } free_a{a};
  archive_write_set_format_pax_restricted(a);
  // No padding after the end-of-archive blocks: an empty layer is exactly
  // 1024 zero bytes, as docker writes it.
  archive_write_set_bytes_per_block(a, 512);
  archive_write_set_bytes_in_last_block(a, 1);
  ChangesWriter w(a, &st);
  auto fail = [&](const char* what) -> Error {
    if (st.error) return st.error->context(what);
    const char* msg = archive_error_string(a);
    return Error{Errc::Io, 0, fmt::format("{}: {}", what, msg ? msg : "tar write failed")};
  };
  if (archive_write_open(a, &st, nullptr, write_cb, nullptr) != ARCHIVE_OK) return fail("open tar");
  BERTH_TRY(w.walk(root.get(), ""));
  if (archive_write_close(a) != ARCHIVE_OK) return fail("close tar");
  return ok();
}

}  // namespace berth::snapshot
