// dashboard/security.h — who may talk to the dashboard listener.
//
// The dashboard is an HTTP port that drives a root daemon, and any web page
// the user visits can make the browser send requests to it. The defences:
//  - Host: on a loopback listener (no token) the Host header must name the
//    listener itself (localhost, 127.0.0.1, [::1] or the listen host, with
//    the listen port), so a DNS-rebinding page (evil.example resolving to
//    127.0.0.1) is refused.
//  - Origin: when a browser sends one it must be http://<Host>: a cross-site
//    fetch or form post is refused even if it reaches the port.
//  - Every /api request carries "X-Berth-Dashboard: 1": a cross-site page
//    cannot add a custom header without a CORS preflight, and berthd never
//    answers one with allow headers. Websocket upgrades cannot carry custom
//    headers: they must carry a matching Origin instead.
//  - A listener that is not loopback requires a token (cookie or bearer).
// Depends on: base.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace berth::dashboard {

// Compares in time that depends only on the lengths, never on where the
// first difference is (a timing oracle would reveal the token byte by byte).
bool constant_time_equal(std::string_view a, std::string_view b);

// 127.0.0.0/8, ::1, "localhost". Anything else (0.0.0.0, ::, a LAN address,
// a name) is reachable from other hosts and needs the token.
bool is_loopback_host(std::string_view host);

// The Host header values a browser sends for a listener on host:port
// ("localhost:9000", "127.0.0.1:9000", "[::1]:9000" and the listen host).
std::vector<std::string> allowed_hosts(std::string_view listen_host, std::string_view port);

// Value of cookie `name` in a Cookie header ("a=1; berth_token=x").
std::optional<std::string> cookie_value(std::string_view cookie_header, std::string_view name);

// "Bearer TOKEN" -> TOKEN.
std::optional<std::string> bearer_token(std::string_view authorization);

// 32 random bytes (getrandom(2)) as 64 hex digits.
Result<std::string> random_token();

// The token in `path` when it holds one; otherwise a new random token is
// written there (mode 0600, temp -> fsync -> rename) and returned. A file
// that is not a 64-hex-digit token is replaced.
Result<std::string> load_or_create_token(const std::string& path);

}  // namespace berth::dashboard
