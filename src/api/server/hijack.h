// api/server/hijack.h — docker's hijacked streams (attach, exec start): the
// connection is taken from the HTTP server and answered by hand with
//   HTTP/1.1 101 UPGRADED + Content-Type + Connection: Upgrade + Upgrade: tcp
// when the client asked to upgrade, or "HTTP/1.1 200 OK" + raw-stream
// otherwise (docker-py's plain form), plus the usual API headers. The
// stream is multiplexed unless there is a TTY; the Content-Type says so
// from API 1.42 on. Internal to api/server.
#pragma once

#include <functional>
#include <string_view>

#include "api/server/context.h"

namespace berth::api::server {

// Hijacks c's connection and writes the header. Errors before the hijack
// (TLS connection: NotImplemented) leave the response to the caller.
Result<http::Response::Hijacked> hijack_stream(Ctx& c, bool tty);

// Writes all of data to a blocking socket (no SIGPIPE).
Result<void> write_all(int fd, std::string_view data);

// After a failed engine call on a hijacked connection: docker writes the
// message into the stream (framed on stdout without a TTY) and closes it.
void write_stream_error(int fd, bool tty, const Error& e);

// The websocket forms (attach/ws, exec start/ws): `start` gets one end of a
// socketpair as the engine's "connection"; this thread hijacks c's
// connection, completes the websocket handshake and relays between the
// other end and the client until either side closes. Websocket clients get
// raw bytes (docker does not multiplex them), so without a TTY the stdcopy
// frames are unwrapped. A failed `start` closes the connection (logged as
// `what`); errors before the hijack are answered normally.
void relay_websocket(Ctx& c, bool tty, std::string_view what,
                     const std::function<Result<void>(Fd engine_end)>& start);

}  // namespace berth::api::server
