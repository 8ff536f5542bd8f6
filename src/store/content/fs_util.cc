#include "store/content/fs_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace berth::content::detail {

Error io_error(std::string_view what, int err) {
  const char* plain = nullptr;
  switch (err) {
    case ENOSPC:
      plain = "no space left on device";
      break;
    case EDQUOT:
      plain = "disk quota exceeded";
      break;
    case EFBIG:
      plain = "file too large";
      break;
    default:
      return sys_error(what, err);
  }
  return Error{Errc::Io, err, fmt::format("{}: {}", what, plain)};
}

Result<void> write_fully(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(what, errno);
    }
    // A short write (the file hit a size limit or the disk filled) is retried;
    // the retry reports the errno that explains it.
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Result<int64_t> hash_fd(int fd, Sha256& h, std::string_view what, int copy_to) {
  static constexpr size_t kChunk = 1 << 16;
  std::string buf(kChunk, '\0');
  int64_t total = 0;
  off_t off = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf.data(), kChunk, off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(fmt::format("read {}", what), errno);
    }
    if (n == 0) break;
    std::string_view chunk(buf.data(), static_cast<size_t>(n));
    h.update(chunk);
    if (copy_to >= 0) BERTH_TRY(write_fully(copy_to, chunk, fmt::format("copy {}", what)));
    off += n;
    total += n;
  }
  return total;
}

Result<void> fsync_dir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) return sys_error(fmt::format("open {}", dir));
  if (::fsync(d.get()) != 0) return io_error(fmt::format("fsync {}", dir), errno);
  return ok();
}

void remove_ingest_dir(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view n = e->d_name;
      if (n != "." && n != ".." && n != "lock") names.emplace_back(n);
    }
    ::closedir(d);
    for (const auto& n : names) ::unlink((dir + "/" + n).c_str());
  }
  ::unlink((dir + "/lock").c_str());
  ::rmdir(dir.c_str());
}

std::chrono::system_clock::time_point mtime_of(const struct stat& st) {
  using namespace std::chrono;
  return system_clock::time_point(duration_cast<system_clock::duration>(
      seconds(st.st_mtim.tv_sec) + nanoseconds(st.st_mtim.tv_nsec)));
}

}  // namespace berth::content::detail
