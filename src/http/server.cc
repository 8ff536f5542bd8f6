// http/server.cc — the Beast server: acceptor threads, one thread per
// connection, the Request/Response of one exchange. See server.h.
#include "http/beast.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <list>
#include <mutex>
#include <thread>

#include "base/ascii.h"
#include "http/listen.h"
#include "http/server.h"
#include "http/url.h"

namespace berth::http {
namespace {

constexpr size_t kHeaderLimit = 64 * 1024;
constexpr size_t kBodyChunk = 64 * 1024;
// A handler that left part of the body unread: up to this much is read and
// dropped so the connection can serve the next request; past it, close.
constexpr size_t kDrainLimit = 256 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string to_string(boost::beast::string_view s) { return std::string(s.data(), s.size()); }

bool is_parse_error(const beast_error& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

std::string http_date() {
  std::time_t now = std::time(nullptr);
  struct tm tm;
  ::gmtime_r(&now, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

template <class Stream>
void write_raw_error(Stream& s, int status, std::string_view reason) {
  std::string body = fmt::format("{} {}", status, reason);
  std::string msg = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
      "Content-Length: {}\r\n\r\n{}",
      status, reason, body.size(), body);
  beast_error ec;
  asio::write(s, asio::buffer(msg), ec);
}

using Parser = bhttp::request_parser<bhttp::buffer_body>;

// One request/response on a connection. Lives on the connection thread for
// the duration of the handler call.
template <class Stream>
class Exchange final : public Request, public Response {
 public:
  Exchange(Stream& stream, boost::beast::flat_buffer& buf, Parser& parser, int fd, bool tls,
           int peer_uid)
      : stream_(stream), buf_(buf), parser_(parser), fd_(fd), tls_(tls), peer_uid_(peer_uid) {}

  // Copies the parsed header out of the parser; false on a malformed target.
  bool init() {
    const auto& m = parser_.get();
    method_ = to_string(m.method_string());
    target_ = to_string(m.target());
    version_ = m.version();
    auto split = split_target(target_);
    if (!split || target_.empty()) return false;
    path_ = std::move(split->path);
    query_ = parse_query(split->raw_query);
    for (const auto& f : m) headers_.emplace(to_string(f.name_string()), to_string(f.value()));
    head_ = method_ == "HEAD";
    auto expect = header("Expect");
    expect_continue_ = version_ >= 11 && expect && iequals(*expect, "100-continue");
    body_done_ = parser_.is_done();
    return true;
  }

  // ---- Request
  const std::string& method() const override { return method_; }
  const std::string& target() const override { return target_; }
  const std::string& path() const override { return path_; }
  const std::vector<std::pair<std::string, std::string>>& query() const override { return query_; }
  const Headers& headers() const override { return headers_; }
  int peer_uid() const override { return peer_uid_; }

  Result<std::string> read_body() override {
    if (body_done_ || hijacked_) return std::string();
    if (broken_) return make_error(Errc::Io, "reading request body: connection broken");
    if (expect_continue_ && !continue_sent_) {
      continue_sent_ = true;
      if (!responded_) {
        beast_error ec;
        asio::write(stream_, asio::buffer(kContinue.data(), kContinue.size()), ec);
        if (ec) return fail_read(ec);
      }
    }
    std::string out(kBodyChunk, '\0');
    for (;;) {
      auto& body = parser_.get().body();
      body.data = out.data();
      body.size = out.size();
      beast_error ec;
      bhttp::read_some(stream_, buf_, parser_, ec);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return fail_read(ec);
      size_t n = out.size() - body.size;
      body.data = nullptr;
      if (parser_.is_done()) body_done_ = true;
      if (n > 0) {
        out.resize(n);
        return out;
      }
      if (body_done_) return std::string();
    }
  }

  Result<std::string> read_all_body(size_t max) override {
    std::string all;
    for (;;) {
      std::string chunk = BERTH_TRY(read_body());
      if (chunk.empty()) return all;
      if (all.size() + chunk.size() > max) {
        close_after_ = true;
        return make_error(Errc::InvalidArgument, "request body is larger than {} bytes", max);
      }
      all += chunk;
    }
  }

  // ---- Response
  Result<void> send(int status, const Headers& headers, std::string_view body) override {
    if (responded_) return make_error(Errc::FailedPrecondition, "response already sent");
    responded_ = true;
    bhttp::response<bhttp::buffer_body> res;
    BERTH_TRY(fill_header(res, status, headers));
    bool no_body = status < 200 || status == 204 || status == 304;
    if (!no_body) res.content_length(body.size());
    beast_error ec;
    if (no_body || head_) {
      res.body().data = nullptr;
      res.body().more = false;
      bhttp::response_serializer<bhttp::buffer_body> sr{res};
      bhttp::write_header(stream_, sr, ec);
    } else {
      res.body().data = const_cast<char*>(body.data());
      res.body().size = body.size();
      res.body().more = false;
      bhttp::write(stream_, res, ec);
    }
    if (ec) return fail_write(ec);
    return ok();
  }

  Result<void> begin_stream(int status, const Headers& headers) override {
    if (responded_) return make_error(Errc::FailedPrecondition, "response already sent");
    responded_ = true;
    streaming_ = true;
    bhttp::response<bhttp::empty_body> res;
    BERTH_TRY(fill_header(res, status, headers));
    if (version_ >= 11) {
      res.chunked(true);
    } else {
      // HTTP/1.0 has no chunked coding: the body ends when the connection does.
      raw_stream_ = true;
      keep_alive_ = false;
      res.keep_alive(false);
    }
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast_error ec;
    bhttp::write_header(stream_, sr, ec);
    if (ec) return fail_write(ec);
    return ok();
  }

  Result<void> write(std::string_view chunk) override {
    if (!streaming_ || stream_ended_)
      return make_error(Errc::FailedPrecondition, "write outside begin_stream..end");
    if (broken_) return make_error(Errc::Cancelled, "client gone");
    if (chunk.empty() || head_) return ok();
    beast_error ec;
    if (raw_stream_)
      asio::write(stream_, asio::buffer(chunk.data(), chunk.size()), ec);
    else
      asio::write(stream_, bhttp::make_chunk(asio::buffer(chunk.data(), chunk.size())), ec);
    if (ec) return fail_write(ec);
    return ok();
  }

  Result<void> end() override {
    if (!streaming_) return make_error(Errc::FailedPrecondition, "end without begin_stream");
    if (stream_ended_) return ok();
    stream_ended_ = true;
    if (head_ || raw_stream_) return ok();
    if (broken_) return make_error(Errc::Cancelled, "client gone");
    beast_error ec;
    asio::write(stream_, bhttp::make_chunk_last(), ec);
    if (ec) return fail_write(ec);
    return ok();
  }

  Result<Hijacked> hijack() override {
    if (tls_) return make_error(Errc::NotImplemented, "TLS connections cannot be hijacked");
    if (responded_) return make_error(Errc::FailedPrecondition, "response already sent");
    // A dup, so the connection thread can still close (and stop() still shut
    // down) its own descriptor; the socket lives until both are closed.
    int nfd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 3);
    if (nfd < 0) return sys_error("hijack: dup");
    int fl = ::fcntl(nfd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK)) ::fcntl(nfd, F_SETFL, fl & ~O_NONBLOCK);
    Hijacked h;
    h.fd = Fd(nfd);
    auto data = buf_.data();
    h.buffered.assign(static_cast<const char*>(data.data()), data.size());
    buf_.consume(buf_.size());
    responded_ = true;
    hijacked_ = true;
    return h;
  }

  bool client_gone() override {
    if (broken_) return true;
    char c;
    ssize_t r = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0) return true;
    if (r < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return false;
  }

  bool responded() const override { return responded_; }

  // ---- for the connection loop
  bool hijacked() const { return hijacked_; }

  // After the handler: a 500 when it sent nothing, the last chunk of an
  // unfinished stream.
  void finish() {
    if (!responded_) {
      Headers h{{"Content-Type", "application/json"}};
      (void)send(500, h, "{\"message\":\"internal error: the handler sent no response\"}\n");
    } else if (streaming_ && !stream_ended_) {
      (void)end();
    }
  }

  // True when the connection can carry the next request: the response was
  // keep-alive and the unread rest of the body (if any) was drained.
  bool reusable() {
    if (broken_ || !keep_alive_ || raw_stream_) return false;
    size_t drained = 0;
    while (!body_done_) {
      auto c = read_body();
      if (!c) return false;
      drained += c->size();
      if (drained > kDrainLimit) return false;
    }
    return true;
  }

 private:
  template <class Msg>
  Result<void> fill_header(Msg& res, int status, const Headers& headers) {
    if (status < 100 || status > 999)
      return make_error(Errc::InvalidArgument, "invalid HTTP status {}", status);
    res.version(version_ >= 11 ? 11 : 10);
    res.result(static_cast<unsigned>(status));
    if (bhttp::int_to_status(static_cast<unsigned>(status)) == bhttp::status::unknown)
      res.reason("Status");
    bool have_date = false;
    for (const auto& [k, v] : headers) {
      if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding")) continue;
      if (iequals(k, "Connection")) {
        if (iequals(v, "close")) close_after_ = true;
        continue;
      }
      if (iequals(k, "Date")) have_date = true;
      res.insert(k, v);
    }
    if (!have_date) res.set(bhttp::field::date, http_date());
    // The body of a client waiting for "100 Continue" never came: the
    // connection cannot be reused.
    bool unsent_body = !body_done_ && expect_continue_ && !continue_sent_;
    keep_alive_ = parser_.get().keep_alive() && !close_after_ && !unsent_body;
    res.keep_alive(keep_alive_);
    return ok();
  }

  Error fail_read(const beast_error& ec) {
    broken_ = true;
    return Error{Errc::Io, ec.category() == boost::system::system_category() ? ec.value() : 0,
                 fmt::format("reading request body: {}", ec.message())};
  }
  Error fail_write(const beast_error& ec) {
    broken_ = true;
    return Error{Errc::Cancelled,
                 ec.category() == boost::system::system_category() ? ec.value() : 0,
                 fmt::format("client gone: {}", ec.message())};
  }

  Stream& stream_;
  boost::beast::flat_buffer& buf_;
  Parser& parser_;
  int fd_;
  bool tls_;
  int peer_uid_;
  std::string method_, target_, path_;
  unsigned version_ = 11;
  std::vector<std::pair<std::string, std::string>> query_;
  Headers headers_;
  bool head_ = false;
  bool expect_continue_ = false, continue_sent_ = false;
  bool body_done_ = false;
  bool responded_ = false, streaming_ = false, stream_ended_ = false, raw_stream_ = false;
  bool hijacked_ = false, broken_ = false, keep_alive_ = true, close_after_ = false;
};

template <class Stream>
void serve(Stream& stream, int fd, bool tls, int peer_uid, const Handler& handler,
           const std::atomic<bool>& stopping) {
  boost::beast::flat_buffer buf;
  while (!stopping) {
    Parser parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kNoBodyLimit);  // streamed; read_all_body has its own limit
    beast_error ec;
    bhttp::read_header(stream, buf, parser, ec);
    if (ec) {
      if (ec == bhttp::error::header_limit)
        write_raw_error(stream, 431, "Request Header Fields Too Large");
      else if (is_parse_error(ec) && ec != bhttp::error::end_of_stream &&
               ec != bhttp::error::partial_message)
        write_raw_error(stream, 400, "Bad Request");
      return;
    }
    Exchange<Stream> ex(stream, buf, parser, fd, tls, peer_uid);
    if (!ex.init()) {
      write_raw_error(stream, 400, "Bad Request");
      return;
    }
    try {
      handler(ex, ex);
    } catch (...) {
      // Handlers must not throw (berth's error model); a stray exception
      // still must not take the daemon down.
    }
    if (ex.hijacked()) return;
    ex.finish();
    if (!ex.reusable()) return;
  }
}

// The socket of one connection as seen by stop(): shut down under `mu`, and
// closed by the connection thread under the same mutex, so stop() never
// touches a descriptor number that was reused.
struct ConnRecord {
  std::thread thread;
  std::mutex mu;
  int fd = -1;
  std::atomic<bool> finished{false};
};

class ServerImpl final : public Server {
 public:
  explicit ServerImpl(Handler h) : handler_(std::move(h)) {}
  ~ServerImpl() override { stop(); }

  Result<void> init(const std::vector<Listener>& listeners) {
    wake_ = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) return sys_error("eventfd");
    for (const auto& l : listeners) {
      auto entry = std::make_unique<Entry>();
      entry->bound = BERTH_TRY(bind_listener(l));
      int fl = ::fcntl(entry->bound.fd.get(), F_GETFL);
      ::fcntl(entry->bound.fd.get(), F_SETFL, fl | O_NONBLOCK);
      if (entry->bound.tls)
        entry->ssl = BERTH_TRY_CTX(make_tls(*entry->bound.tls), entry->bound.address);
      listeners_.push_back(std::move(entry));
    }
    for (auto& e : listeners_) {
      Entry* p = e.get();
      e->thread = std::thread([this, p] { accept_loop(*p); });
    }
    return ok();
  }

  void stop() override {
    {
      std::lock_guard g(stop_mu_);
      if (stopped_) return;
      stopped_ = true;
    }
    stopping_ = true;
    if (wake_) {
      uint64_t one = 1;
      [[maybe_unused]] ssize_t n = ::write(wake_.get(), &one, sizeof one);
    }
    for (auto& e : listeners_)
      if (e->thread.joinable()) e->thread.join();
    for (auto& e : listeners_) {
      e->bound.fd.reset();
      struct stat st;
      const std::string& p = e->bound.unix_path;
      if (!p.empty() && ::lstat(p.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(p.c_str());
    }
    std::list<std::shared_ptr<ConnRecord>> all;
    {
      std::lock_guard g(mu_);
      all.swap(conns_);
    }
    for (auto& c : all) {
      std::lock_guard g(c->mu);
      if (c->fd >= 0) ::shutdown(c->fd, SHUT_RDWR);
    }
    for (auto& c : all) {
      if (!c->thread.joinable()) continue;
      // stop() called by a handler: its own thread ends when it returns.
      if (c->thread.get_id() == std::this_thread::get_id())
        c->thread.detach();
      else
        c->thread.join();
    }
  }

  std::vector<std::string> addresses() const override {
    std::vector<std::string> out;
    for (const auto& e : listeners_) out.push_back(e->bound.address);
    return out;
  }

  size_t open_connections() const override {
    std::lock_guard g(mu_);
    size_t n = 0;
    for (const auto& c : conns_)
      if (!c->finished) ++n;
    return n;
  }

 private:
  struct Entry {
    BoundListener bound;
    std::unique_ptr<asio::ssl::context> ssl;
    std::thread thread;
  };

  static Result<std::unique_ptr<asio::ssl::context>> make_tls(const TlsConfig& t) {
    if (t.cert_file.empty() || t.key_file.empty())
      return make_error(Errc::InvalidArgument, "TLS needs a certificate and a key file");
    try {
      auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
      beast_error ec;
      ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1,
                       ec);
      ctx->use_certificate_chain_file(t.cert_file, ec);
      if (ec)
        return make_error(Errc::InvalidArgument, "TLS certificate {}: {}", t.cert_file,
                          ec.message());
      ctx->use_private_key_file(t.key_file, asio::ssl::context::pem, ec);
      if (ec) return make_error(Errc::InvalidArgument, "TLS key {}: {}", t.key_file, ec.message());
      if (!t.ca_file.empty()) {
        ctx->load_verify_file(t.ca_file, ec);
        if (ec) return make_error(Errc::InvalidArgument, "TLS CA {}: {}", t.ca_file, ec.message());
        ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
      }
      return ctx;
    } catch (const std::exception& e) {
      return make_error(Errc::Internal, "TLS context: {}", e.what());
    }
  }

  void accept_loop(Entry& e) {
    while (!stopping_) {
      struct pollfd p[2] = {{e.bound.fd.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
      int r = ::poll(p, 2, -1);
      if (stopping_) return;
      if (r < 0) {
        if (errno == EINTR) continue;
        return;
      }
      reap();
      if (!(p[0].revents & POLLIN)) continue;
      int cfd = ::accept4(e.bound.fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (cfd < 0) {
        // Out of descriptors or memory: back off instead of spinning.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      spawn(e, cfd);
    }
  }

  // Joins the threads of finished connections (called by acceptors only).
  void reap() {
    std::list<std::shared_ptr<ConnRecord>> done;
    {
      std::lock_guard g(mu_);
      for (auto it = conns_.begin(); it != conns_.end();) {
        if ((*it)->finished) {
          done.push_back(*it);
          it = conns_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (auto& c : done)
      if (c->thread.joinable()) c->thread.join();
  }

  void spawn(Entry& e, int cfd) {
    int family = e.bound.family;
    int uid = -1;
    if (family == AF_UNIX) {
      struct ucred cred;
      socklen_t len = sizeof cred;
      if (::getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
        uid = static_cast<int>(cred.uid);
    } else {
      // Progress chunks are small and must not wait for Nagle.
      int one = 1;
      ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    auto rec = std::make_shared<ConnRecord>();
    rec->fd = cfd;
    std::lock_guard g(mu_);
    conns_.push_back(rec);
    try {
      rec->thread = std::thread([this, rec, family, uid, ssl = e.ssl.get()] {
        run_connection(*rec, family, uid, ssl);
        rec->finished = true;
      });
    } catch (...) {
      conns_.pop_back();
      ::close(cfd);
    }
  }

  void run_connection(ConnRecord& rec, int family, int uid, asio::ssl::context* ssl) {
    auto close_sock = [&rec](GenericSocket& s) {
      std::lock_guard g(rec.mu);
      rec.fd = -1;
      beast_error ec;
      s.close(ec);
    };
    bool socket_owns_fd = false;
    try {
      GenericSocket sock(ioc_);
      beast_error ec;
      sock.assign(asio::generic::stream_protocol(family, family == AF_UNIX ? 0 : IPPROTO_TCP),
                  rec.fd, ec);
      if (ec) {
        std::lock_guard g(rec.mu);
        ::close(rec.fd);
        rec.fd = -1;
        return;
      }
      socket_owns_fd = true;
      if (ssl) {
        TlsStream ts(std::move(sock), *ssl);
        ts.handshake(asio::ssl::stream_base::server, ec);
        if (!ec) serve(ts, rec.fd, true, uid, handler_, stopping_);
        close_sock(ts.next_layer());
      } else {
        serve(sock, rec.fd, false, uid, handler_, stopping_);
        close_sock(sock);
      }
    } catch (...) {
      // The socket's destructor closed the descriptor if it owned it.
      std::lock_guard g(rec.mu);
      if (rec.fd >= 0 && !socket_owns_fd) ::close(rec.fd);
      rec.fd = -1;
    }
  }

  Handler handler_;
  asio::io_context ioc_;
  std::vector<std::unique_ptr<Entry>> listeners_;
  Fd wake_;
  std::atomic<bool> stopping_{false};
  std::mutex stop_mu_;
  bool stopped_ = false;
  mutable std::mutex mu_;
  std::list<std::shared_ptr<ConnRecord>> conns_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const std::vector<Listener>& listeners,
                                              Handler handler) {
  if (listeners.empty()) return make_error(Errc::InvalidArgument, "no listen address");
  if (!handler) return make_error(Errc::InvalidArgument, "no handler");
  auto s = std::make_unique<ServerImpl>(std::move(handler));
  BERTH_TRY(s->init(listeners));
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace berth::http
