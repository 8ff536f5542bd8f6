// berth-monitor: the processes' stdio and the attach/exec client streams.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor/server.h"

namespace berth::monitor {
namespace {

// A client that reads slower than the container writes is cut off beyond
// this much pending output (the container is never blocked by a client).
constexpr size_t kMaxPending = 4 * 1024 * 1024;

void set_nonblock(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl >= 0) ::fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

Result<void> make_pipe(Fd* r, Fd* w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_error("pipe");
  r->reset(p[0]);
  w->reset(p[1]);
  return ok();
}

// One read buffer for the whole loop: the loop is single-threaded.
char g_buf[8192];

}  // namespace

Result<void> Monitor::make_stdio(Proc& p, bool want_stdin, bool tty, Stdio* theirs, Fd* tin,
                                 Fd* tout, Fd* terr) {
  if (tty) return ok();  // the pty master arrives from the runtime
  BERTH_TRY(make_pipe(&p.out, tout));
  BERTH_TRY(make_pipe(&p.err, terr));
  set_nonblock(p.out.get());
  set_nonblock(p.err.get());
  if (want_stdin) {
    BERTH_TRY(make_pipe(tin, &p.in));
    set_nonblock(p.in.get());
  } else {
    tin->reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  }
  theirs->in = tin->get();
  theirs->out = tout->get();
  theirs->err = terr->get();
  return ok();
}

void Monitor::watch_proc(Proc& p) {
  if (p.master) {
    set_nonblock(p.master.get());
    p.master_events = EPOLLIN;
    p.master_tok = watch(p.master.get(), EPOLLIN, Reg{Kind::ProcPty, p.key});
    return;
  }
  if (p.out) p.out_tok = watch(p.out.get(), EPOLLIN, Reg{Kind::ProcOut, p.key});
  if (p.err) p.err_tok = watch(p.err.get(), EPOLLIN, Reg{Kind::ProcErr, p.key});
  // Registered without interest: EPOLLERR (reader gone) is always reported.
  if (p.in) p.in_tok = watch(p.in.get(), 0, Reg{Kind::ProcIn, p.key});
}

bool Monitor::proc_io_done(const Proc& p) const { return !p.master && !p.out && !p.err; }

void Monitor::close_proc_io(Proc& p) {
  if (p.master) unwatch(p.master_tok, p.master.get());
  if (p.out) unwatch(p.out_tok, p.out.get());
  if (p.err) unwatch(p.err_tok, p.err.get());
  if (p.in) unwatch(p.in_tok, p.in.get());
  p.master.reset();
  p.out.reset();
  p.err.reset();
  p.in.reset();
  p.in_pending.clear();
}

void Monitor::on_proc_out(const std::string& key, Kind k, uint32_t events) {
  Proc* p = find_proc(key);
  if (!p) return;
  Fd* fd = k == Kind::ProcOut ? &p->out : k == Kind::ProcErr ? &p->err : &p->master;
  if (!*fd) return;
  if (k == Kind::ProcPty && (events & EPOLLOUT)) on_proc_in(key);
  int stream = k == Kind::ProcErr ? 2 : 1;
  bool eof = false;
  // A bounded number of reads per wake-up keeps one chatty process from
  // starving the others.
  for (int i = 0; i < 8; ++i) {
    ssize_t n = ::read(fd->get(), g_buf, sizeof g_buf);
    if (n > 0) {
      deliver(*p, stream, std::string_view(g_buf, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    eof = true;  // 0, or EIO from a pty master once every slave is closed
    break;
  }
  if (!eof) return;
  uint64_t tok = k == Kind::ProcOut ? p->out_tok : k == Kind::ProcErr ? p->err_tok : p->master_tok;
  unwatch(tok, fd->get());
  fd->reset();
  if (k == Kind::ProcPty) p->in_pending.clear();
  if (!proc_io_done(*p)) return;
  if (key.empty()) {
    if (phase_ == Phase::Draining) finish_exit();
  } else if (!p->running && !p->probe && p->exited_ms > 0) {
    close_proc_io(*p);
    close_clients_of(key);
    p->exited_ms = 0;
  }
}

void Monitor::deliver(Proc& p, int stream, std::string_view data) {
  if (p.probe) {
    if (p.output.size() < 4096) p.output.append(data.substr(0, 4096 - p.output.size()));
    return;
  }
  if (p.key.empty() && log_) {
    [[maybe_unused]] auto r =
        log_->write(stream == 2 ? logs::Stream::Stderr : logs::Stream::Stdout, data);
  }
  std::string framed;
  std::vector<uint64_t> drop;
  for (auto& [t, c] : clients_) {
    if (c.proc != p.key || c.closing) continue;
    if (!(stream == 2 ? c.err : c.out)) continue;
    if (c.raw) {
      client_send(t, c, data);
    } else {
      if (framed.empty()) framed = logs::frame(stream, data);
      client_send(t, c, framed);
    }
    if (c.pending.size() > kMaxPending) drop.push_back(t);
  }
  for (auto t : drop) drop_client(t);
}

void Monitor::proc_input(Proc& p, std::string_view data) {
  int fd = p.tty ? p.master.get() : p.in.get();
  if (fd < 0 || p.in_close_after) return;
  p.in_pending.append(data);
  on_proc_in(p.key);
}

void Monitor::on_proc_in(const std::string& key) {
  Proc* p = find_proc(key);
  if (!p) return;
  int fd = p->tty ? p->master.get() : p->in.get();
  if (fd < 0) return;
  while (!p->in_pending.empty()) {
    ssize_t n = ::write(fd, p->in_pending.data(), p->in_pending.size());
    if (n > 0) {
      p->in_pending.erase(0, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // The reader is gone (EPIPE): stdin is closed for good.
    p->in_pending.clear();
    if (!p->tty) {
      unwatch(p->in_tok, p->in.get());
      p->in.reset();
    }
    return;
  }
  if (p->in_pending.empty() && p->in_close_after && !p->tty) {
    unwatch(p->in_tok, p->in.get());
    p->in.reset();
    return;
  }
  if (p->tty) {
    update_master(*p);
  } else {
    rewatch(p->in_tok, p->in.get(), p->in_pending.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  }
}

void Monitor::update_master(Proc& p) {
  if (!p.master) return;
  uint32_t ev = EPOLLIN | (p.in_pending.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  if (ev != p.master_events) {
    p.master_events = ev;
    rewatch(p.master_tok, p.master.get(), ev);
  }
}

void Monitor::proc_close_stdin(Proc& p) {
  if (p.tty) {
    // A terminal has no end of file of its own: send its EOF character.
    proc_input(p, "\x04");
    return;
  }
  if (!p.in) return;
  p.in_close_after = true;
  on_proc_in(p.key);
}

uint64_t Monitor::add_client(Fd fd, const std::string& proc, bool in, bool out, bool err, bool raw,
                             std::string detach_seq) {
  set_nonblock(fd.get());
  int raw_fd = fd.get();
  uint64_t tok = watch(raw_fd, EPOLLIN, Reg{Kind::Client, ""});
  Client& c = clients_[tok];
  c.fd = std::move(fd);
  c.proc = proc;
  c.in = in;
  c.out = out;
  c.err = err;
  c.raw = raw;
  c.events = EPOLLIN;
  c.detach = DetachMatcher(std::move(detach_seq));
  return tok;
}

void Monitor::client_send(uint64_t tok, Client& c, std::string_view data) {
  if (c.pending.empty()) {
    while (!data.empty()) {
      ssize_t n = ::send(c.fd.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) {
        // Gone: nothing more can be written; dropped on its next event.
        c.closing = true;
        c.pending.clear();
        c.in_eof = true;
        client_update(tok, c);
        return;
      }
      break;
    }
  }
  if (data.empty()) return;
  c.pending.append(data);
  client_update(tok, c);
}

void Monitor::client_update(uint64_t tok, Client& c) {
  uint32_t ev = (c.in_eof ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                (c.pending.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
  if (c.closing && c.pending.empty()) ev = EPOLLOUT;  // wakes once more to be dropped
  if (ev != c.events) {
    c.events = ev;
    rewatch(tok, c.fd.get(), ev);
  }
}

void Monitor::drop_client(uint64_t tok) {
  auto it = clients_.find(tok);
  if (it == clients_.end()) return;
  int fd = it->second.fd.get();
  unwatch(tok, fd);
  // Closing a socket with unread input makes the kernel report
  // ECONNRESET to the peer instead of EOF once it has read our output (a
  // client typing into a container whose stdin is not open, or that just
  // exited). What has arrived is read and dropped first; bounded, so a
  // client that keeps writing cannot hold the loop.
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::recv(fd, g_buf, sizeof g_buf, MSG_DONTWAIT);
    if (n <= 0 && !(n < 0 && errno == EINTR)) break;
  }
  clients_.erase(it);
}

void Monitor::close_clients_of(const std::string& proc) {
  std::vector<uint64_t> drop;
  for (auto& [t, c] : clients_) {
    if (c.proc != proc) continue;
    c.closing = true;
    if (c.pending.empty())
      drop.push_back(t);
    else
      client_update(t, c);
  }
  for (auto t : drop) drop_client(t);
}

void Monitor::on_client(uint64_t tok, uint32_t events) {
  auto it = clients_.find(tok);
  if (it == clients_.end()) return;
  Client& c = it->second;
  if (events & EPOLLOUT) {
    while (!c.pending.empty()) {
      ssize_t n =
          ::send(c.fd.get(), c.pending.data(), c.pending.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        c.pending.erase(0, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      drop_client(tok);
      return;
    }
    if (c.pending.size() < 65536) c.pending.shrink_to_fit();
  }
  if (c.closing && c.pending.empty()) {
    drop_client(tok);
    return;
  }
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c.in_eof) {
    ssize_t n = ::read(c.fd.get(), g_buf, sizeof g_buf);
    if (n > 0) {
      if (c.in) {
        std::string fwd;
        bool detached = c.detach.feed(std::string_view(g_buf, static_cast<size_t>(n)), fwd);
        if (Proc* p = find_proc(c.proc); p && !fwd.empty()) proc_input(*p, fwd);
        if (detached) {
          drop_client(tok);
          return;
        }
      }
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      c.in_eof = true;
      if (c.in) {
        // docker: the end of an attached stdin closes the container's stdin
        // with StdinOnce; an exec's stdin always ends with its client's. A
        // terminal is never closed that way: a client that detaches (its
        // own detach keys, or it just went away) leaves the shell running.
        Proc* p = find_proc(c.proc);
        if (p && !p->tty && (!c.proc.empty() || c_.stdin_once)) proc_close_stdin(*p);
      }
      if (n < 0 || (events & EPOLLHUP)) {
        drop_client(tok);
        return;
      }
    }
  } else if (events & (EPOLLHUP | EPOLLERR)) {
    drop_client(tok);
    return;
  }
  client_update(tok, c);
}

}  // namespace berth::monitor
