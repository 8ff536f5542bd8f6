// archive_tar: writing a directory tree as a pax tar through libarchive,
// walking by file descriptors (O_NOFOLLOW everywhere) so no symlink is ever
// followed; and canonical path resolution inside a root.
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "base/strings.h"
#include "engine/archive_internal.h"
#include "sys/syscalls.h"

namespace berth::engine::archive_internal {
namespace {

struct SinkState {
  const ByteSinkFn* sink = nullptr;
  std::optional<Error> error;
};

la_ssize_t write_cb(struct archive*, void* client, const void* buf, size_t n) {
  auto* st = static_cast<SinkState*>(client);
  auto r = (*st->sink)(std::string_view(static_cast<const char*>(buf), n));
  if (!r) {
    st->error = r.error();
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

bool pseudo_fs(int fd) {
  struct statfs sf;
  if (::fstatfs(fd, &sf) != 0) return false;
  switch (static_cast<unsigned long>(sf.f_type)) {
    case 0x9fa0:      // proc
    case 0x62656572:  // sysfs
    case 0x27e0eb:    // cgroup
    case 0x63677270:  // cgroup2
    case 0x1cd1:      // devpts
    case 0x19800202:  // mqueue
      return true;
    default:
      return false;
  }
}

std::optional<uint64_t> mount_id(int fd) {
  struct statx sx;
  if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) != 0) {
    return std::nullopt;
  }
  if (!(sx.stx_mask & STATX_MNT_ID)) return std::nullopt;
  return sx.stx_mnt_id;
}

class TreeWriter {
 public:
  TreeWriter(const TreeOptions& o, const ByteSinkFn& sink) : opts_(o) { state_.sink = &sink; }
  ~TreeWriter() {
    if (a_) archive_write_free(a_);
  }

  Result<void> open() {
    a_ = archive_write_new();
    if (!a_) return make_error(Errc::Internal, "archive_write_new failed");
    if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a_, 10240) != ARCHIVE_OK ||
        archive_write_open2(a_, &state_, nullptr, write_cb, nullptr, nullptr) != ARCHIVE_OK) {
      return fail("open tar writer");
    }
    return ok();
  }

  Result<void> close() {
    if (archive_write_close(a_) != ARCHIVE_OK) return fail("finish tar");
    return ok();
  }

  // Writes the entry `name` of dir `parent_fd` as `as` (empty `as`: the
  // entry is the tree's root; only its children are written, without prefix).
  Result<void> entry(int parent_fd, const std::string& name, const std::string& as, int depth) {
    if (depth > 512) return make_error(Errc::InvalidArgument, "{}: tree too deep", as);
    struct stat st;
    if (::fstatat(parent_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      // Gone since the directory was listed (a running container): skip.
      if (errno == ENOENT && depth > 0) return ok();
      return sys_error(fmt::format("lstat {}", as.empty() ? name : as));
    }
    Fd fd;
    if (S_ISDIR(st.st_mode)) {
      fd.reset(::openat(parent_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd) return sys_error(fmt::format("open {}", as));
    } else if (S_ISREG(st.st_mode)) {
      fd.reset(::openat(parent_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
      if (!fd) return sys_error(fmt::format("open {}", as));
      if (::fstat(fd.get(), &st) != 0) return sys_error(fmt::format("stat {}", as));
    }
    bool is_root = as.empty();
    bool descend = S_ISDIR(st.st_mode);
    bool mount_point = false;
    if (descend && opts_.skip_pseudo_fs && pseudo_fs(fd.get())) descend = false;
    if (opts_.skip_mounts && fd) {
      auto id = mount_id(fd.get());
      if (is_root) {
        root_mnt_ = id;
      } else if (id && root_mnt_ && *id != *root_mnt_) {
        mount_point = true;
        descend = false;
      }
    }
    if (!is_root) BERTH_TRY(header(parent_fd, name, as, st, fd.get(), mount_point));
    if (!descend) return ok();
    Fd dup(::dup(fd.get()));
    if (!dup) return sys_error("dup");
    DIR* d = ::fdopendir(dup.get());
    if (!d) return sys_error(fmt::format("opendir {}", as));
    dup.release();
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(std::move(n));
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      BERTH_TRY(entry(fd.get(), n, is_root ? n : as + "/" + n, depth + 1));
    }
    return ok();
  }

 private:
  Result<void> fail(std::string_view what) {
    if (state_.error) return *state_.error;
    return make_error(Errc::Io, "{}: {}", what, a_ ? archive_error_string(a_) : "no archive");
  }

  Result<void> header(int parent_fd, const std::string& name, const std::string& as,
                      const struct stat& st, int fd, bool mount_point) {
    archive_entry* e = archive_entry_new();
    if (!e) return make_error(Errc::Internal, "archive_entry_new failed");
    struct Free {
      archive_entry* e;
      ~Free() { archive_entry_free(e); }
    } guard{e};
    std::string path = as;
    archive_entry_set_pathname_utf8(e, path.c_str());
    archive_entry_set_uid(e, st.st_uid);
    archive_entry_set_gid(e, st.st_gid);
    archive_entry_set_mtime(e, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_perm(e, st.st_mode & 07777);
    bool data = false;
    if (S_ISDIR(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFDIR);
    } else if (S_ISLNK(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFLNK);
      std::string target(4096, '\0');
      ssize_t n = ::readlinkat(parent_fd, name.c_str(), target.data(), target.size());
      if (n < 0) return sys_error(fmt::format("readlink {}", as));
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink_utf8(e, target.c_str());
    } else if (S_ISREG(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFREG);
      auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
      if (mount_point) {
        archive_entry_set_size(e, 0);
      } else if (st.st_nlink > 1 && links_.count(key)) {
        archive_entry_set_hardlink_utf8(e, links_[key].c_str());
        archive_entry_set_size(e, 0);
      } else {
        if (st.st_nlink > 1) links_[key] = path;
        archive_entry_set_size(e, st.st_size);
        data = true;
      }
      char cap[1024];
      ssize_t cn = fd >= 0 ? ::fgetxattr(fd, "security.capability", cap, sizeof cap) : -1;
      if (cn > 0)
        archive_entry_xattr_add_entry(e, "security.capability", cap, static_cast<size_t>(cn));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_filetype(e, S_ISCHR(st.st_mode) ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdev(e, st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
      archive_entry_set_filetype(e, AE_IFIFO);
    } else {
      return ok();  // sockets are not archived (docker skips them too)
    }
    if (archive_write_header(a_, e) != ARCHIVE_OK) return fail(fmt::format("tar header {}", as));
    if (!data) return ok();
    // Copy exactly the size announced (a file may grow or shrink meanwhile).
    int64_t left = st.st_size;
    std::string buf(1 << 16, '\0');
    while (left > 0) {
      ssize_t n = ::read(fd, buf.data(), static_cast<size_t>(std::min<int64_t>(left, buf.size())));
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error(fmt::format("read {}", as));
      }
      if (n == 0) {
        std::fill(buf.begin(), buf.end(), '\0');
        n = static_cast<ssize_t>(std::min<int64_t>(left, buf.size()));
      }
      if (archive_write_data(a_, buf.data(), static_cast<size_t>(n)) < 0) {
        return fail(fmt::format("tar data {}", as));
      }
      left -= n;
    }
    return ok();
  }

  TreeOptions opts_;
  SinkState state_;
  struct archive* a_ = nullptr;
  std::map<std::pair<uint64_t, uint64_t>, std::string> links_;
  std::optional<uint64_t> root_mnt_;
};

}  // namespace

Result<void> write_tree(int parent_fd, const std::string& name, const std::string& as,
                        const TreeOptions& o, const ByteSinkFn& sink) {
  TreeWriter w(o, sink);
  BERTH_TRY(w.open());
  BERTH_TRY(w.entry(parent_fd, name, as, 0));
  return w.close();
}

Result<std::string> canonical_in_root(int root_fd, const std::string& path, bool follow_last) {
  std::vector<std::string> want = split(clean_abs_path(path), '/', true);
  std::vector<std::string> done;
  int hops = 0;
  size_t i = 0;
  while (i < want.size()) {
    const std::string& comp = want[i];
    if (comp == "." || comp.empty()) {
      ++i;
      continue;
    }
    if (comp == "..") {
      if (!done.empty()) done.pop_back();
      ++i;
      continue;
    }
    bool last = i + 1 == want.size();
    std::string dir = "/" + join(done, "/");
    auto dfd = sys::open_in_root(root_fd, dir, O_PATH | O_DIRECTORY);
    if (!dfd) {
      // A missing directory: the rest is taken literally.
      for (size_t j = i; j < want.size(); ++j) done.push_back(want[j]);
      break;
    }
    char target[4096];
    ssize_t n = ::readlinkat(dfd->get(), comp.c_str(), target, sizeof target - 1);
    if (n >= 0 && (!last || follow_last)) {
      if (++hops > 255) {
        return make_error(Errc::InvalidArgument, "{}: too many levels of symbolic links", path);
      }
      std::string t(target, static_cast<size_t>(n));
      std::vector<std::string> rest;
      if (!t.empty() && t[0] == '/') {
        done.clear();
      }
      for (auto& p : split(t, '/', true)) rest.push_back(p);
      for (size_t j = i + 1; j < want.size(); ++j) rest.push_back(want[j]);
      want = std::move(rest);
      i = 0;
      continue;
    }
    done.push_back(comp);
    ++i;
  }
  return "/" + join(done, "/");
}

}  // namespace berth::engine::archive_internal
