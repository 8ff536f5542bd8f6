// logs/gz.cc — gzip of rotated log files and reading them back (zlib).
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "logs/gz_internal.h"

namespace berth::logs {
namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr char kCommentTag[] = "berth-log-source";

FileId from_statx(const struct statx& sx) {
  FileId id;
  id.dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  id.ino = sx.stx_ino;
  if (sx.stx_mask & STATX_BTIME)
    id.btime_ns = static_cast<int64_t>(sx.stx_btime.tv_sec) * 1'000'000'000 + sx.stx_btime.tv_nsec;
  return id;
}

Result<void> write_all_fd(int fd, const unsigned char* p, size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return sys_error("write " + what);
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return ok();
}

// Deflates everything readable from `in` into `out` as one gzip member whose
// header comment is `comment`.
Result<void> deflate_fd(int in, int out, const std::string& comment, const std::string& what) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return make_error(Errc::Internal, "gzip {}: deflateInit2 failed", what);
  gz_header head{};
  std::vector<unsigned char> comment_buf(comment.begin(), comment.end());
  comment_buf.push_back(0);
  head.comment = comment_buf.data();
  head.os = 3;  // Unix
  deflateSetHeader(&zs, &head);
  std::vector<unsigned char> ibuf(kChunk), obuf(kChunk);
  Result<void> res = ok();
  for (bool eof = false; !eof && res;) {
    ssize_t n = ::read(in, ibuf.data(), ibuf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      res = sys_error("read " + what);
      break;
    }
    eof = n == 0;
    zs.next_in = ibuf.data();
    zs.avail_in = static_cast<uInt>(n);
    do {
      zs.next_out = obuf.data();
      zs.avail_out = static_cast<uInt>(obuf.size());
      int rc = deflate(&zs, eof ? Z_FINISH : Z_NO_FLUSH);
      if (rc == Z_STREAM_ERROR) {
        res = make_error(Errc::Internal, "gzip {}: deflate failed", what);
        break;
      }
      size_t have = obuf.size() - zs.avail_out;
      if (have > 0) {
        res = write_all_fd(out, obuf.data(), have, what + ".gz");
        if (!res) break;
      }
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return res;
}

}  // namespace

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool same_file(const FileId& a, const FileId& b) {
  return a.dev == b.dev && a.ino == b.ino &&
         (a.btime_ns == 0 || b.btime_ns == 0 || a.btime_ns == b.btime_ns) &&
         (!a.has_gen || !b.has_gen || a.gen == b.gen) &&
         (!a.has_mark || !b.has_mark || a.mark == b.mark);
}

void mark_file(int fd) {
  uint64_t m = 0;
  if (::fgetxattr(fd, kMarkXattr, &m, sizeof m) == sizeof m) return;
  // 0 stays "unknown" everywhere, so it is never drawn.
  while (m == 0) {
    if (::getrandom(&m, sizeof m, 0) != static_cast<ssize_t>(sizeof m)) return;
  }
  (void)::fsetxattr(fd, kMarkXattr, &m, sizeof m, 0);
}

Result<Fd> create_log_file(const std::string& path) {
  constexpr int kFlags = O_WRONLY | O_APPEND | O_CLOEXEC;
  Fd tmp(::open(dir_of(path).c_str(), kFlags | O_TMPFILE, 0640));
  if (tmp) {
    mark_file(tmp.get());
    std::string proc = "/proc/self/fd/" + std::to_string(tmp.get());
    auto link = [&] {
      if (::linkat(tmp.get(), "", AT_FDCWD, path.c_str(), AT_EMPTY_PATH) == 0) return true;
      return ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, path.c_str(), AT_SYMLINK_FOLLOW) == 0;
    };
    if (link()) return tmp;
    // The name is taken (the caller moved the old file away, so this is a
    // leftover): the new file replaces it, as O_TRUNC would have.
    if (errno == EEXIST && ::unlink(path.c_str()) == 0 && link()) return tmp;
    if (errno != EEXIST && errno != ENOENT) return sys_error("link " + path);
  }
  Fd f(::open(path.c_str(), kFlags | O_CREAT | O_TRUNC, 0640));
  if (!f) return sys_error("open " + path);
  mark_file(f.get());
  return f;
}

Result<FileId> file_id(int fd) {
  struct statx sx {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &sx) != 0) return sys_error("statx");
  FileId id = from_statx(sx);
  // The ioctl takes a long but the kernel stores 32 bits.
  long gen = 0;
  if (::ioctl(fd, FS_IOC_GETVERSION, &gen) == 0) {
    id.gen = static_cast<uint32_t>(gen);
    id.has_gen = true;
  }
  uint64_t mark = 0;
  if (::fgetxattr(fd, kMarkXattr, &mark, sizeof mark) == sizeof mark && mark != 0) {
    id.mark = mark;
    id.has_mark = true;
  }
  return id;
}

Result<FileId> file_id(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + path);
  Fd f(fd);
  return file_id(f.get());
}

Result<void> compress_file(const std::string& src, const std::string& dst) {
  int raw = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) return sys_error("open " + src);
  Fd in(raw);
  FileId id = BERTH_TRY(file_id(in.get()));
  std::string comment = format_source_comment(id);

  // Preferred: an unnamed file linked in when complete (nothing half-written
  // is ever visible, and nothing is left if the directory goes meanwhile).
  std::string dir = dir_of(dst);
  Fd out(::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0640));
  std::string tmp;
  if (!out) {
    tmp = dst + ".tmp";
    out.reset(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
    if (!out) return sys_error("create " + tmp);
  }
  auto fail = [&](Error e) -> Result<void> {
    if (!tmp.empty()) ::unlink(tmp.c_str());
    return e;
  };
  if (auto r = deflate_fd(in.get(), out.get(), comment, src); !r) return fail(r.error());
  // The plain file is unlinked next: its entries must be on disk first.
  if (::fsync(out.get()) != 0) return fail(sys_error("fsync " + dst));
  if (tmp.empty()) {
    std::string proc = "/proc/self/fd/" + std::to_string(out.get());
    auto link = [&] {
      if (::linkat(out.get(), "", AT_FDCWD, dst.c_str(), AT_EMPTY_PATH) == 0) return true;
      return ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, dst.c_str(), AT_SYMLINK_FOLLOW) == 0;
    };
    if (!link()) {
      // A leftover of an interrupted rotation holds the name: it is older
      // than the file just compressed, which replaces it.
      if (errno != EEXIST || ::unlink(dst.c_str()) != 0 || !link()) return sys_error("link " + dst);
    }
  } else if (::rename(tmp.c_str(), dst.c_str()) != 0) {
    return fail(sys_error("rename " + tmp));
  }
  if (::unlink(src.c_str()) != 0 && errno != ENOENT) return sys_error("unlink " + src);
  return ok();
}

Result<FileId> gz_source(int gz_fd) {
  if (::lseek(gz_fd, 0, SEEK_SET) < 0) return sys_error("seek");
  unsigned char ibuf[4096];
  ssize_t n;
  do {
    n = ::read(gz_fd, ibuf, sizeof ibuf);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return sys_error("read");
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return make_error(Errc::Internal, "inflateInit2 failed");
  gz_header head{};
  unsigned char comment[256] = {};
  head.comment = comment;
  head.comm_max = sizeof comment - 1;
  inflateGetHeader(&zs, &head);
  unsigned char obuf[4096];
  zs.next_in = ibuf;
  zs.avail_in = static_cast<uInt>(n);
  // The header is complete after the first call that consumes it.
  while (head.done == 0 && zs.avail_in > 0) {
    zs.next_out = obuf;
    zs.avail_out = sizeof obuf;
    int rc = inflate(&zs, Z_BLOCK);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
  }
  inflateEnd(&zs);
  if (head.done != 1)
    return make_error(Errc::InvalidArgument, "not a berth log file (gzip header)");
  return parse_source_comment(reinterpret_cast<const char*>(comment));
}

std::string format_source_comment(const FileId& id) {
  // "tag dev ino btime gen|- [m<16 hex>]". Files compressed before the
  // generation was recorded have the first four fields only, and before the
  // mark the first five.
  char buf[160];
  int len =
      std::snprintf(buf, sizeof buf, "%s %ju %ju %" PRId64, kCommentTag,
                    static_cast<uintmax_t>(id.dev), static_cast<uintmax_t>(id.ino), id.btime_ns);
  std::string out(buf, static_cast<size_t>(len));
  if (id.has_gen) {
    std::snprintf(buf, sizeof buf, " %" PRIu32, id.gen);
    out += buf;
  } else {
    out += " -";
  }
  if (id.has_mark) {
    std::snprintf(buf, sizeof buf, " m%016" PRIx64, id.mark);
    out += buf;
  }
  return out;
}

Result<FileId> parse_source_comment(const char* comment) {
  auto bad = [] { return make_error(Errc::InvalidArgument, "not a berth log file (gzip header)"); };
  uintmax_t dev = 0, ino = 0;
  int64_t btime = 0;
  char tag[32] = {};
  int used = 0;
  if (std::sscanf(comment, "%31s %ju %ju %" SCNd64 "%n", tag, &dev, &ino, &btime, &used) != 4 ||
      std::strcmp(tag, kCommentTag) != 0)
    return bad();
  FileId id;
  id.dev = static_cast<dev_t>(dev);
  id.ino = static_cast<ino_t>(ino);
  id.btime_ns = btime;
  const char* rest = comment + used;
  char gen_field[16] = {};
  int n = 0;
  if (std::sscanf(rest, " %15s%n", gen_field, &n) == 1) {
    rest += n;
    if (std::strcmp(gen_field, "-") != 0) {
      char* end = nullptr;
      errno = 0;
      unsigned long g = std::strtoul(gen_field, &end, 10);
      if (*end != 0 || errno != 0 || g > UINT32_MAX) return bad();
      id.gen = static_cast<uint32_t>(g);
      id.has_gen = true;
    }
    char mark_field[24] = {};
    if (std::sscanf(rest, " %23s%n", mark_field, &n) == 1) {
      char* end = nullptr;
      errno = 0;
      unsigned long long m = mark_field[0] == 'm' ? std::strtoull(mark_field + 1, &end, 16) : 0;
      if (mark_field[0] != 'm' || *end != 0 || errno != 0 || m == 0) return bad();
      id.mark = m;
      id.has_mark = true;
    }
  }
  return id;
}

Result<Fd> gunzip_to_temp(int gz_fd, const std::string& dir) {
  Fd out(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!out) out.reset(::memfd_create("berth-log", MFD_CLOEXEC));
  if (!out) return sys_error("create a temporary file for a compressed log");
  if (::lseek(gz_fd, 0, SEEK_SET) < 0) return sys_error("seek");
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return make_error(Errc::Internal, "inflateInit2 failed");
  std::vector<unsigned char> ibuf(kChunk), obuf(kChunk);
  Result<void> res = ok();
  bool end = false;
  while (!end && res) {
    ssize_t n = ::read(gz_fd, ibuf.data(), ibuf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      res = sys_error("read a compressed log");
      break;
    }
    if (n == 0) break;  // truncated: keep what decoded
    zs.next_in = ibuf.data();
    zs.avail_in = static_cast<uInt>(n);
    while (zs.avail_in > 0 && !end) {
      zs.next_out = obuf.data();
      zs.avail_out = static_cast<uInt>(obuf.size());
      int rc = inflate(&zs, Z_NO_FLUSH);
      size_t have = obuf.size() - zs.avail_out;
      if (have > 0) {
        res = write_all_fd(out.get(), obuf.data(), have, "a temporary log file");
        if (!res) break;
      }
      if (rc == Z_STREAM_END)
        end = true;
      else if (rc != Z_OK && rc != Z_BUF_ERROR)
        end = true;  // corrupt: keep what decoded
      else if (rc == Z_BUF_ERROR && have == 0)
        break;
    }
  }
  inflateEnd(&zs);
  if (!res) return std::move(res).error();
  if (::lseek(out.get(), 0, SEEK_SET) < 0) return sys_error("seek");
  return out;
}

}  // namespace berth::logs
