// snapshot/extract_paths.cc — lookups and removals inside the layer root,
// never through a symlink (see extractor.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "snapshot/extractor.h"
#include "snapshot/fs_ops.h"

namespace berth::snapshot {

Error Extractor::lookup_error(const std::string& path, int err) const {
  switch (err) {
    case ELOOP:
      return Error{
          Errc::InvalidArgument, err,
          fmt::format("\"{}\" is or goes through a symlink: refusing to write through it", path)};
    case ENOTDIR:
      return Error{Errc::InvalidArgument, err, fmt::format("\"{}\" is not a directory", path)};
    case EXDEV:
      return Error{Errc::InvalidArgument, err, fmt::format("\"{}\" leaves the layer root", path)};
    default:
      return sys_error(fmt::format("open \"{}\"", path), err);
  }
}

Result<int> Extractor::parent(const std::string& dir) {
  if (dir.empty()) return root_fd_;
  if (cached_fd_ && cached_dir_ == dir) return cached_fd_.get();
  int fd = open_beneath(root_fd_, dir, O_PATH | O_DIRECTORY);
  if (fd == -ENOENT) {
    // Create the missing components one at a time, each looked up from its
    // parent's fd with the same no-symlink rule.
    Fd cur;
    int curfd = root_fd_;
    size_t start = 0;
    while (start <= dir.size()) {
      size_t slash = dir.find('/', start);
      if (slash == std::string::npos) slash = dir.size();
      std::string comp = dir.substr(start, slash - start);
      int next = open_beneath(curfd, comp, O_PATH | O_DIRECTORY);
      if (next == -ENOENT) {
        if (::mkdirat(curfd, comp.c_str(), 0755) != 0 && errno != EEXIST)
          return sys_error(fmt::format("mkdir \"{}\"", dir.substr(0, slash)));
        // Implicit directories are 0755 whatever the daemon's umask (docker).
        ::fchmodat(curfd, comp.c_str(), 0755, AT_SYMLINK_NOFOLLOW);
        next = open_beneath(curfd, comp, O_PATH | O_DIRECTORY);
      }
      if (next < 0) return lookup_error(dir.substr(0, slash), -next);
      cur.reset(next);
      curfd = next;
      start = slash + 1;
    }
    fd = cur.release();
  } else if (fd < 0) {
    return lookup_error(dir, -fd);
  }
  cached_fd_.reset(fd);
  cached_dir_ = dir;
  return fd;
}

Result<int> Extractor::existing_parent(const std::string& dir) {
  if (dir.empty()) return root_fd_;
  if (cached_fd_ && cached_dir_ == dir) return cached_fd_.get();
  int fd = open_beneath(root_fd_, dir, O_PATH | O_DIRECTORY);
  if (fd == -ENOENT || fd == -ENOTDIR) return -1;
  if (fd < 0) return lookup_error(dir, -fd);
  cached_fd_.reset(fd);
  cached_dir_ = dir;
  return fd;
}

Result<void> Extractor::remove_child(int pfd, const std::string& dir, const std::string& name) {
  std::string path = dir.empty() ? name : dir + "/" + name;
  // pfd is the cached dir itself (or the root), never below `path`, so
  // dropping a cache that lies below the removed tree cannot close pfd.
  if (cached_fd_ && (cached_dir_ == path || cached_dir_.starts_with(path + "/"))) {
    cached_fd_.reset();
    cached_dir_.clear();
  }
  auto res = remove_at(pfd, name);
  if (!res) return std::move(res).error().context(fmt::format("remove \"{}\"", path));
  return ok();
}

void Extractor::mark_written(const std::string& path) {
  if (!written_.insert(path).second) return;
  // Ancestors: stop at the first one already known (its own are known too).
  for (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0;
       slash = path.rfind('/', slash - 1)) {
    if (!written_.insert(path.substr(0, slash)).second) break;
  }
}

}  // namespace berth::snapshot
