// http/client.cc — the Beast client: one connection, keep-alive, chunked
// uploads, streamed response bodies, upgrade. See client.h.
#include "http/beast.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <memory>

#include "base/strings.h"
#include "http/client.h"
#include "http/listen.h"

namespace berth::http {
namespace {

constexpr size_t kBodyChunk = 64 * 1024;
// Larger declared bodies are read in chunks (memory grows with what arrives,
// not with what a server announces).
constexpr size_t kDirectBodyLimit = 8 * 1024 * 1024;
constexpr size_t kResponseHeaderLimit = 1 << 20;

std::string to_string(boost::beast::string_view s) { return std::string(s.data(), s.size()); }

bool has_header(const Headers& h, const char* name) { return h.find(name) != h.end(); }

struct Target {
  bool is_unix = false;
  std::string path;  // unix
  std::string host, port;
  bool tls = false;
};

Result<Target> parse_address(const ClientOptions& o) {
  std::string_view a = o.address;
  Target t;
  if (starts_with(a, "unix://")) {
    t.is_unix = true;
    t.path = std::string(a.substr(7));
    if (t.path.empty() || t.path.size() >= sizeof(sockaddr_un::sun_path))
      return make_error(Errc::InvalidArgument, "invalid unix socket path in {:?}", o.address);
    return t;
  }
  std::string_view rest;
  if (starts_with(a, "tcp://")) {
    rest = a.substr(6);
    t.tls = o.tls.has_value();
  } else if (starts_with(a, "https://")) {
    rest = a.substr(8);
    t.tls = true;
  } else if (starts_with(a, "http://")) {
    rest = a.substr(7);
  } else {
    return make_error(Errc::InvalidArgument,
                      "invalid daemon address {:?}: want unix://PATH or tcp://HOST:PORT",
                      o.address);
  }
  rest = rest.substr(0, rest.find('/'));
  if (rest.find(':') == std::string_view::npos || (rest.front() == '[' && rest.back() == ']')) {
    t.host = std::string(rest);
    if (!t.host.empty() && t.host.front() == '[') t.host = t.host.substr(1, t.host.size() - 2);
    t.port = t.tls ? "2376" : "2375";
  } else {
    auto hp = BERTH_TRY(split_host_port(rest));
    t.host = hp.first;
    t.port = hp.second;
  }
  if (t.host.empty()) t.host = "127.0.0.1";
  return t;
}

class ClientImpl final : public Client {
 public:
  ClientImpl(ClientOptions o, Target t) : opts_(std::move(o)), t_(std::move(t)) {}

  Result<void> init() {
    if (!t_.tls) return ok();
    try {
      ssl_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
      beast_error ec;
      ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1,
                        ec);
      if (opts_.tls && !opts_.tls->ca_file.empty()) {
        ssl_->load_verify_file(opts_.tls->ca_file, ec);
        if (ec)
          return make_error(Errc::InvalidArgument, "TLS CA {}: {}", opts_.tls->ca_file,
                            ec.message());
      } else {
        ssl_->set_default_verify_paths(ec);
      }
      if (opts_.tls && !opts_.tls->cert_file.empty()) {
        ssl_->use_certificate_chain_file(opts_.tls->cert_file, ec);
        if (ec)
          return make_error(Errc::InvalidArgument, "TLS certificate {}: {}", opts_.tls->cert_file,
                            ec.message());
        ssl_->use_private_key_file(opts_.tls->key_file, asio::ssl::context::pem, ec);
        if (ec)
          return make_error(Errc::InvalidArgument, "TLS key {}: {}", opts_.tls->key_file,
                            ec.message());
      }
      ssl_->set_verify_mode(asio::ssl::verify_peer, ec);
    } catch (const std::exception& e) {
      return make_error(Errc::Internal, "TLS context: {}", e.what());
    }
    return ok();
  }

  Result<ClientResponse> request(ClientRequest req) override {
    abandon_pending();
    for (int attempt = 0;; ++attempt) {
      bool fresh = false;
      if (!connected() || peer_closed()) {
        BERTH_TRY(connect());
        fresh = true;
      }
      bool retry_ok = false;
      auto r = exchange(req, retry_ok);
      // A kept-alive connection the server closed meanwhile fails before
      // any response byte: send once more on a new connection.
      if (r || attempt > 0 || fresh || !retry_ok) return r;
    }
  }

  Result<Upgraded> upgrade(ClientRequest req) override {
    abandon_pending();
    if (t_.tls) return make_error(Errc::NotImplemented, "upgrade over TLS is not supported");
    if (!has_header(req.headers, "Connection")) req.headers.emplace("Connection", "Upgrade");
    if (!has_header(req.headers, "Upgrade")) req.headers.emplace("Upgrade", "tcp");
    if (connected() && peer_closed()) disconnect();
    if (!connected()) BERTH_TRY(connect());
    req.body_source = nullptr;
    beast_error wec;
    BERTH_TRY(write_request(*sock_, req, wec));
    if (wec) return fail("sending request", wec);
    bhttp::response_parser<bhttp::buffer_body> p;
    p.body_limit(kNoBodyLimit);
    p.header_limit(kResponseHeaderLimit);
    BERTH_TRY(wait_readable());
    beast_error ec;
    reserve_read_buffer();
    bhttp::read_header(*sock_, buf_, p, ec);
    if (ec) return fail("reading upgrade response", ec);
    Upgraded up;
    fill_response(p, up.response);
    if (up.response.status != 101 && up.response.status != 200) {
      // An error (404, 409...): its body is the message; no connection.
      BERTH_TRY(read_body(*sock_, p, up.response, nullptr));
      if (!p.keep_alive()) disconnect();
      return up;
    }
    int nfd = ::fcntl(sock_->native_handle(), F_DUPFD_CLOEXEC, 3);
    if (nfd < 0) return sys_error("upgrade: dup");
    up.fd = Fd(nfd);
    auto d = buf_.data();
    up.buffered.assign(static_cast<const char*>(d.data()), d.size());
    disconnect();
    return up;
  }

  Result<ClientResponse> begin(ClientRequest req) override {
    abandon_pending();
    if (!connected() || peer_closed()) BERTH_TRY(connect());
    req.body_source = nullptr;
    pending_ = std::make_unique<bhttp::response_parser<bhttp::buffer_body>>();
    pending_->body_limit(kNoBodyLimit);
    pending_->header_limit(kResponseHeaderLimit);
    auto r = tls_ ? begin_on(*tls_, req) : begin_on(*sock_, req);
    if (!r) pending_.reset();
    return r;
  }

  Result<ClientResponse> finish() override {
    if (!pending_ || !connected())
      return make_error(Errc::Internal, "http client: finish() without begin()");
    auto p = std::move(pending_);
    ClientResponse out = std::move(pending_head_);
    pending_head_ = {};
    auto r = tls_ ? read_body(*tls_, *p, out, nullptr) : read_body(*sock_, *p, out, nullptr);
    if (!r) return std::move(r).error();
    if (!p->keep_alive()) disconnect();
    return out;
  }

 private:
  template <class Stream>
  Result<ClientResponse> begin_on(Stream& s, const ClientRequest& req) {
    beast_error wec;
    BERTH_TRY(write_request(s, req, wec));
    if (wec) return fail("sending request", wec);
    BERTH_TRY(wait_readable());
    beast_error ec;
    reserve_read_buffer();
    bhttp::read_header(s, buf_, *pending_, ec);
    if (ec) return fail("reading response", ec);
    fill_response(*pending_, pending_head_);
    return pending_head_;  // a copy: finish() completes the stored one
  }

  // A begun exchange whose body was never read leaves the connection
  // mid-response: it cannot carry another request.
  void abandon_pending() {
    if (!pending_) return;
    pending_.reset();
    pending_head_ = {};
    disconnect();
  }

  bool connected() const { return sock_ || tls_; }
  int native_fd() { return tls_ ? tls_->next_layer().native_handle() : sock_->native_handle(); }

  // The server closed an idle kept-alive connection (EOF pending).
  bool peer_closed() {
    char c;
    ssize_t r = ::recv(native_fd(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0) return true;
    if (r < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    return false;
  }

  // Beast reads into the free space of buf_, which stays at its first 512
  // bytes once bodies are consumed: a 20 KB answer took 40 recv calls.
  void reserve_read_buffer() {
    if (buf_.capacity() < 64 * 1024) buf_.reserve(64 * 1024);
  }

  void disconnect() {
    beast_error ec;
    if (tls_) tls_->next_layer().close(ec);
    if (sock_) sock_->close(ec);
    tls_.reset();
    sock_.reset();
    buf_.clear();
  }

  Error unavailable(const beast_error& ec) {
    return Error{Errc::Unavailable,
                 ec.category() == boost::system::system_category() ? ec.value() : 0,
                 fmt::format("Cannot connect to the berth daemon at {}: {}. Is the berth daemon "
                             "running?",
                             opts_.address, ec.message())};
  }

  Error fail(std::string_view what, const beast_error& ec) {
    disconnect();
    return Error{Errc::Io, ec.category() == boost::system::system_category() ? ec.value() : 0,
                 fmt::format("{} from {}: {}", what, opts_.address, ec.message())};
  }

  Result<void> connect() {
    disconnect();
    beast_error ec;
    auto sock = std::make_unique<GenericSocket>(ioc_);
    if (t_.is_unix) {
      asio::local::stream_protocol::endpoint ep(t_.path);
      sock->connect(asio::generic::stream_protocol::endpoint(ep), ec);
      if (ec) return unavailable(ec);
    } else {
      asio::ip::tcp::resolver resolver(ioc_);
      auto results = resolver.resolve(t_.host, t_.port, ec);
      if (ec) return unavailable(ec);
      ec = asio::error::host_not_found;
      for (const auto& entry : results) {
        sock = std::make_unique<GenericSocket>(ioc_);
        sock->connect(asio::generic::stream_protocol::endpoint(entry.endpoint()), ec);
        if (!ec) break;
      }
      if (ec) return unavailable(ec);
      int one = 1;
      ::setsockopt(sock->native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    if (!t_.tls) {
      sock_ = std::move(sock);
      return ok();
    }
    auto ts = std::make_unique<TlsStream>(std::move(*sock), *ssl_);
    beast_error ip_ec;
    asio::ip::make_address(t_.host, ip_ec);
    // SNI only for names (RFC 6066 forbids IP literals there).
    if (ip_ec) SSL_set_tlsext_host_name(ts->native_handle(), t_.host.c_str());
    ts->set_verify_callback(asio::ssl::host_name_verification(t_.host), ec);
    ts->handshake(asio::ssl::stream_base::client, ec);
    if (ec)
      return Error{Errc::Unavailable, 0,
                   fmt::format("Cannot connect to the berth daemon at {}: TLS: {}", opts_.address,
                               ec.message())};
    tls_ = std::move(ts);
    return ok();
  }

  Result<void> wait_readable() {
    if (opts_.timeout_seconds <= 0 || buf_.size() > 0) return ok();
    if (tls_ && SSL_pending(tls_->native_handle()) > 0) return ok();
    struct pollfd p = {native_fd(), POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, opts_.timeout_seconds * 1000);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      disconnect();
      return make_error(Errc::DeadlineExceeded, "no answer from {} within {} s", opts_.address,
                        opts_.timeout_seconds);
    }
    return ok();
  }

  template <class Msg>
  void add_headers(Msg& r, const ClientRequest& req) {
    r.version(11);
    r.method_string(req.method);
    r.target(req.target);
    for (const auto& [k, v] : req.headers) r.insert(k, v);
    if (!has_header(req.headers, "Host"))
      r.set(bhttp::field::host, t_.is_unix ? std::string("localhost") : t_.host + ":" + t_.port);
  }

  // Socket errors land in `ec` (the server may have answered early, e.g. a
  // 413 to an upload, and closed: the caller still reads that response);
  // an error of body_source is returned (and the connection dropped).
  template <class Stream>
  Result<void> write_request(Stream& s, const ClientRequest& req, beast_error& ec) {
    if (req.body_source) {
      bhttp::request<bhttp::empty_body> r;
      add_headers(r, req);
      r.chunked(true);
      bhttp::request_serializer<bhttp::empty_body> sr{r};
      bhttp::write_header(s, sr, ec);
      while (!ec) {
        auto chunk = req.body_source();
        if (!chunk) {
          disconnect();  // the body is incomplete: this connection is unusable
          return std::move(chunk).error();
        }
        if (chunk->empty()) {
          asio::write(s, bhttp::make_chunk_last(), ec);
          break;
        }
        asio::write(s, bhttp::make_chunk(asio::buffer(chunk->data(), chunk->size())), ec);
      }
      return ok();
    }
    bhttp::request<bhttp::buffer_body> r;
    add_headers(r, req);
    bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (!req.body.empty() || body_method) r.content_length(req.body.size());
    r.body().data = req.body.empty() ? nullptr : const_cast<char*>(req.body.data());
    r.body().size = req.body.size();
    r.body().more = false;
    bhttp::write(s, r, ec);
    return ok();
  }

  static void fill_response(bhttp::response_parser<bhttp::buffer_body>& p, ClientResponse& out) {
    out.status = static_cast<int>(p.get().result_int());
    for (const auto& f : p.get())
      out.headers.emplace(to_string(f.name_string()), to_string(f.value()));
  }

  template <class Stream>
  Result<void> read_body(Stream& s, bhttp::response_parser<bhttp::buffer_body>& p,
                         ClientResponse& out,
                         const std::function<Result<void>(std::string_view)>& on_chunk) {
    // A body of known length is read straight into out.body (sized once: no
    // regrowth, no copy); otherwise through a chunk buffer, left
    // uninitialised (pages of it that a short body never reaches are never
    // touched).
    if (!on_chunk && p.content_length() && *p.content_length() <= kDirectBodyLimit) {
      size_t len = static_cast<size_t>(*p.content_length());
      out.body.resize(len);
      size_t got = 0;
      while (!p.is_done() && got < len) {
        auto& body = p.get().body();
        body.data = out.body.data() + got;
        body.size = len - got;
        BERTH_TRY(wait_readable());
        beast_error ec;
        bhttp::read_some(s, buf_, p, ec);
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) return fail("reading response body", ec);
        got = len - body.size;
        body.data = nullptr;
      }
      out.body.resize(got);
      return ok();
    }
    std::unique_ptr<char[]> chunk_buf(new char[kBodyChunk]);
    while (!p.is_done()) {
      auto& body = p.get().body();
      body.data = chunk_buf.get();
      body.size = kBodyChunk;
      BERTH_TRY(wait_readable());
      beast_error ec;
      bhttp::read_some(s, buf_, p, ec);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) return fail("reading response body", ec);
      size_t n = kBodyChunk - body.size;
      body.data = nullptr;
      if (n == 0) continue;
      if (on_chunk) {
        auto r = on_chunk(std::string_view(chunk_buf.get(), n));
        if (!r) {
          disconnect();  // the rest of the body is unread
          return r;
        }
      } else {
        out.body.append(chunk_buf.get(), n);
      }
    }
    return ok();
  }

  template <class Stream>
  Result<ClientResponse> exchange_on(Stream& s, const ClientRequest& req, bool& retry_ok) {
    beast_error wec;
    BERTH_TRY(write_request(s, req, wec));
    bhttp::response_parser<bhttp::buffer_body> p;
    p.body_limit(kNoBodyLimit);
    p.header_limit(kResponseHeaderLimit);
    if (req.method == "HEAD") p.skip(true);
    BERTH_TRY(wait_readable());
    beast_error ec;
    reserve_read_buffer();
    bhttp::read_header(s, buf_, p, ec);
    if (ec) {
      // Nothing came back: on a reused connection the server had closed it.
      retry_ok = !req.body_source &&
                 (wec || ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                  ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
      if (wec) return fail("sending request", wec);
      return fail("reading response", ec);
    }
    ClientResponse out;
    fill_response(p, out);
    BERTH_TRY(read_body(s, p, out, req.on_chunk));
    if (wec || !p.keep_alive()) disconnect();
    return out;
  }

  Result<ClientResponse> exchange(const ClientRequest& req, bool& retry_ok) {
    if (tls_) return exchange_on(*tls_, req, retry_ok);
    return exchange_on(*sock_, req, retry_ok);
  }

  ClientOptions opts_;
  Target t_;
  asio::io_context ioc_;
  std::unique_ptr<asio::ssl::context> ssl_;
  std::unique_ptr<GenericSocket> sock_;
  std::unique_ptr<TlsStream> tls_;
  boost::beast::flat_buffer buf_;
  // The exchange begin() started and finish() has not read yet.
  std::unique_ptr<bhttp::response_parser<bhttp::buffer_body>> pending_;
  ClientResponse pending_head_;
};

}  // namespace

Result<std::unique_ptr<Client>> Client::create(ClientOptions opts) {
  Target t = BERTH_TRY(parse_address(opts));
  auto c = std::make_unique<ClientImpl>(std::move(opts), std::move(t));
  BERTH_TRY(c->init());
  return std::unique_ptr<Client>(std::move(c));
}

}  // namespace berth::http
