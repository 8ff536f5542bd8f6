// cli/terminal.h — what `run -it`, `attach`, `exec -it` and `start -ai` need
// from the local terminal: raw mode (restored on scope exit), the window
// size, a self-pipe for signals (SIGWINCH for resizes, the rest for
// --sig-proxy), and docker's detach-key matching on the input stream.
// Depends on: base.
#pragma once

#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace berth::cli {

// Puts `fd` in raw mode (docker's term.MakeRaw) until destroyed.
class RawTerminal {
 public:
  static Result<RawTerminal> make(int fd);
  RawTerminal(RawTerminal&& o) noexcept;
  RawTerminal& operator=(RawTerminal&&) = delete;
  RawTerminal(const RawTerminal&) = delete;
  ~RawTerminal();
  void restore();

 private:
  RawTerminal() = default;
  int fd_ = -1;
  std::vector<unsigned char> saved_;  // struct termios bytes
};

// {rows, cols} of the terminal on fd; nullopt when it is not one.
std::optional<std::pair<int, int>> window_size(int fd);

// Signals delivered through a pipe (async-signal-safe handler writes the
// signal number). One instance per process; destroying it restores the
// previous dispositions.
class SignalPipe {
 public:
  static Result<SignalPipe*> install(const std::vector<int>& signals);
  ~SignalPipe();
  int fd() const { return rd_; }
  // Next pending signal, 0 when none (non-blocking).
  int next();

 private:
  SignalPipe() = default;
  int rd_ = -1, wr_ = -1;
  std::vector<std::pair<int, struct sigaction>> old_;
};

// Signals `--sig-proxy` forwards (docker's: all but SIGCHLD, SIGPIPE, SIGURG
// and SIGWINCH, which are not meant for the container).
std::vector<int> proxied_signals();

// docker's term.EscapeProxy: passes input through, holding back bytes that
// may start the detach sequence; when the whole sequence has been read
// detached() turns true and the sequence is swallowed.
class DetachMatcher {
 public:
  explicit DetachMatcher(std::string keys) : keys_(std::move(keys)) {}
  // Bytes to forward for this input.
  std::string feed(std::string_view in);
  bool detached() const { return detached_; }

 private:
  std::string keys_;
  size_t matched_ = 0;
  bool detached_ = false;
};

// --- a hijacked attach/exec connection -------------------------------------

struct StreamIo {
  bool tty = false;         // raw bytes; otherwise docker's 8-byte frames
  bool send_stdin = false;  // copy in_fd to the connection
  int in_fd = 0, out_fd = 1, err_fd = 2;
  std::string detach_keys;  // the byte sequence ("" = none)
  SignalPipe* signals = nullptr;
  std::function<void(int)> on_signal;  // each signal read from `signals`
};
enum class StreamEnd { Eof, Detached };

// Copies the connection's output to out_fd/err_fd (demultiplexed without a
// TTY) and, with send_stdin, in_fd to the connection (half-closing it at
// EOF, as docker's CloseWrite) until the connection ends or the detach keys
// are typed. `buffered` is output already read with the headers.
Result<StreamEnd> pump_stream(int conn, std::string buffered, const StreamIo& io);

// Writes all of s to fd (retrying short writes and EINTR).
Result<void> write_all(int fd, std::string_view s);

}  // namespace berth::cli
