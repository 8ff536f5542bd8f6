// http/beast.h — the one place Boost.Beast/Asio are included (server.cc and
// client.cc only: each such TU costs ~10 s to compile).
#pragma once

// Boost 1.74's asio uses std::exchange without including <utility> (gcc 12,
// -std=c++20): it must come first.
#include <utility>

#include <cstdint>
#include <limits>

#include <boost/asio/connect.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace berth::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using beast_error = boost::system::error_code;
// Unix and TCP connections share one socket type: the family is a runtime
// property of the generic stream protocol.
using GenericSocket = asio::generic::stream_protocol::socket;
using TlsStream = asio::ssl::stream<GenericSocket>;

// "No body limit". Not boost::none: Boost 1.74's basic_parser compares the
// Content-Length with the optional limit as `len_ > body_limit_`, which is
// true for an empty optional, so none refuses every Content-Length body.
inline constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();

}  // namespace berth::http
