#include "http/websocket.h"

#include "http/beast.h"
// beast.h comes first (it fixes the include order for asio on gcc 12).
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/beast/websocket.hpp>

namespace berth::http {

namespace websocket = boost::beast::websocket;

Result<void> serve_websocket_relay(const Request& req, Response::Hijacked conn, Fd peer,
                                   const RelayFilter& filter) {
  asio::io_context ioc;
  websocket::stream<asio::local::stream_protocol::socket> ws(ioc);
  beast_error ec;
  ws.next_layer().assign(asio::local::stream_protocol(), conn.fd.release(), ec);
  if (ec) return make_error(Errc::Io, "websocket: adopting the connection: {}", ec.message());
  // Beast parses the handshake itself: give it the request as it came on
  // the wire (rebuilt from the parsed one) and whatever followed it.
  std::string head = req.method() + " " + req.target() + " HTTP/1.1\r\n";
  for (const auto& [k, v] : req.headers()) head += k + ": " + v + "\r\n";
  head += "\r\n";
  head += conn.buffered;
  ws.accept(asio::buffer(head), ec);
  if (ec) return make_error(Errc::InvalidArgument, "websocket handshake: {}", ec.message());
  ws.binary(true);

  asio::posix::stream_descriptor pd(ioc);
  pd.assign(peer.release(), ec);
  if (ec) return make_error(Errc::Io, "websocket: adopting the peer: {}", ec.message());

  boost::beast::flat_buffer in;
  std::string out_chunk(32 * 1024, '\0');
  std::string pending;
  bool done = false;
  std::string failure;
  auto finish = [&](const std::string& why) {
    if (done) return;
    done = true;
    failure = why;
    beast_error ignored;
    pd.close(ignored);
    ws.next_layer().shutdown(asio::socket_base::shutdown_both, ignored);
    ioc.stop();
  };

  // client -> peer
  std::function<void()> read_ws = [&] {
    ws.async_read(in, [&](beast_error e, size_t) {
      if (e) return finish(e == websocket::error::closed ? "" : e.message());
      asio::async_write(pd, in.data(), [&](beast_error we, size_t n) {
        if (we) return finish(we.message());
        in.consume(n);
        read_ws();
      });
    });
  };
  // peer -> client
  std::function<void()> read_peer = [&] {
    pd.async_read_some(asio::buffer(out_chunk), [&](beast_error e, size_t n) {
      if (e) {
        // The container side ended: close the websocket politely.
        ws.async_close(websocket::close_code::normal, [&](beast_error) { finish(""); });
        return;
      }
      std::string_view data(out_chunk.data(), n);
      pending = filter ? filter(data) : std::string(data);
      if (pending.empty()) return read_peer();
      ws.async_write(asio::buffer(pending), [&](beast_error we, size_t) {
        if (we) return finish(we.message());
        read_peer();
      });
    });
  };
  read_ws();
  read_peer();
  ioc.run();
  if (!failure.empty()) return make_error(Errc::Io, "websocket relay: {}", failure);
  return ok();
}

}  // namespace berth::http
