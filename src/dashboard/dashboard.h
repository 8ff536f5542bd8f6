// dashboard/dashboard.h — berthd's web dashboard listener: the UI's static
// files, the Engine API under /api (the same handler as the unix socket),
// the login, and berth's own /api/berth/* endpoints.
//
// Requests, in order (see security.h for why):
//   1. Host: refused with 421 unless it names this listener (loopback
//      listeners; with a token any Host is accepted, the token guards).
//   2. Origin: when present it must be http://<Host>, else 403.
//   3. POST /login {"token": "..."} -> 204 + Set-Cookie berth_token (HttpOnly,
//      SameSite=Strict, Path=/); wrong token 401 {"message":"invalid token"}.
//   4. /api/...: needs "X-Berth-Dashboard: 1" (403 without), except a
//      websocket upgrade, which needs a (matching) Origin instead.
//      /api/berth/session answers {"login_required", "authenticated"}; with a
//      token every other /api request needs the cookie or "Authorization:
//      Bearer TOKEN" (401 {"message":"login required"}). /api/berth/settings
//      GET/PUT go to SettingsHooks; anything else is forwarded to the Engine
//      API handler with "/api" stripped from target and path.
//   5. Everything else is a static file (static_files.h); without files,
//      503 with a page that says the dashboard files are not installed.
// Every response carries Content-Security-Policy (no inline script,
// connect-src 'self' ws://HOST wss://HOST), X-Content-Type-Options nosniff,
// X-Frame-Options DENY, Referrer-Policy no-referrer; never CORS headers.
// Thread-safety: handle() runs concurrently on the connection threads.
// Depends on: base, sys, http.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/result.h"
#include "dashboard/settings.h"
#include "dashboard/static_files.h"
#include "http/server.h"

namespace berth::dashboard {

inline constexpr const char* kTokenCookie = "berth_token";
inline constexpr const char* kDashboardHeader = "X-Berth-Dashboard";

struct DashboardOptions {
  // The listener as bound ("tcp://127.0.0.1:9000"): its host and port are
  // the Host values accepted on a loopback listener.
  std::string listen_address;
  std::string files_dir;  // "" = the UI is not installed (503 page)
  std::string token;      // "" = no login (loopback listener)
  http::Handler api;      // the Engine API (api::server::Router)
  SettingsHooks settings;
};

class Dashboard {
 public:
  // InvalidArgument for a listen address that is not tcp://HOST:PORT; a
  // files_dir that cannot be opened is logged and served as "not installed".
  static Result<std::unique_ptr<Dashboard>> create(DashboardOptions o);
  void handle(http::Request& req, http::Response& res);
  http::Handler handler() {
    return [this](http::Request& q, http::Response& r) { handle(q, r); };
  }
  bool files_installed() const { return files_.has_value(); }

 private:
  explicit Dashboard(DashboardOptions o) : o_(std::move(o)) {}
  void serve_api(http::Request& req, http::Response& res, const http::Headers& sec);
  void serve_login(http::Request& req, http::Response& res, const http::Headers& sec);
  void serve_settings(http::Request& req, http::Response& res, const http::Headers& sec);
  void serve_static(http::Request& req, http::Response& res, const http::Headers& sec);
  bool authenticated(const http::Request& req) const;

  DashboardOptions o_;
  std::vector<std::string> hosts_;  // accepted Host values (loopback mode)
  std::optional<StaticFiles> files_;
};

}  // namespace berth::dashboard
