// archive_put: extracting a tar into a directory of a container root.
// Every parent directory is resolved with openat2(RESOLVE_IN_ROOT) and every
// final component is created or changed relative to that parent's fd
// without following it, so neither the tar nor the container's own
// symlinks can make a write land outside the root.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "engine/archive.h"
#include "engine/archive_internal.h"
#include "sys/syscalls.h"

namespace berth::engine {
namespace ai = archive_internal;
namespace {

struct SourceState {
  const ByteSourceFn* source = nullptr;
  std::string buf;
  std::optional<Error> error;
};

la_ssize_t read_cb(struct archive*, void* client, const void** out) {
  auto* st = static_cast<SourceState*>(client);
  auto r = (*st->source)();
  if (!r) {
    st->error = r.error();
    return -1;
  }
  st->buf = std::move(*r);
  *out = st->buf.data();
  return static_cast<la_ssize_t>(st->buf.size());
}

// Removes `name` in dir_fd, recursively for directories, never following
// symlinks.
Result<void> remove_at(int dir_fd, const std::string& name, int depth = 0) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return ok();
  if (errno != EISDIR && errno != EPERM) return sys_error(fmt::format("remove {}", name));
  if (depth > 512) return make_error(Errc::InvalidArgument, "{}: tree too deep", name);
  int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return sys_error(fmt::format("open {}", name));
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return sys_error(fmt::format("opendir {}", name));
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  for (auto& n : names) {
    auto r = remove_at(::dirfd(d), n, depth + 1);
    if (!r) {
      ::closedir(d);
      return r;
    }
  }
  ::closedir(d);
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return sys_error(fmt::format("remove {}", name));
  }
  return ok();
}

class Extractor {
 public:
  Extractor(int root_fd, std::string dest, const PutOptions& o)
      : root_(root_fd), dest_(std::move(dest)), opts_(o) {}

  Result<void> run(const ByteSourceFn& tar) {
    struct archive* a = archive_read_new();
    if (!a) return make_error(Errc::Internal, "archive_read_new failed");
    struct Free {
      struct archive* a;
      ~Free() { archive_read_free(a); }
    } guard{a};
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    // An empty body is an archive with no entries (docker's tar reader agrees).
    archive_read_support_format_empty(a);
    SourceState src;
    src.source = &tar;
    if (archive_read_open(a, &src, nullptr, read_cb, nullptr) != ARCHIVE_OK) {
      if (src.error) return *src.error;
      return make_error(Errc::InvalidArgument, "Error processing tar file: {}",
                        archive_error_string(a));
    }
    archive_entry* e = nullptr;
    for (;;) {
      int rc = archive_read_next_header(a, &e);
      if (rc == ARCHIVE_EOF) break;
      if (rc < ARCHIVE_WARN) {
        if (src.error) return *src.error;
        return make_error(Errc::InvalidArgument, "Error processing tar file: {}",
                          archive_error_string(a));
      }
      BERTH_TRY(extract(a, e, src));
    }
    // Directory times last: creating their children changed them.
    for (auto& [rel, st] : dir_times_) {
      auto fd = sys::open_in_root(root_, dest_ + "/" + rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
      if (!fd) continue;
      struct timespec ts[2] = {st, st};
      ::futimens(fd->get(), ts);
    }
    return ok();
  }

 private:
  Result<void> extract(struct archive* a, archive_entry* e, SourceState& src) {
    const char* raw = archive_entry_pathname(e);
    std::string name = raw ? raw : "";
    auto rel = clean_rel_path(name);
    if (!rel) {
      return make_error(Errc::InvalidArgument, "invalid tar entry: \"{}\" is outside of \"{}\"",
                        name, dest_);
    }
    if (rel->empty()) return ok();  // "." — the destination itself
    std::string display = clean_abs_path(dest_ + "/" + *rel);
    std::string parent_rel =
        rel->find('/') == std::string::npos ? std::string() : rel->substr(0, rel->rfind('/'));
    std::string base = rel->substr(rel->rfind('/') + 1);
    // Parents missing from the tar are created (docker does the same).
    std::string parent_path = dest_ + (parent_rel.empty() ? "" : "/" + parent_rel);
    auto pfd = sys::open_in_root(root_, parent_path, O_RDONLY | O_DIRECTORY);
    if (!pfd) {
      if (pfd.error().sys_errno != ENOENT) return std::move(pfd).error();
      BERTH_TRY(sys::mkdir_all_in_root(root_, parent_path, true, 0755));
      pfd = sys::open_in_root(root_, parent_path, O_RDONLY | O_DIRECTORY);
      if (!pfd) return std::move(pfd).error();
    }
    int dir = pfd->get();
    mode_t type = archive_entry_filetype(e);
    const char* hardlink = archive_entry_hardlink(e);
    bool new_is_dir = type == AE_IFDIR && !hardlink;

    struct stat cur;
    bool exists = ::fstatat(dir, base.c_str(), &cur, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists) {
      bool cur_dir = S_ISDIR(cur.st_mode);
      if (opts_.no_overwrite_dir_non_dir && cur_dir && !new_is_dir) {
        return make_error(Errc::InvalidArgument,
                          "cannot overwrite directory \"{}\" with non-directory \"{}\"", display,
                          name);
      }
      if (opts_.no_overwrite_dir_non_dir && !cur_dir && new_is_dir) {
        return make_error(Errc::InvalidArgument,
                          "cannot overwrite non-directory \"{}\" with directory \"{}\"", display,
                          name);
      }
      if (!(cur_dir && new_is_dir)) BERTH_TRY(remove_at(dir, base));
    }

    uid_t uid = opts_.chown_to ? opts_.chown_to->uid : static_cast<uid_t>(archive_entry_uid(e));
    gid_t gid = opts_.chown_to ? opts_.chown_to->gid : static_cast<gid_t>(archive_entry_gid(e));
    mode_t perm = archive_entry_perm(e) & 07777;
    struct timespec mtime {
      archive_entry_mtime(e), archive_entry_mtime_nsec(e)
    };

    if (hardlink) {
      auto trel = clean_rel_path(hardlink);
      if (!trel || trel->empty()) {
        return make_error(Errc::InvalidArgument,
                          "invalid hardlink \"{}\" -> \"{}\": outside of \"{}\"", name, hardlink,
                          dest_);
      }
      std::string tparent =
          dest_ + (trel->find('/') == std::string::npos ? std::string()
                                                        : "/" + trel->substr(0, trel->rfind('/')));
      std::string tbase = trel->substr(trel->rfind('/') + 1);
      Fd tfd = BERTH_TRY(sys::open_in_root(root_, tparent, O_RDONLY | O_DIRECTORY));
      if (::linkat(tfd.get(), tbase.c_str(), dir, base.c_str(), 0) != 0) {
        return sys_error(fmt::format("link {} -> {}", display, hardlink));
      }
      return ok();
    }

    Fd fd;
    switch (type) {
      case AE_IFDIR: {
        if (!exists || !S_ISDIR(cur.st_mode)) {
          if (::mkdirat(dir, base.c_str(), 0700) != 0 && errno != EEXIST) {
            return sys_error(fmt::format("mkdir {}", display));
          }
        }
        fd.reset(::openat(dir, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return sys_error(fmt::format("open {}", display));
        dir_times_.emplace_back(*rel, mtime);
        break;
      }
      case AE_IFREG: {
        fd.reset(::openat(dir, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          0600));
        if (!fd) return sys_error(fmt::format("create {}", display));
        const void* buf;
        size_t size;
        la_int64_t offset;
        int64_t written = 0;
        for (;;) {
          int rc = archive_read_data_block(a, &buf, &size, &offset);
          if (rc == ARCHIVE_EOF) break;
          if (rc < ARCHIVE_WARN) {
            if (src.error) return *src.error;
            return make_error(Errc::InvalidArgument, "Error processing tar file: {}",
                              archive_error_string(a));
          }
          if (offset != written && ::lseek(fd.get(), offset, SEEK_SET) < 0) {
            return sys_error(fmt::format("seek {}", display));
          }
          BERTH_TRY(write_all(fd.get(), std::string_view(static_cast<const char*>(buf), size)));
          written = offset + static_cast<int64_t>(size);
        }
        if (::ftruncate(fd.get(), archive_entry_size(e)) != 0) {
          return sys_error(fmt::format("truncate {}", display));
        }
        break;
      }
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(e);
        // Any target is allowed: it is only ever resolved inside the root.
        if (::symlinkat(target ? target : "", dir, base.c_str()) != 0) {
          return sys_error(fmt::format("symlink {}", display));
        }
        if (::fchownat(dir, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0 && geteuid() == 0) {
          return sys_error(fmt::format("chown {}", display));
        }
        struct timespec ts[2] = {mtime, mtime};
        ::utimensat(dir, base.c_str(), ts, AT_SYMLINK_NOFOLLOW);
        return ok();
      }
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO: {
        mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
        dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
        if (::mknodat(dir, base.c_str(), kind | 0600, dev) != 0) {
          return sys_error(fmt::format("mknod {}", display));
        }
        fd.reset(::openat(dir, base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (!fd) return sys_error(fmt::format("open {}", display));
        break;
      }
      default:
        return ok();  // sockets and unknown types are skipped
    }
    // Owner, then mode (chown clears set-id bits), then times; all on the fd.
    if (::fchownat(fd.get(), "", uid, gid, AT_EMPTY_PATH) != 0 && geteuid() == 0) {
      return sys_error(fmt::format("chown {}", display));
    }
    if (::fchmodat(AT_FDCWD, sys::fd_path(fd.get()).c_str(), perm, 0) != 0) {
      return sys_error(fmt::format("chmod {}", display));
    }
    if (type != AE_IFDIR) {
      struct timespec ts[2] = {mtime, mtime};
      ::utimensat(AT_FDCWD, sys::fd_path(fd.get()).c_str(), ts, 0);
    }
    return ok();
  }

  int root_;
  std::string dest_;
  PutOptions opts_;
  std::vector<std::pair<std::string, struct timespec>> dir_times_;
};

}  // namespace

Result<void> archive_put(int root_fd, const std::string& dir, const ByteSourceFn& tar,
                         const PutOptions& o) {
  std::string abs = clean_abs_path(dir.empty() ? "/" : dir);
  auto fd = sys::open_in_root(root_fd, abs, O_PATH);
  if (!fd) {
    if (fd.error().sys_errno == ENOENT || fd.error().sys_errno == ENOTDIR) {
      return Error{Errc::NotFound, ENOENT, fmt::format("{}: no such file or directory", dir)};
    }
    return std::move(fd).error();
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return sys_error(fmt::format("stat {}", dir));
  if (!S_ISDIR(st.st_mode)) {
    return make_error(Errc::InvalidArgument, "extraction point is not a directory");
  }
  // Extract relative to the directory's canonical path so a symlinked
  // destination is resolved once, inside the root.
  std::string canon = BERTH_TRY(ai::canonical_in_root(root_fd, abs, true));
  Extractor x(root_fd, canon, o);
  return x.run(tar);
}

}  // namespace berth::engine
