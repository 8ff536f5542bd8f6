// http/websocket.h — a websocket endpoint on a hijacked HTTP connection
// (Boost.Beast's websocket, kept out of this header), relaying binary
// messages to and from a plain stream descriptor. Used by
// /containers/{id}/attach/ws: the container's stream is a socketpair end.
// Depends on: base, Boost.Beast/Asio.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/fd.h"
#include "base/result.h"
#include "http/server.h"

namespace berth::http {

// Bytes from `peer` on their way to the websocket client; "" drops them.
using RelayFilter = std::function<std::string(std::string_view)>;

// Completes the websocket handshake for `req` (the upgrade request, whose
// headers carry Sec-WebSocket-Key) on `conn` (the hijacked connection and
// the bytes read past the request), then relays: each message from the
// client is written to `peer`; bytes read from `peer` are sent as binary
// messages (after `filter`, when set). Returns when either side closes or
// fails; both descriptors are closed then. A failed handshake answers 400
// (Beast's response) and returns InvalidArgument.
// Blocks the calling thread (the connection's own thread).
Result<void> serve_websocket_relay(const Request& req, Response::Hijacked conn, Fd peer,
                                   const RelayFilter& filter = nullptr);

}  // namespace berth::http
