// logs/writer.cc — the json-file writer used by berth-monitor.
// The monitor is a small static process whose PSS is budgeted, so this file
// uses no JSON library, no stdio and no per-entry allocation: one reusable
// output string per writer, entries encoded by hand (a fixed 3-key object)
// and written with one write(2) each.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd.h"
#include "logs/gz_internal.h"
#include "logs/json_file.h"
#include "logs/time_internal.h"

namespace berth::logs {
namespace {

// docker's copier reads stdio into a 16 KiB buffer: a longer line becomes
// several entries, all but the last without '\n'.
constexpr size_t kMaxEntry = 16 * 1024;

// Bytes copied unchanged into a JSON string: printable ASCII except the
// ones Go's HTML-safe encoder escapes (" \ < > &).
constexpr bool safe_ascii(unsigned char c) {
  return c >= 0x20 && c < 0x80 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&';
}

// Length of the valid UTF-8 sequence at p (Go's utf8.DecodeRune rules:
// no overlongs, no surrogates, <= U+10FFFF), 0 when invalid.
size_t utf8_len(const unsigned char* p, size_t n) {
  unsigned char c = p[0];
  auto cont = [&](size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < n && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// Appends `s` as JSON string content the way docker's jsonlog encoder does:
// \" \\ \n \r \t, other controls and < > & as \u00xx, U+2028/U+2029
// escaped, invalid UTF-8 replaced by \ufffd.
void append_escaped(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    size_t start = i;
    while (i < n && safe_ascii(p[i])) i++;
    if (i > start) out.append(s.data() + start, i - start);
    if (i >= n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      switch (c) {
        case '"':
          out.append("\\\"");
          break;
        case '\\':
          out.append("\\\\");
          break;
        case '\n':
          out.append("\\n");
          break;
        case '\r':
          out.append("\\r");
          break;
        case '\t':
          out.append("\\t");
          break;
        default: {
          char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
          out.append(esc, 6);
        }
      }
      i++;
      continue;
    }
    size_t len = utf8_len(p + i, n - i);
    if (len == 0) {
      out.append("\\ufffd");
      i++;
    } else if (len == 3 && c == 0xE2 && p[i + 1] == 0x80 &&
               (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
      out.append(p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
      i += 3;
    } else {
      out.append(s.data() + i, len);
      i += len;
    }
  }
}

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

class JsonFileWriter final : public Writer {
 public:
  JsonFileWriter(std::string path, RotateOptions opts, Fd fd, int64_t size)
      : path_(std::move(path)), opts_(opts), fd_(std::move(fd)), size_(size) {}
  ~JsonFileWriter() override { wait_compression(); }

  Result<void> write(Stream s, std::string_view data, int64_t time_ns) override {
    if (time_ns == 0) time_ns = now_ns();
    std::string& buf = partial_[s == Stream::Stderr ? 1 : 0];
    while (!data.empty()) {
      size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        // No newline: emit full 16 KiB pieces, keep the rest for later.
        while (buf.size() + data.size() >= kMaxEntry) {
          size_t take = kMaxEntry - buf.size();
          if (buf.empty()) {
            BERTH_TRY(emit(s, data.substr(0, take), time_ns));
          } else {
            buf.append(data.substr(0, take));
            BERTH_TRY(emit(s, buf, time_ns));
            buf.clear();
          }
          data.remove_prefix(take);
        }
        buf.append(data);
        break;
      }
      std::string_view line = data.substr(0, nl + 1);
      data.remove_prefix(nl + 1);
      if (buf.empty()) {
        BERTH_TRY(emit_split(s, line, time_ns));
      } else {
        buf.append(line);
        auto r = emit_split(s, buf, time_ns);
        buf.clear();
        BERTH_TRY(r);
      }
    }
    return ok();
  }

  Result<void> flush() override {
    int64_t t = now_ns();
    for (int i = 0; i < 2; i++) {
      if (partial_[i].empty()) continue;
      auto r = emit(i == 0 ? Stream::Stdout : Stream::Stderr, partial_[i], t);
      partial_[i].clear();
      partial_[i].shrink_to_fit();
      BERTH_TRY(r);
    }
    return ok();
  }

  void settle() override { wait_compression(); }

 private:
  Result<void> emit_split(Stream s, std::string_view line, int64_t t) {
    while (line.size() > kMaxEntry) {
      BERTH_TRY(emit(s, line.substr(0, kMaxEntry), t));
      line.remove_prefix(kMaxEntry);
    }
    return emit(s, line, t);
  }

  // Encodes one entry and appends it with a single write(2).
  Result<void> emit(Stream s, std::string_view bytes, int64_t t) {
    out_.clear();
    out_.append("{\"log\":\"");
    append_escaped(out_, bytes);
    out_.append(s == Stream::Stderr ? "\",\"stream\":\"stderr\"" : "\",\"stream\":\"stdout\"");
    if (!opts_.attrs.empty()) out_.append(",\"attrs\":").append(opts_.attrs);
    out_.append(",\"time\":\"");
    char tb[kMaxTimeLen];
    out_.append(tb, format_time_buf(t, tb));
    out_.append("\"}\n");
    if (opts_.max_size > 0 && size_ > 0 &&
        size_ + static_cast<int64_t>(out_.size()) > opts_.max_size) {
      BERTH_TRY(rotate());
    }
    const char* p = out_.data();
    size_t left = out_.size();
    while (left > 0) {
      ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_error("write " + path_);
      }
      p += n;
      left -= static_cast<size_t>(n);
      size_ += n;
    }
    // A huge entry must not pin its buffer in a long-lived monitor.
    if (out_.capacity() > 4 * kMaxEntry) {
      out_.clear();
      out_.shrink_to_fit();
    }
    return ok();
  }

  // path.(max-1) is dropped, path.k -> path.k+1, path -> path.1, new path.
  // With max_files 1 the live file is unlinked and recreated, so a reader
  // holding the old fd still sees every entry it was written. With
  // compress, each number may be path.k.gz or (left by an interrupted
  // compression) plain path.k; both forms move, and path.1 is then
  // compressed in the background.
  Result<void> rotate() {
    auto name = [this](int k) { return k == 0 ? path_ : path_ + "." + std::to_string(k); };
    int n = opts_.max_files < 1 ? 1 : opts_.max_files;
    if (n == 1) {
      if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return sys_error("unlink " + path_);
    } else {
      // The previous compression works on path.1 by name: it ends first.
      wait_compression();
      auto drop = [](const std::string& f) -> Result<void> {
        if (::unlink(f.c_str()) != 0 && errno != ENOENT) return sys_error("unlink " + f);
        return ok();
      };
      auto move = [](const std::string& from, const std::string& to) -> Result<void> {
        if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT)
          return sys_error("rotate " + from);
        return ok();
      };
      BERTH_TRY(drop(name(n - 1)));
      if (opts_.compress) BERTH_TRY(drop(name(n - 1) + ".gz"));
      for (int k = n - 2; k >= 0; k--) {
        if (opts_.compress && k > 0) BERTH_TRY(move(name(k) + ".gz", name(k + 1) + ".gz"));
        BERTH_TRY(move(name(k), name(k + 1)));
      }
      if (opts_.compress) start_compression(name(1), name(1) + ".gz");
    }
    fd_ = BERTH_TRY(create_log_file(path_));
    size_ = 0;
    return ok();
  }

  // Compresses src into dst in a grandchild, so the container's output keeps
  // flowing meanwhile. The grandchild is reparented (to the monitor, a child
  // subreaper, which reaps it with its other orphans; or to init): the
  // writer waits only for the short-lived child, and learns that the work is
  // done from the end of a pipe the grandchild holds. A failed fork leaves
  // the file plain, which readers take as it is.
  void start_compression(const std::string& src, const std::string& dst) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    pid_t child = ::fork();
    if (child == 0) {
      pid_t grandchild = ::fork();
      if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
      // Nothing of the parent's but the pipe: its sockets and the
      // container's stdio must close when the parent closes them, and its
      // signal handlers write to fds this process does not have.
      ::close(p[0]);
      int keep = p[1];
      if (keep > 3) ::close_range(3, static_cast<unsigned>(keep - 1), 0);
      ::close_range(static_cast<unsigned>(keep + 1), ~0U, 0);
      for (int sig = 1; sig < NSIG; sig++) ::signal(sig, SIG_DFL);
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      // Background work: the containers come first.
      ::setpriority(PRIO_PROCESS, 0, 10);
      ::_exit(compress_file(src, dst) ? 0 : 1);
    }
    ::close(p[1]);
    if (child < 0) {
      ::close(p[0]);
      return;
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    compressing_.reset(p[0]);
  }

  // Waits until the running compression (if any) is done: the grandchild's
  // end of the pipe closes when it exits.
  void wait_compression() {
    if (!compressing_) return;
    char c;
    while (true) {
      ssize_t n = ::read(compressing_.get(), &c, 1);
      if (n < 0 && errno == EINTR) continue;
      break;
    }
    compressing_.reset();
  }

  std::string path_;
  RotateOptions opts_;
  Fd fd_;
  int64_t size_ = 0;
  std::string partial_[2];  // stdout, stderr
  std::string out_;
  Fd compressing_;  // read end of the running compression's pipe
};

}  // namespace

Result<std::unique_ptr<Writer>> Writer::open(const std::string& path, RotateOptions opts) {
  if (opts.max_files < 1)
    return make_error(Errc::InvalidArgument, "max-file cannot be less than 1");
  if (opts.max_size < 0)
    return make_error(Errc::InvalidArgument, "max-size must be a positive number");
  if (opts.compress && opts.max_files < 2)
    return make_error(
        Errc::InvalidArgument,
        "compress cannot be true when max-file is less than 2 or max-size is not set");
  int raw = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (raw < 0) return sys_error("open " + path);
  Fd fd(raw);
  // A new file, or one written before files were marked (a reader that took
  // its identity unmarked still matches it: unknown matches anything).
  mark_file(fd.get());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  int64_t size = st.st_size;
  // A writer killed mid-entry (disk full, crash) leaves an unterminated line:
  // end it so the torn line stays one corrupt line and the next entry parses.
  if (size > 0) {
    char last = 0;
    if (::pread(fd.get(), &last, 1, size - 1) == 1 && last != '\n') {
      if (::write(fd.get(), "\n", 1) == 1) size++;
    }
  }
  return std::unique_ptr<Writer>(new JsonFileWriter(path, opts, std::move(fd), size));
}

}  // namespace berth::logs
