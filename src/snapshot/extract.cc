// snapshot/extract.cc — the entry loop and one writer per entry type.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include "snapshot/extractor.h"
#include "snapshot/fs_ops.h"

namespace berth::snapshot {

namespace {

Error refuse(std::string_view why) { return Error{Errc::InvalidArgument, 0, std::string(why)}; }

void split_path(const std::string& path, std::string* dir, std::string* base) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) {
    dir->clear();
    *base = path;
  } else {
    *dir = path.substr(0, slash);
    *base = path.substr(slash + 1);
  }
}

}  // namespace

std::optional<std::string> clean_entry_path(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view c = p.substr(i, j - i);
    if (c == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (auto c : parts) {
    if (!out.empty()) out += '/';
    out += c;
  }
  return out;
}

Extractor::Extractor(LayerReader& r, int root_fd, WhiteoutMode mode)
    : r_(r), root_fd_(root_fd), mode_(mode), privileged_(::geteuid() == 0) {}

Result<int64_t> Extractor::run() {
  BERTH_TRY(r_.open_tar());
  archive* a = r_.tar();
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return r_.error(a, "reading the layer tar");
    auto res = entry(e);
    if (!res) {
      const char* raw = archive_entry_pathname(e);
      return std::move(res).error().context(fmt::format("layer entry \"{}\"", raw ? raw : ""));
    }
  }
  BERTH_TRY(finish_dirs());
  return size_;
}

Result<void> Extractor::entry(archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw) return refuse("entry without a path");
  auto cleaned = clean_entry_path(raw);
  if (!cleaned) return refuse("path escapes the layer root");
  const std::string& path = *cleaned;
  const char* link = archive_entry_hardlink(e);
  auto type = archive_entry_filetype(e);
  if (path.empty()) {  // "./" or "/": the layer root itself
    if (link || type != AE_IFDIR) return refuse("the layer root can only be a directory");
    BERTH_TRY(set_owner(e, root_fd_, -1, ""));
    BERTH_TRY(set_xattrs(e, root_fd_, -1, ""));
    defer_dir("", e);
    return ok();
  }
  std::string dir, base;
  split_path(path, &dir, &base);
  if (base.starts_with(".wh.")) return whiteout(e, dir, base);
  int pfd = BERTH_TRY(parent(dir));
  if (link) {
    BERTH_TRY(hardlink(pfd, dir, base, path, link));
  } else {
    switch (type) {
      case AE_IFREG:
        BERTH_TRY(regular(e, pfd, dir, base));
        break;
      case AE_IFDIR:
        BERTH_TRY(directory(e, pfd, dir, base, path));
        break;
      case AE_IFLNK:
      case AE_IFCHR:
      case AE_IFBLK:
      case AE_IFIFO:
        BERTH_TRY(special(e, pfd, dir, base));
        break;
      default:
        return refuse(fmt::format("unsupported entry type {:o}", type));
    }
  }
  mark_written(path);
  return ok();
}

Result<void> Extractor::regular(archive_entry* e, int pfd, const std::string& dir,
                                const std::string& name) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  Fd fd(::openat(pfd, name.c_str(), flags, 0600));
  if (!fd && errno == EEXIST) {
    BERTH_TRY(remove_child(pfd, dir, name));
    fd.reset(::openat(pfd, name.c_str(), flags, 0600));
  }
  if (!fd) return sys_error("create");
  archive* a = r_.tar();
  int64_t end = 0;
  for (;;) {
    const void* buf = nullptr;
    size_t len = 0;
    la_int64_t off = 0;
    int rc = archive_read_data_block(a, &buf, &len, &off);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return r_.error(a, "reading file data");
    const char* p = static_cast<const char*>(buf);
    // Offsets jump over the holes of sparse entries: pwrite keeps them holes.
    for (size_t done = 0; done < len;) {
      ssize_t w = ::pwrite(fd.get(), p + done, len - done, static_cast<off_t>(off + done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return sys_error("write");
      }
      done += static_cast<size_t>(w);
    }
    end = off + static_cast<int64_t>(len);
  }
  int64_t want = archive_entry_size_is_set(e) ? archive_entry_size(e) : end;
  if (want > end && ::ftruncate(fd.get(), want) != 0) return sys_error("truncate");
  size_ += std::max(want, end);
  // Data first (a write clears setuid/setgid), then owner (chown clears
  // setuid/setgid and security.capability), then mode, xattrs, times.
  BERTH_TRY(set_owner(e, fd.get(), -1, ""));
  if (::fchmod(fd.get(), archive_entry_perm(e)) != 0) return sys_error("chmod");
  BERTH_TRY(set_xattrs(e, fd.get(), -1, ""));
  struct timespec times[2];
  entry_times(e, times);
  if (::futimens(fd.get(), times) != 0) return sys_error("utimes");
  return ok();
}

Result<void> Extractor::directory(archive_entry* e, int pfd, const std::string& dir,
                                  const std::string& name, const std::string& path) {
  if (::mkdirat(pfd, name.c_str(), 0700) != 0) {
    if (errno != EEXIST) return sys_error("mkdir");
    struct stat st;
    if (::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("stat");
    if (!S_ISDIR(st.st_mode)) {  // a directory replaces a non-directory; dirs merge
      BERTH_TRY(remove_child(pfd, dir, name));
      if (::mkdirat(pfd, name.c_str(), 0700) != 0) return sys_error("mkdir");
    }
  }
  BERTH_TRY(set_owner(e, -1, pfd, name));
  BERTH_TRY(set_xattrs(e, -1, pfd, name));
  defer_dir(path, e);
  return ok();
}

Result<void> Extractor::hardlink(int pfd, const std::string& dir, const std::string& name,
                                 const std::string& path, const char* target) {
  auto t = clean_entry_path(target);
  if (!t || t->empty())
    return refuse(fmt::format("hardlink target \"{}\" escapes the layer root", target));
  if (*t == path) return refuse("hardlink to itself");
  // Only earlier entries of this tar: the layer dir holds nothing else that
  // could be linked safely (overlay: lower layers live in other dirs).
  if (!written_.contains(*t))
    return refuse(
        fmt::format("hardlink target \"{}\" is not an earlier entry of this layer", target));
  std::string tdir, tbase;
  split_path(*t, &tdir, &tbase);
  Fd tdir_fd;
  int tpfd = root_fd_;
  if (!tdir.empty()) {
    int fd = open_beneath(root_fd_, tdir, O_PATH | O_DIRECTORY);
    if (fd < 0) return lookup_error(tdir, -fd);
    tdir_fd.reset(fd);
    tpfd = fd;
  }
  struct stat st;
  if (::fstatat(tpfd, tbase.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return sys_error(fmt::format("hardlink target \"{}\"", target));
  if (S_ISDIR(st.st_mode))
    return refuse(fmt::format("hardlink target \"{}\" is a directory", target));
  // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its target.
  if (::linkat(tpfd, tbase.c_str(), pfd, name.c_str(), 0) != 0) {
    if (errno != EEXIST) return sys_error(fmt::format("link to \"{}\"", target));
    BERTH_TRY(remove_child(pfd, dir, name));
    if (::linkat(tpfd, tbase.c_str(), pfd, name.c_str(), 0) != 0)
      return sys_error(fmt::format("link to \"{}\"", target));
  }
  return ok();
}

Result<void> Extractor::special(archive_entry* e, int pfd, const std::string& dir,
                                const std::string& name) {
  auto type = archive_entry_filetype(e);
  auto create = [&]() -> int {
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      // Any target is fine (absolute ones resolve inside the container
      // later); only writing *through* a symlink is refused, by parent().
      return ::symlinkat(target ? target : "", pfd, name.c_str());
    }
    mode_t kind = type == AE_IFCHR ? S_IFCHR : type == AE_IFBLK ? S_IFBLK : S_IFIFO;
    dev_t dev = type == AE_IFIFO ? 0 : archive_entry_rdev(e);
    return ::mknodat(pfd, name.c_str(), kind | 0600, dev);
  };
  if (type == AE_IFLNK && !archive_entry_symlink(e)) return refuse("symlink without a target");
  if (create() != 0) {
    if (errno != EEXIST) return sys_error(type == AE_IFLNK ? "symlink" : "mknod");
    BERTH_TRY(remove_child(pfd, dir, name));
    if (create() != 0) return sys_error(type == AE_IFLNK ? "symlink" : "mknod");
  }
  BERTH_TRY(set_owner(e, -1, pfd, name));
  // The node was just made by us and is not a symlink: fchmodat may follow.
  if (type != AE_IFLNK && ::fchmodat(pfd, name.c_str(), archive_entry_perm(e), 0) != 0)
    return sys_error("chmod");
  BERTH_TRY(set_xattrs(e, -1, pfd, name));
  struct timespec times[2];
  entry_times(e, times);
  if (::utimensat(pfd, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) return sys_error("utimes");
  return ok();
}

Result<int64_t> extract_layer(LayerReader& r, int root_fd, WhiteoutMode mode) {
  Extractor x(r, root_fd, mode);
  return x.run();
}

}  // namespace berth::snapshot
