#include "dashboard/dashboard.h"

#include "base/ascii.h"
#include "base/json.h"
#include "base/log.h"
#include "base/strings.h"
#include "dashboard/forward.h"
#include "dashboard/security.h"
#include "http/status.h"

namespace berth::dashboard {

namespace {

http::Headers security_headers(const std::string& host) {
  // connect-src names ws:/wss: explicitly: browsers before CSP level 3 do
  // not let 'self' cover websockets to the same host.
  std::string csp = fmt::format(
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
      "img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws://{0} wss://{0}; "
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      host);
  return http::Headers{{"Content-Security-Policy", csp},
                       {"X-Content-Type-Options", "nosniff"},
                       {"X-Frame-Options", "DENY"},
                       {"Referrer-Policy", "no-referrer"},
                       {"Cross-Origin-Resource-Policy", "same-origin"}};
}

void send_json(http::Response& res, const http::Headers& sec, int status, const Json& body) {
  http::Headers h = sec;
  h.emplace("Content-Type", "application/json");
  h.emplace("Cache-Control", "no-store");
  [[maybe_unused]] auto r = res.send(status, h, dump_json(body) + "\n");
}

void send_message(http::Response& res, const http::Headers& sec, int status,
                  std::string_view message) {
  send_json(res, sec, status, Json{{"message", message}});
}

// The Engine API's mapping, plus FailedPrecondition (a setting that cannot
// change here: set by a flag, autostart without systemd) as a conflict.
int status_of(Errc c) { return c == Errc::FailedPrecondition ? 409 : http::status_for_errc(c); }

constexpr std::string_view kNotInstalledPage =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>berth</title></head>\n"
    "<body><h1>The berth dashboard is not installed</h1>\n"
    "<p>berthd is running and serves its API under /api/, but it found no dashboard files "
    "(index.html). Build them (the <code>dashboard</code> target), install berth with "
    "<code>cmake --install</code>, or point berthd at them with <code>--dashboard-dir</code> "
    "or <code>BERTH_DASHBOARD_DIR</code>.</p></body></html>\n";

}  // namespace

Result<std::unique_ptr<Dashboard>> Dashboard::create(DashboardOptions o) {
  std::string_view a = o.listen_address;
  if (!starts_with(a, "tcp://"))
    return make_error(Errc::InvalidArgument, "dashboard address {:?}: want tcp://HOST:PORT",
                      o.listen_address);
  a.remove_prefix(6);
  std::string host, port;
  if (!a.empty() && a.front() == '[') {
    auto close = a.find("]:");
    if (close == std::string_view::npos)
      return make_error(Errc::InvalidArgument, "dashboard address {:?}: want [v6]:port",
                        o.listen_address);
    host = std::string(a.substr(1, close - 1));
    port = std::string(a.substr(close + 2));
  } else {
    auto colon = a.rfind(':');
    if (colon == std::string_view::npos)
      return make_error(Errc::InvalidArgument, "dashboard address {:?}: want HOST:PORT",
                        o.listen_address);
    host = std::string(a.substr(0, colon));
    port = std::string(a.substr(colon + 1));
  }
  if (!parse_int(port))
    return make_error(Errc::InvalidArgument, "dashboard address {:?}: bad port", o.listen_address);
  std::unique_ptr<Dashboard> d(new Dashboard(std::move(o)));
  d->hosts_ = allowed_hosts(host, port);
  if (!d->o_.files_dir.empty()) {
    auto files = StaticFiles::open(d->o_.files_dir);
    if (files)
      d->files_.emplace(std::move(*files));
    else
      log_warn("dashboard: {}", files.error().message);
  }
  return d;
}

bool Dashboard::authenticated(const http::Request& req) const {
  if (o_.token.empty()) return true;
  if (auto c = req.header("Cookie"))
    if (auto v = cookie_value(*c, kTokenCookie); v && constant_time_equal(*v, o_.token))
      return true;
  if (auto a = req.header("Authorization"))
    if (auto v = bearer_token(*a); v && constant_time_equal(*v, o_.token)) return true;
  return false;
}

void Dashboard::handle(http::Request& req, http::Response& res) {
  std::string host = req.header("Host").value_or("");
  http::Headers sec = security_headers(host.empty() ? "localhost" : host);
  bool host_ok = !host.empty();
  if (o_.token.empty()) {
    // No token: the Host check is what stops DNS rebinding.
    host_ok = false;
    for (const auto& h : hosts_) host_ok = host_ok || iequals(h, host);
  }
  if (!host_ok) {
    log_debug("dashboard: refused Host {:?}", host);
    return send_message(res, sec, 421,
                        fmt::format("Host {:?} is not this dashboard; open it as "
                                    "http://localhost:PORT/",
                                    host));
  }
  if (auto origin = req.header("Origin"); origin && *origin != "http://" + host) {
    log_debug("dashboard: refused Origin {:?} for Host {:?}", *origin, host);
    return send_message(res, sec, 403, "cross-origin request refused");
  }
  const std::string& path = req.path();
  if (path == "/login") return serve_login(req, res, sec);
  if (path == "/api" || starts_with(path, "/api/")) return serve_api(req, res, sec);
  serve_static(req, res, sec);
}

void Dashboard::serve_login(http::Request& req, http::Response& res, const http::Headers& sec) {
  if (req.method() != "POST") return send_message(res, sec, 405, "use POST /login");
  auto body = req.read_all_body(4096);
  if (!body) return send_message(res, sec, 400, body.error().message);
  auto j = parse_json(*body, "login");
  if (!j || !j->is_object() || !j->contains("token") || !(*j)["token"].is_string())
    return send_message(res, sec, 400, "expected {\"token\": \"...\"}");
  std::string token = (*j)["token"].get<std::string>();
  if (o_.token.empty()) {
    [[maybe_unused]] auto r = res.send(204, sec, "");
    return;
  }
  if (!constant_time_equal(token, o_.token)) {
    log_info("dashboard: failed login");
    return send_message(res, sec, 401, "invalid token");
  }
  http::Headers h = sec;
  h.emplace("Set-Cookie",
            fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/", kTokenCookie, o_.token));
  h.emplace("Cache-Control", "no-store");
  [[maybe_unused]] auto r = res.send(204, h, "");
}

void Dashboard::serve_api(http::Request& req, http::Response& res, const http::Headers& sec) {
  bool websocket = iequals(req.header("Upgrade").value_or(""), "websocket");
  bool marked = req.header(kDashboardHeader).value_or("") == "1";
  // A browser adds no custom header to a websocket handshake but always
  // sends Origin, which handle() has already compared with the Host.
  if (!marked && !(websocket && req.header("Origin")))
    return send_message(res, sec, 403,
                        websocket ? "websocket upgrade without Origin refused"
                                  : "missing X-Berth-Dashboard: 1 header");
  std::string rest = req.path().substr(4);
  if (rest.empty()) rest = "/";
  if (rest == "/berth/session") {
    return send_json(
        res, sec, 200,
        Json{{"login_required", !o_.token.empty()}, {"authenticated", authenticated(req)}});
  }
  if (!authenticated(req)) return send_message(res, sec, 401, "login required");
  if (rest == "/berth/settings") return serve_settings(req, res, sec);
  if (starts_with(rest, "/berth/")) return send_message(res, sec, 404, "page not found");
  if (!o_.api) return send_message(res, sec, 503, "the engine API is not available");
  // The raw target keeps its percent-encoding; only an "/api" spelled
  // plainly can be cut from it.
  const std::string& target = req.target();
  if (!starts_with(target, "/api")) return send_message(res, sec, 400, "invalid request target");
  std::string new_target = target.substr(4);
  if (new_target.empty() || new_target[0] != '/') new_target.insert(0, "/");
  ForwardedRequest fwd(req, new_target, rest);
  HeaderAddingResponse out(res, sec);
  o_.api(fwd, out);
}

void Dashboard::serve_settings(http::Request& req, http::Response& res, const http::Headers& sec) {
  if (!o_.settings.get || !o_.settings.apply)
    return send_message(res, sec, 501, "settings are not available");
  if (req.method() == "GET") return send_json(res, sec, 200, encode_settings(o_.settings.get()));
  if (req.method() != "PUT") return send_message(res, sec, 405, "use GET or PUT");
  auto body = req.read_all_body(64 << 10);
  if (!body) return send_message(res, sec, 400, body.error().message);
  auto patch = decode_settings_patch(*body);
  if (!patch) return send_message(res, sec, 400, patch.error().message);
  auto applied = o_.settings.apply(*patch);
  if (!applied) {
    log_warn("dashboard: settings: {}", applied.error().message);
    return send_message(res, sec, status_of(applied.error().code), applied.error().message);
  }
  send_json(res, sec, 200, encode_settings(*applied));
}

void Dashboard::serve_static(http::Request& req, http::Response& res, const http::Headers& sec) {
  if (req.method() != "GET" && req.method() != "HEAD") {
    http::Headers h = sec;
    h.emplace("Allow", "GET, HEAD");
    h.emplace("Content-Type", "text/plain; charset=utf-8");
    [[maybe_unused]] auto r = res.send(405, h, "method not allowed\n");
    return;
  }
  if (!files_) {
    http::Headers h = sec;
    h.emplace("Content-Type", "text/html; charset=utf-8");
    h.emplace("Cache-Control", "no-cache");
    [[maybe_unused]] auto r = res.send(503, h, kNotInstalledPage);
    return;
  }
  auto f = files_->lookup(req.path(), accepts_gzip(req.header("Accept-Encoding").value_or("")));
  if (!f) {
    if (f.error().code != Errc::NotFound && f.error().code != Errc::InvalidArgument)
      log_warn("dashboard: {}: {}", req.path(), f.error().message);
    http::Headers h = sec;
    h.emplace("Content-Type", "text/plain; charset=utf-8");
    [[maybe_unused]] auto r = res.send(404, h, "404 page not found\n");
    return;
  }
  http::Headers h = sec;
  h.emplace("Content-Type", f->content_type);
  h.emplace("Cache-Control", f->cache_control);
  h.emplace("Vary", "Accept-Encoding");
  if (f->gzip) h.emplace("Content-Encoding", "gzip");
  [[maybe_unused]] auto r = res.send(200, h, f->body);
}

}  // namespace berth::dashboard
