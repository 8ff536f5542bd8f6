#include "cli/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace berth::cli {

Result<RawTerminal> RawTerminal::make(int fd) {
  struct termios t {};
  if (::tcgetattr(fd, &t) != 0) return sys_error("tcgetattr");
  RawTerminal r;
  r.fd_ = fd;
  r.saved_.assign(reinterpret_cast<unsigned char*>(&t),
                  reinterpret_cast<unsigned char*>(&t) + sizeof t);
  // docker's term.MakeRaw (the cfmakeraw flags).
  t.c_iflag &=
      ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
  t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB);
  t.c_cflag |= CS8;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSANOW, &t) != 0) return sys_error("tcsetattr");
  return r;
}

RawTerminal::RawTerminal(RawTerminal&& o) noexcept : fd_(o.fd_), saved_(std::move(o.saved_)) {
  o.fd_ = -1;
}

void RawTerminal::restore() {
  if (fd_ < 0 || saved_.size() != sizeof(struct termios)) return;
  struct termios t {};
  std::memcpy(&t, saved_.data(), sizeof t);
  ::tcsetattr(fd_, TCSANOW, &t);
  fd_ = -1;
}

RawTerminal::~RawTerminal() { restore(); }

std::optional<std::pair<int, int>> window_size(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return std::nullopt;
  return std::make_pair(static_cast<int>(ws.ws_row), static_cast<int>(ws.ws_col));
}

namespace {
int g_signal_wr = -1;
SignalPipe* g_instance = nullptr;

void on_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  if (g_signal_wr >= 0) [[maybe_unused]]
    auto n = ::write(g_signal_wr, &b, 1);
  errno = saved;
}
}  // namespace

Result<SignalPipe*> SignalPipe::install(const std::vector<int>& signals) {
  if (g_instance) return make_error(Errc::Internal, "signal pipe already installed");
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return sys_error("pipe2");
  auto* s = new SignalPipe();
  s->rd_ = p[0];
  s->wr_ = p[1];
  g_signal_wr = p[1];
  g_instance = s;
  for (int sig : signals) {
    struct sigaction sa {
    }, old{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (::sigaction(sig, &sa, &old) == 0) s->old_.emplace_back(sig, old);
  }
  return s;
}

SignalPipe::~SignalPipe() {
  for (auto& [sig, old] : old_) ::sigaction(sig, &old, nullptr);
  g_signal_wr = -1;
  g_instance = nullptr;
  ::close(rd_);
  ::close(wr_);
}

int SignalPipe::next() {
  unsigned char b = 0;
  ssize_t n = ::read(rd_, &b, 1);
  return n == 1 ? b : 0;
}

std::vector<int> proxied_signals() {
  std::vector<int> out;
  for (int s = 1; s < 32; ++s) {
    if (s == SIGKILL || s == SIGSTOP || s == SIGCHLD || s == SIGPIPE || s == SIGURG ||
        s == SIGWINCH || s == SIGILL || s == SIGFPE || s == SIGSEGV || s == SIGBUS ||
        s == SIGTRAP || s == SIGABRT)
      continue;
    out.push_back(s);
  }
  return out;
}

std::string DetachMatcher::feed(std::string_view in) {
  std::string out;
  if (keys_.empty()) return std::string(in);
  for (char c : in) {
    if (detached_) break;
    if (c == keys_[matched_]) {
      ++matched_;
      if (matched_ == keys_.size()) {
        detached_ = true;
        matched_ = 0;
      }
      continue;
    }
    // Not the sequence after all: release what was held, then this byte
    // (which may itself start a new match).
    out.append(keys_, 0, matched_);
    matched_ = 0;
    if (c == keys_[0]) {
      matched_ = 1;
      if (keys_.size() == 1) detached_ = true;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace berth::cli

namespace berth::cli {

Result<void> write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd p {
          fd, POLLOUT, 0
        };
        ::poll(&p, 1, 1000);
        continue;
      }
      return sys_error("write");
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

namespace {

// docker's stdcopy: [stream, 0, 0, 0, size (big endian u32)] + payload.
class Demux {
 public:
  Demux(int out, int err) : out_(out), err_(err) {}
  Result<void> feed(std::string_view data) {
    buf_.append(data);
    size_t pos = 0;
    while (buf_.size() - pos >= 8) {
      auto* h = reinterpret_cast<const unsigned char*>(buf_.data() + pos);
      size_t len = (size_t{h[4]} << 24) | (size_t{h[5]} << 16) | (size_t{h[6]} << 8) | h[7];
      if (buf_.size() - pos - 8 < len) break;
      int fd = h[0] == 2 ? err_ : out_;
      if (h[0] > 3) return make_error(Errc::Internal, "Unrecognized input header: {}", int{h[0]});
      if (h[0] == 3) {  // systemerr: the daemon's error text
        return make_error(Errc::Internal, "error from daemon in stream: {}",
                          std::string_view(buf_).substr(pos + 8, len));
      }
      BERTH_TRY(write_all(fd, std::string_view(buf_).substr(pos + 8, len)));
      pos += 8 + len;
    }
    buf_.erase(0, pos);
    return ok();
  }

 private:
  int out_, err_;
  std::string buf_;
};

}  // namespace

Result<StreamEnd> pump_stream(int conn, std::string buffered, const StreamIo& io) {
  Demux demux(io.out_fd, io.err_fd);
  auto output = [&](std::string_view data) -> Result<void> {
    if (io.tty) return write_all(io.out_fd, data);
    return demux.feed(data);
  };
  if (!buffered.empty()) BERTH_TRY(output(buffered));
  DetachMatcher matcher(io.detach_keys);
  bool stdin_open = io.send_stdin;
  std::string buf(65536, '\0');
  while (true) {
    struct pollfd p[3];
    int n = 0;
    p[n++] = {conn, POLLIN, 0};
    int in_idx = -1, sig_idx = -1;
    if (stdin_open) {
      in_idx = n;
      p[n++] = {io.in_fd, POLLIN, 0};
    }
    if (io.signals) {
      sig_idx = n;
      p[n++] = {io.signals->fd(), POLLIN, 0};
    }
    int r = ::poll(p, static_cast<nfds_t>(n), -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return sys_error("poll");
    }
    if (sig_idx >= 0 && (p[sig_idx].revents & POLLIN)) {
      while (int sig = io.signals->next())
        if (io.on_signal) io.on_signal(sig);
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t k = ::read(conn, buf.data(), buf.size());
      if (k < 0 && errno != EINTR && errno != EAGAIN) {
        if (errno == ECONNRESET) return StreamEnd::Eof;
        return sys_error("reading the attach stream");
      }
      if (k == 0) return StreamEnd::Eof;
      if (k > 0) BERTH_TRY(output(std::string_view(buf.data(), static_cast<size_t>(k))));
    }
    if (in_idx >= 0 && (p[in_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = ::read(io.in_fd, buf.data(), buf.size());
      if (k < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (k <= 0) {
        stdin_open = false;
        ::shutdown(conn, SHUT_WR);
        continue;
      }
      std::string fwd = matcher.feed(std::string_view(buf.data(), static_cast<size_t>(k)));
      if (!fwd.empty()) {
        std::string_view s = fwd;
        while (!s.empty()) {
          ssize_t w = ::send(conn, s.data(), s.size(), MSG_NOSIGNAL);
          if (w < 0) {
            if (errno == EINTR) continue;
            stdin_open = false;  // the container closed its stdin
            break;
          }
          s.remove_prefix(static_cast<size_t>(w));
        }
      }
      if (matcher.detached()) return StreamEnd::Detached;
    }
  }
}

}  // namespace berth::cli
