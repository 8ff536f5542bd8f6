// logs/reader.cc — reading a json-file log set: tail, since/until, follow.
//
// Files are opened newest first (path, path.1, ...) and de-duplicated by
// inode, so a rotation between two opens can repeat a file (dropped) but
// never skip one; entries newer than the live file are reached by the
// rotation handling of follow. A rotated file may be compressed (path.k.gz,
// logs/gz_internal.h): it counts as the plain file it was made from, and is
// decompressed into a temporary file only when its entries are needed.
// `tail` walks backwards from the end of the newest files, so printing the
// last lines of a 1 GB log reads only them.
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

#include "base/fd.h"
#include "logs/decode_internal.h"
#include "logs/gz_internal.h"
#include "logs/json_file.h"

namespace berth::logs {
namespace {

constexpr size_t kReadBuf = 1 << 20;
constexpr size_t kTailBlock = 64 * 1024;
// No log set has more rotated files than this; bounds the probe loop.
constexpr int kMaxProbe = 10000;

struct File {
  Fd fd;
  FileId id;        // of the plain file (for a .gz: the one it was made from)
  bool gz = false;  // fd is the compressed file, not yet decompressed
};

std::string rotated_name(const std::string& path, int k) {
  return k == 0 ? path : path + "." + std::to_string(k);
}

int64_t wall_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Result<File> open_file(const std::string& name) {
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + name);
  File f;
  f.fd.reset(fd);
  f.id = BERTH_TRY(file_id(fd));
  return f;
}

// Rotated number k of the set: plain path.k, else path.k.gz. ENOENT (as a
// sys error) when neither exists. A .gz that is not berth's is an error.
Result<File> open_rotated(const std::string& path, int k) {
  auto f = open_file(rotated_name(path, k));
  if (f || f.error().sys_errno != ENOENT || k == 0) return f;
  std::string gz = rotated_name(path, k) + ".gz";
  int fd = ::open(gz.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return sys_error("open " + gz);
  File g;
  g.fd.reset(fd);
  g.gz = true;
  g.id = BERTH_TRY_CTX(gz_source(fd), gz);
  return g;
}

bool rotated_exists(const std::string& path, int k) {
  struct stat st;
  return ::stat(rotated_name(path, k).c_str(), &st) == 0 ||
         (k > 0 && ::stat((rotated_name(path, k) + ".gz").c_str(), &st) == 0);
}

// The identity of rotated number k, nullopt when there is none.
Result<std::optional<FileId>> rotated_id(const std::string& path, int k) {
  auto id = file_id(rotated_name(path, k));
  if (id) return std::optional<FileId>(*id);
  if (id.error().sys_errno != ENOENT) return std::move(id).error();
  auto f = open_rotated(path, k);
  if (f) return std::optional<FileId>(f->id);
  if (f.error().sys_errno == ENOENT) return std::optional<FileId>();
  return std::move(f).error();
}

// A compressed file's entries, in a temporary file from here on.
Result<void> ensure_plain(File& f, const std::string& path) {
  if (!f.gz) return ok();
  f.fd =
      BERTH_TRY_CTX(gunzip_to_temp(f.fd.get(), dir_of(path)), "read a compressed log of " + path);
  f.gz = false;
  return ok();
}

// Opens the set newest first. ENOENT on the live file while path.1 exists
// is a rotation in progress (rename done, new file not yet created): retried
// briefly. `live_missing` reports a set without a live file.
Result<std::vector<File>> open_set(const std::string& path, bool& live_missing) {
  std::vector<File> files;
  live_missing = false;
  for (int attempt = 0;; attempt++) {
    auto live = open_file(path);
    if (live) {
      files.push_back(std::move(*live));
      break;
    }
    if (live.error().sys_errno != ENOENT) return std::move(live).error();
    if (attempt < 50 && rotated_exists(path, 1)) {
      usleep(2000);
      continue;
    }
    live_missing = true;
    break;
  }
  // A hole with a file beyond it is the writer between two renames: the
  // file for this number arrives in a moment, and the older ones must not
  // be cut off.
  int waits = 0;
  for (int k = 1; k < kMaxProbe; k++) {
    auto f = open_rotated(path, k);
    if (!f) {
      if (f.error().sys_errno != ENOENT) return std::move(f).error();
      if (waits < 50 && rotated_exists(path, k + 1)) {
        waits++;
        usleep(1000);
        k--;
        continue;
      }
      break;
    }
    bool dup = false;
    for (const auto& g : files) dup = dup || same_file(g.id, f->id);
    if (!dup) files.push_back(std::move(*f));
  }
  return files;
}

class Reader {
 public:
  Reader(const std::string& path, const ReadOptions& o, const EntryFn& fn, const StopFn& stop)
      : path_(path), o_(o), fn_(fn), stop_(stop) {}

  Result<void> run() {
    if (!o_.stdout && !o_.stderr) return ok();
    Fd inotify;
    if (o_.follow) inotify = watch_dir();
    bool live_missing = false;
    auto files = BERTH_TRY(open_set(path_, live_missing));
    if (live_missing && !o_.follow && files.empty())
      return make_error(Errc::NotFound, "log file {} does not exist", path_);

    // Start position: (index into files, newest first; offset).
    size_t start_idx = files.empty() ? 0 : files.size() - 1;
    off_t start_off = 0;
    // `since` alone also walks backwards: entries are in time order, so the
    // walk stops at the first older entry instead of parsing the whole set.
    if ((o_.tail >= 0 || o_.since_ns) && !files.empty())
      BERTH_TRY(find_tail(files, start_idx, start_off));

    buf_.resize(kReadBuf);
    // Older files first; a rotated file ends where it ends (a torn last
    // line is dropped with the pending bytes).
    for (size_t i = files.empty() ? 0 : start_idx + 1; i-- > 0;) {
      bool is_live = i == 0 && !live_missing;
      BERTH_TRY(ensure_plain(files[i], path_));
      if (::lseek(files[i].fd.get(), i == start_idx ? start_off : 0, SEEK_SET) < 0)
        return sys_error("seek " + path_);
      pend_ = 0;
      BERTH_TRY(drain(files[i].fd.get()));
      if (done_) return ok();
      if (is_live) {
        cur_ = std::move(files[i]);
        have_cur_ = true;
      }
    }
    if (!o_.follow) return ok();
    return follow(inotify);
  }

 private:
  bool matches(const Entry& e) const {
    if (e.stream == Stream::Stdout ? !o_.stdout : !o_.stderr) return false;
    if (o_.since_ns && e.time_ns < *o_.since_ns) return false;
    if (o_.until_ns && e.time_ns > *o_.until_ns) return false;
    return true;
  }

  // One complete line: decode, filter, deliver. Sets done_ past `until`.
  Result<void> process(std::string_view line) {
    if (!decode_line(line, entry_)) return ok();  // torn or corrupt: skipped
    if (o_.until_ns && entry_.time_ns > *o_.until_ns) {
      done_ = true;
      return ok();
    }
    if (!matches(entry_)) return ok();
    return fn_(entry_);
  }

  // Reads fd from its offset to EOF, delivering complete lines; bytes of an
  // unterminated last line stay pending in buf_[0, pend_).
  Result<void> drain(int fd) {
    for (;;) {
      if (pend_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
      ssize_t n = ::read(fd, buf_.data() + pend_, buf_.size() - pend_);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("read " + path_);
      }
      if (n == 0) return ok();
      size_t end = pend_ + static_cast<size_t>(n), pos = 0;
      const char* b = buf_.data();
      while (pos < end) {
        const void* nl = std::memchr(b + pos, '\n', end - pos);
        if (!nl) break;
        size_t e = static_cast<size_t>(static_cast<const char*>(nl) - b);
        BERTH_TRY(process(std::string_view(b + pos, e - pos)));
        if (done_) return ok();
        pos = e + 1;
      }
      pend_ = end - pos;
      if (pos > 0 && pend_ > 0) std::memmove(buf_.data(), buf_.data() + pos, pend_);
      if (buf_.size() > kReadBuf && pend_ < kReadBuf) buf_.resize(kReadBuf);
    }
  }

  // Walks lines backwards from the end of the newest file until o_.tail
  // matching entries are found (or an entry older than `since`); sets where
  // forward reading starts.
  Result<void> find_tail(std::vector<File>& files, size_t& idx, off_t& off) {
    int64_t want = o_.tail >= 0 ? o_.tail : INT64_MAX;
    Entry e;
    for (size_t i = 0; i < files.size(); i++) {
      BERTH_TRY(ensure_plain(files[i], path_));
      struct stat st;
      if (::fstat(files[i].fd.get(), &st) != 0) return sys_error("stat " + path_);
      off_t win_off = st.st_size;  // window = file bytes [win_off, win_off + win.size())
      std::string win;
      size_t block = kTailBlock;
      // Index (within win) of the end of the current line, i.e. one past its
      // '\n'; -1 until the last '\n' of the file has been found.
      ssize_t line_end = -1;
      for (;;) {
        // Search backwards in win for the '\n' before the current line.
        ssize_t limit = line_end < 0 ? static_cast<ssize_t>(win.size()) : line_end - 1;
        ssize_t nl = -1;
        if (limit > 0) {
          const void* p = memrchr(win.data(), '\n', static_cast<size_t>(limit));
          if (p) nl = static_cast<const char*>(p) - win.data();
        }
        if (nl < 0 && win_off > 0) {
          // Extend the window backwards by one block.
          size_t take = static_cast<size_t>(std::min<off_t>(win_off, static_cast<off_t>(block)));
          std::string more(take, '\0');
          off_t at = win_off - static_cast<off_t>(take);
          size_t got = 0;
          while (got < take) {
            ssize_t r = ::pread(files[i].fd.get(), more.data() + got, take - got,
                                at + static_cast<off_t>(got));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return sys_error("read " + path_);
            if (r == 0) break;
            got += static_cast<size_t>(r);
          }
          if (got < take) return make_error(Errc::Io, "log file {} shrank while reading", path_);
          size_t keep = line_end < 0 ? win.size() : static_cast<size_t>(line_end);
          more.append(win, 0, keep);
          win.swap(more);
          win_off = at;
          if (line_end >= 0) line_end += static_cast<ssize_t>(take);
          if (block < (8u << 20)) block *= 2;
          continue;
        }
        if (line_end < 0) {
          // Looking for the file's last '\n' (anything after it is torn or
          // still being written and is not part of the tail).
          if (nl < 0) {
            if (want == 0) {  // tail 0 of a file without a complete line
              idx = i;
              off = 0;
              return ok();
            }
            break;  // no complete line in this file
          }
          line_end = nl + 1;
          if (want == 0) {
            idx = i;
            off = win_off + line_end;
            return ok();
          }
          continue;
        }
        ssize_t line_start = nl + 1;  // 0 when nl == -1 (start of file)
        std::string_view line(win.data() + line_start,
                              static_cast<size_t>(line_end - 1 - line_start));
        if (decode_line(line, e)) {
          if (o_.since_ns && e.time_ns < *o_.since_ns) {
            idx = i;  // older than since: everything before is too
            off = win_off + line_end;
            return ok();
          }
          if (matches(e) && --want == 0) {
            idx = i;
            off = win_off + line_start;
            return ok();
          }
        }
        if (nl < 0) break;  // reached the start of this file
        line_end = line_start;
      }
    }
    idx = files.size() - 1;  // fewer matching entries than asked: everything
    off = 0;
    return ok();
  }

  Fd watch_dir() {
    std::string dir = ".";
    size_t slash = path_.rfind('/');
    if (slash != std::string::npos) dir = slash == 0 ? "/" : path_.substr(0, slash);
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0) return Fd();  // polled instead
    Fd f(fd);
    if (inotify_add_watch(
            fd, dir.c_str(),
            IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE) < 0)
      return Fd();
    return f;
  }

  // After the current file was renamed away: the file that follows it is
  // one number lower than where it is now; if it was dropped already, every
  // file left is newer, so start from the oldest. The writer renames from
  // the highest number down while this probes upwards, so a probe that
  // lands mid-rotation is answered with "retry" (false), never a guess.
  Result<bool> open_next() {
    int found = -1, oldest = -1, gap = -1;
    for (int k = 1; k < kMaxProbe; k++) {
      auto id = BERTH_TRY(rotated_id(path_, k));
      if (!id) {
        gap = k;
        break;
      }
      oldest = k;
      if (same_file(*id, cur_.id)) {
        found = k;
        break;
      }
    }
    if (found < 0 && gap > 0) {
      // A hole with files beyond it: the writer is between two renames.
      if (rotated_exists(path_, gap + 1)) return false;
    }
    int next = found > 0 ? found - 1 : (oldest > 0 ? oldest : 0);
    auto f = open_rotated(path_, next);
    if (!f) {
      if (f.error().sys_errno == ENOENT) return false;  // mid-rotation: retry later
      return std::move(f).error();
    }
    if (same_file(f->id, cur_.id)) return false;
    if (found > 0) {
      // Our file moves before its successor does: if it still sits where it
      // was found, what was opened one number lower is its successor.
      auto id = BERTH_TRY(rotated_id(path_, found));
      if (!id || !same_file(*id, cur_.id)) return false;
    }
    BERTH_TRY(ensure_plain(*f, path_));
    cur_ = std::move(*f);
    pend_ = 0;
    return true;
  }

  // Is the live name still our file? 1 yes, 0 rotated, -1 no live file now.
  int live_state() {
    auto id = file_id(path_);
    if (!id) return -1;
    return same_file(*id, cur_.id) ? 1 : 0;
  }

  Result<void> follow(Fd& inotify) {
    bool stopping = false;
    for (;;) {
      if (!have_cur_) {
        // No live file yet (created later, or removed): wait for one.
        auto f = open_file(path_);
        if (f) {
          cur_ = std::move(*f);
          have_cur_ = true;
          pend_ = 0;
        } else if (f.error().sys_errno != ENOENT) {
          return std::move(f).error();
        }
      }
      if (have_cur_) {
        BERTH_TRY(drain(cur_.fd.get()));
        if (done_) return ok();
        int st = live_state();
        if (st == 0) {
          // Renamed away: everything it will ever hold is written now.
          BERTH_TRY(drain(cur_.fd.get()));
          if (done_) return ok();
          if (BERTH_TRY(open_next())) continue;
        }
      }
      if (stopping) return ok();
      if (o_.until_ns && wall_ns() > *o_.until_ns) {
        stopping = true;  // one more drain, then done
        continue;
      }
      // Caught up: asked before every wait (at most 250 ms apart), so a
      // caller that batches its output can send it now.
      if (stop_ && stop_()) {
        stopping = true;
        continue;
      }
      if (inotify) {
        pollfd p{inotify.get(), POLLIN, 0};
        if (::poll(&p, 1, 250) > 0) {
          char evbuf[4096];
          while (::read(inotify.get(), evbuf, sizeof evbuf) > 0) {
          }
        }
      } else {
        usleep(100 * 1000);
      }
    }
  }

  const std::string& path_;
  const ReadOptions& o_;
  const EntryFn& fn_;
  const StopFn& stop_;
  std::vector<char> buf_;
  size_t pend_ = 0;
  Entry entry_;
  bool done_ = false;
  File cur_;
  bool have_cur_ = false;
};

}  // namespace

Result<void> read(const std::string& path, const ReadOptions& o, const EntryFn& fn,
                  const StopFn& stop) {
  Reader r(path, o, fn, stop);
  return r.run();
}

}  // namespace berth::logs
