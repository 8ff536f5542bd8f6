// The dashboard listener over a real http::Server on 127.0.0.1: what a
// browser on the same machine may do, and what a cross-site page, a
// DNS-rebinding page or a request without the dashboard header may not.
#include "dashboard/dashboard.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "base/ascii.h"
#include "base/strings.h"
#include "http/test_util.h"

namespace berth::dashboard {
namespace {

namespace fs = std::filesystem;

struct Reply {
  int status = 0;
  std::string head, body;
  std::string header(const std::string& name) const {
    std::string lower_head = ascii_lower(head), key = ascii_lower("\r\n" + name + ":");
    auto at = lower_head.find(key);
    if (at == std::string::npos) return "";
    auto start = at + key.size();
    auto end = head.find("\r\n", start);
    return std::string(trim(head.substr(start, end - start)));
  }
};

// The API handler's stand-in: records what reached it.
struct FakeApi {
  std::mutex mu;
  std::string target, path, method;
  int calls = 0;
  http::Handler handler() {
    return [this](http::Request& q, http::Response& r) {
      std::lock_guard lk(mu);
      ++calls;
      target = q.target();
      path = q.path();
      method = q.method();
      [[maybe_unused]] auto s = r.send(200, {{"Content-Type", "application/json"}}, "{\"ok\":1}");
    };
  }
};

class DashboardTest : public ::testing::Test {
 protected:
  void start(const std::string& token, bool with_files = true,
             const std::string& bind = "127.0.0.1") {
    dir_ = tmp_.path() + "/dist";
    fs::create_directories(dir_ + "/assets");
    std::ofstream(dir_ + "/index.html") << "<html>ui</html>";
    std::ofstream(dir_ + "/assets/app-1.js") << "js()";
    std::ofstream(dir_ + "/assets/app-1.js.gz") << "GZ";
    std::ofstream(tmp_.path() + "/secret") << "SECRET";
    fs::create_symlink("../../secret", dir_ + "/assets/leak.js");
    auto s =
        http::Server::start({http::testing::listener("tcp://" + bind + ":0")},
                            [this](http::Request& q, http::Response& r) { dash_->handle(q, r); });
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
    address_ = server_->addresses()[0];
    port_ = address_.substr(address_.rfind(':') + 1);
    DashboardOptions o;
    o.listen_address = address_;
    o.files_dir = with_files ? dir_ : "";
    o.token = token;
    o.api = api_.handler();
    o.settings.get = [this] {
      std::lock_guard lk(settings_mu_);
      return settings_;
    };
    o.settings.apply = [this](const SettingsPatch& p) -> Result<Settings> {
      std::lock_guard lk(settings_mu_);
      ++applies_;
      if (p.log_opts && p.log_opts->count("max-size") && p.log_opts->at("max-size") == "huge")
        return make_error(Errc::InvalidArgument, "log-opts: max-size must be a number");
      if (p.log_opts) settings_.log_opts = *p.log_opts;
      if (p.registry_mirrors) settings_.registry_mirrors = *p.registry_mirrors;
      return settings_;
    };
    dash_ = std::move(Dashboard::create(o).value());
  }
  void TearDown() override {
    if (server_) server_->stop();
  }

  // One request on its own connection, exactly as written (raw target, any
  // Host or none).
  Reply raw(const std::string& method, const std::string& target, std::vector<std::string> headers,
            const std::string& body = "", const std::string& host = "") {
    Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::stoi(port_)));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    std::string req = method + " " + target + " HTTP/1.1\r\n";
    if (host != "-") req += "Host: " + (host.empty() ? "127.0.0.1:" + port_ : host) + "\r\n";
    for (const auto& h : headers) req += h + "\r\n";
    req += "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    req += body;
    http::testing::send_all(fd.get(), req);
    // Until the body is complete: an upgrade request keeps the connection
    // open after its answer.
    std::string got;
    while (true) {
      std::string more = http::testing::recv_some(fd.get(), 65536, std::chrono::milliseconds(200));
      got += more;
      auto end = got.find("\r\n\r\n");
      if (more.empty() && (end != std::string::npos || got.empty())) break;
      if (end == std::string::npos) continue;
      Reply partial;
      partial.head = got.substr(0, end);
      auto len = partial.header("Content-Length");
      if (!len.empty() && got.size() - end - 4 >= std::stoul(len)) break;
    }
    Reply r;
    auto split_at = got.find("\r\n\r\n");
    r.head = got.substr(0, split_at);
    if (split_at != std::string::npos) r.body = got.substr(split_at + 4);
    if (got.size() > 12) r.status = std::stoi(got.substr(9, 3));
    return r;
  }
  Reply api(const std::string& method, const std::string& target, std::vector<std::string> h = {},
            const std::string& body = "") {
    h.push_back("X-Berth-Dashboard: 1");
    return raw(method, target, h, body);
  }

  http::testing::TempDir tmp_;
  std::string dir_, address_, port_;
  FakeApi api_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<Dashboard> dash_;
  std::mutex settings_mu_;
  Settings settings_;
  int applies_ = 0;
};

TEST_F(DashboardTest, ServesTheUiWithSecurityHeaders) {
  start("");
  auto r = raw("GET", "/", {});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html>ui</html>");
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("Cache-Control"), "no-cache");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.header("X-Frame-Options"), "DENY");
  EXPECT_EQ(r.header("Referrer-Policy"), "no-referrer");
  auto csp = r.header("Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos);
  EXPECT_NE(csp.find("ws://127.0.0.1:" + port_), std::string::npos);
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos);  // no inline script
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "");

  auto js = raw("GET", "/assets/app-1.js", {"Accept-Encoding: gzip, br"});
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.body, "GZ");
  EXPECT_EQ(js.header("Content-Encoding"), "gzip");
  EXPECT_EQ(js.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js.header("Cache-Control").find("immutable"), std::string::npos);
  auto plain = raw("GET", "/assets/app-1.js", {});
  EXPECT_EQ(plain.body, "js()");
  EXPECT_EQ(plain.header("Content-Encoding"), "");
  auto head = raw("HEAD", "/", {});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(raw("GET", "/containers/abc", {}).body, "<html>ui</html>");
  EXPECT_EQ(raw("GET", "/nope.css", {}).status, 404);
  EXPECT_EQ(raw("POST", "/", {}).status, 405);
}

TEST_F(DashboardTest, TraversalOverTheWireIsRefused) {
  start("");
  for (const char* t : {"/../secret", "/%2e%2e/secret", "/assets/%2E%2E/%2e%2e/secret",
                        "/assets/..%2f..%2fsecret", "/assets/leak.js", "/%2fetc%2fpasswd.txt"}) {
    auto r = raw("GET", t, {});
    EXPECT_TRUE(r.status == 404 || r.status == 400) << t << " -> " << r.status;
    EXPECT_EQ(r.body.find("SECRET"), std::string::npos) << t;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << t;
  }
}

TEST_F(DashboardTest, NotInstalledAnswers503ButTheApiWorks) {
  start("", false);
  auto r = raw("GET", "/", {});
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("not installed"), std::string::npos);
  EXPECT_EQ(api("GET", "/api/_ping").status, 200);
}

TEST_F(DashboardTest, ApiIsForwardedWithThePrefixStripped) {
  start("");
  auto r = api("GET", "/api/v1.47/containers/json?all=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "{\"ok\":1}");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  std::lock_guard lk(api_.mu);
  EXPECT_EQ(api_.target, "/v1.47/containers/json?all=1");
  EXPECT_EQ(api_.path, "/v1.47/containers/json");
  EXPECT_EQ(api_.calls, 1);
}

TEST_F(DashboardTest, RefusesHeaderlessCrossOriginAndRebindingRequests) {
  start("");
  // No X-Berth-Dashboard: what a cross-site <form> or no-cors fetch sends.
  auto bare = raw("POST", "/api/containers/x/kill", {});
  EXPECT_EQ(bare.status, 403);
  EXPECT_NE(bare.body.find("X-Berth-Dashboard"), std::string::npos);
  // A foreign Origin, even with the header (a preflighted request that
  // went through anyway).
  EXPECT_EQ(api("GET", "/api/containers/json", {"Origin: http://evil.example"}).status, 403);
  EXPECT_EQ(api("GET", "/api/containers/json", {"Origin: null"}).status, 403);
  // DNS rebinding: evil.example resolved to 127.0.0.1, so the Host is theirs.
  EXPECT_EQ(
      raw("GET", "/api/containers/json", {"X-Berth-Dashboard: 1"}, "", "evil.example:" + port_)
          .status,
      421);
  EXPECT_EQ(raw("GET", "/", {}, "", "evil.example:" + port_).status, 421);
  EXPECT_EQ(raw("GET", "/", {}, "", "127.0.0.1:1").status, 421);
  EXPECT_EQ(raw("GET", "/", {}, "", "-").status, 421);  // no Host at all
  {
    std::lock_guard lk(api_.mu);
    EXPECT_EQ(api_.calls, 0);
  }
  // The names of this listener are all fine, with a same-origin Origin.
  for (const std::string& h : {"localhost:" + port_, "127.0.0.1:" + port_, "[::1]:" + port_}) {
    auto ok = raw("GET", "/api/_ping", {"X-Berth-Dashboard: 1", "Origin: http://" + h}, "", h);
    EXPECT_EQ(ok.status, 200) << h;
  }
}

TEST_F(DashboardTest, WebsocketUpgradeNeedsItsOrigin) {
  start("");
  std::vector<std::string> ws = {
      "Upgrade: websocket", "Connection: Upgrade",
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"};
  EXPECT_EQ(raw("GET", "/api/exec/abc/start/ws", ws).status, 403);
  auto foreign = ws;
  foreign.push_back("Origin: http://evil.example");
  EXPECT_EQ(raw("GET", "/api/exec/abc/start/ws", foreign).status, 403);
  auto mine = ws;
  mine.push_back("Origin: http://127.0.0.1:" + port_);
  EXPECT_EQ(raw("GET", "/api/exec/abc/start/ws", mine).status, 200);  // the fake API answered
  std::lock_guard lk(api_.mu);
  EXPECT_EQ(api_.path, "/exec/abc/start/ws");
}

TEST_F(DashboardTest, SessionWithoutToken) {
  start("");
  auto r = api("GET", "/api/berth/session");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body), (Json{{"login_required", false}, {"authenticated", true}}));
}

TEST_F(DashboardTest, TokenFlow) {
  std::string token(64, 'f');
  start(token, true, "0.0.0.0");
  // Any Host is accepted (the token guards), the page itself loads.
  EXPECT_EQ(raw("GET", "/", {}, "", "myserver.lan:" + port_).status, 200);
  auto s = api("GET", "/api/berth/session");
  EXPECT_EQ(Json::parse(s.body), (Json{{"login_required", true}, {"authenticated", false}}));
  auto denied = api("GET", "/api/containers/json");
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(Json::parse(denied.body)["message"], "login required");
  EXPECT_EQ(api("GET", "/api/berth/settings").status, 401);
  auto wrong = raw("POST", "/login", {"Content-Type: application/json"},
                   R"({"token": ")" + std::string(64, 'e') + R"("})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(Json::parse(wrong.body)["message"], "invalid token");
  EXPECT_EQ(wrong.header("Set-Cookie"), "");
  EXPECT_EQ(raw("POST", "/login", {}, "not json").status, 400);
  auto good =
      raw("POST", "/login", {"Content-Type: application/json"}, R"({"token": ")" + token + R"("})");
  EXPECT_EQ(good.status, 204);
  auto cookie = good.header("Set-Cookie");
  EXPECT_EQ(cookie, "berth_token=" + token + "; HttpOnly; SameSite=Strict; Path=/");
  EXPECT_EQ(api("GET", "/api/containers/json", {"Cookie: berth_token=" + token}).status, 200);
  EXPECT_EQ(
      api("GET", "/api/containers/json", {"Cookie: berth_token=" + std::string(64, 'e')}).status,
      401);
  EXPECT_EQ(api("GET", "/api/containers/json", {"Authorization: Bearer " + token}).status, 200);
  auto authed = api("GET", "/api/berth/session", {"Cookie: a=b; berth_token=" + token});
  EXPECT_EQ(Json::parse(authed.body)["authenticated"], true);
  // The token does not replace the header check.
  EXPECT_EQ(raw("GET", "/api/containers/json", {"Cookie: berth_token=" + token}).status, 403);
}

TEST_F(DashboardTest, SettingsGetAndValidatedPut) {
  start("");
  settings_.autostart = {false, false, "unsupported", "systemd is not running"};
  auto g = api("GET", "/api/berth/settings");
  EXPECT_EQ(g.status, 200);
  auto j = Json::parse(g.body);
  EXPECT_EQ(j["autostart"]["detail"], "systemd is not running");
  EXPECT_TRUE(j["registry_mirrors"].is_array());
  // Shape errors never reach the daemon's hook.
  auto bad = api("PUT", "/api/berth/settings", {}, R"({"registry_mirrors": ["gopher://x"]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("registry_mirrors[0]"), std::string::npos);
  EXPECT_EQ(applies_, 0);
  // The hook's own refusal is a 400 too.
  auto huge = api("PUT", "/api/berth/settings", {}, R"({"log_opts": {"max-size": "huge"}})");
  EXPECT_EQ(huge.status, 400);
  EXPECT_NE(huge.body.find("max-size"), std::string::npos);
  auto put = api("PUT", "/api/berth/settings", {},
                 R"({"log_opts": {"max-size": "5m"}, "registry_mirrors": ["https://m.example"]})");
  EXPECT_EQ(put.status, 200);
  j = Json::parse(put.body);
  EXPECT_EQ(j["log_opts"]["max-size"], "5m");
  EXPECT_EQ(j["registry_mirrors"][0], "https://m.example");
  EXPECT_EQ(api("DELETE", "/api/berth/settings").status, 405);
  EXPECT_EQ(api("GET", "/api/berth/nothing").status, 404);
}

}  // namespace
}  // namespace berth::dashboard
