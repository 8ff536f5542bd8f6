// registry/curl_easy.h — one HTTP exchange over a libcurl easy handle.
//
// perform() sends one request and returns the response; it never follows
// redirects (the caller does, so it can drop Authorization across hosts) and
// never retries. A response body goes to `sink` when the status is 2xx and a
// sink is set, otherwise it is kept in Response::body (bounded). Transport
// failures come back as Errc::Unavailable (retryable), a cancelled transfer
// as Errc::Cancelled, a sink error as itself.
// Connections, DNS and TLS sessions are shared between requests through one
// process-wide curl share handle, so sequential requests reuse connections.
// libcurl is loaded on the first call (registry/curl_api.h); when it cannot
// be, perform() and resolve_url() fail with FailedPrecondition and
// url_authority() returns "".
// Internal to registry/.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::registry::detail {

struct Response;

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent for POST/PUT/PATCH
  bool has_body = false;
  bool head = false;  // HEAD: no body expected
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds low_speed_time{60};
  std::string user_agent;
  // 2xx body bytes go here when set (blob download); on_start sees the
  // response (status, headers) once, before the first 2xx byte reaches sink.
  std::function<Result<void>(std::string_view)> sink;
  std::function<Result<void>(const Response&)> on_start;
  const std::atomic<bool>* cancel = nullptr;
  size_t max_body = size_t{16} << 20;  // cap on a kept (non-sink) body
};

struct Response {
  long status = 0;
  // Lowercased names; a repeated header keeps every value in order.
  std::multimap<std::string, std::string> headers;
  std::string body;
  bool body_truncated = false;
  int64_t sink_bytes = 0;  // bytes handed to the sink

  // First value of a header (lowercase name), "" when absent.
  std::string header(std::string_view name) const;
};

Result<Response> perform(const Request& req);

// Resolves `ref` (absolute or relative URL, as in Location) against `base`.
Result<std::string> resolve_url(const std::string& base, const std::string& ref);
// "host" or "host:port" part of a URL (lowercased host), "" when unparsable.
std::string url_authority(const std::string& url);
// Percent-encodes a query value.
std::string url_escape(std::string_view s);

}  // namespace berth::registry::detail
