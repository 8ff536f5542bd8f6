// The websocket routes over a real http::Server: GET /containers/{id}/attach/ws
// and berth's GET /exec/{id}/start/ws. The handshake, the container's
// output arriving as binary messages (stdcopy frames unwrapped without a
// TTY), client messages reaching the container's stdin, and a close frame
// when the container side ends.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <filesystem>

#include "api/server/fake_container_service_test.h"
#include "api/server/router.h"
#include "api/types/containers.h"
#include "engine/fake_image_service.h"

namespace berth::api::server {
namespace {

// Reads until EOF, a close frame, `until` appearing, or ~4 s of silence.
std::string read_some(int fd, std::string_view until = {}) {
  std::string out;
  char buf[4096];
  for (int i = 0; i < 200; ++i) {
    timeval tv{0, 20000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
    if (n < 0 && out.find("\x88") != std::string::npos) break;  // close frame seen
  }
  return out;
}

// Payloads of the server's (unmasked, short) binary frames, and whether a
// close frame (0x88) came.
std::pair<std::string, bool> parse_frames(const std::string& body) {
  std::string payload;
  size_t i = 0;
  bool closed = false;
  while (i + 2 <= body.size()) {
    unsigned op = static_cast<unsigned char>(body[i]) & 0x0f;
    size_t len = static_cast<unsigned char>(body[i + 1]) & 0x7f;
    if (op == 0x2) payload += body.substr(i + 2, len);
    if (op == 0x8) closed = true;
    i += 2 + len;
  }
  return {payload, closed};
}

std::string upgrade_request(const std::string& target) {
  return "GET " + target +
         " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

class WebsocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-attach-ws-XXXXXX";
    dir_ = mkdtemp(tmpl);
    engine::EngineOptions o;
    o.data_root = dir_;
    eng_ = std::move(
        engine::Engine::create(o, std::make_unique<engine::testing::FakeImageService>()).value());
    auto fake = std::make_unique<testing::FakeContainerService>();
    f_ = fake.get();
    eng_->set_containers(std::move(fake));
    router_ = std::make_unique<Router>(*eng_, RouterOptions{});
    sock_ = dir_ + "/api.sock";
    http::Listener l;
    l.address = "unix://" + sock_;
    auto server = http::Server::start({l}, router_->handler());
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_->stop();
    std::filesystem::remove_all(dir_);
  }
  Fd connect_and_send(const std::string& req) {
    Fd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_.c_str());
    EXPECT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::send(c.get(), req.data(), req.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(req.size()));
    return c;
  }
  // A running container "web" with one exec created (TTY as given).
  std::string create_exec(bool tty) {
    f_->add(std::string(64, 'a'), "web", "running");
    engine::ExecConfig cfg;
    cfg.tty = tty;
    cfg.attach_stdin = cfg.attach_stdout = cfg.attach_stderr = true;
    cfg.cmd = {"sh"};
    return f_->exec_create("web", cfg).value();
  }

  std::string dir_, sock_;
  std::unique_ptr<engine::Engine> eng_;
  testing::FakeContainerService* f_ = nullptr;
  std::unique_ptr<Router> router_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(WebsocketTest, AttachRelaysUnwrappedOutput) {
  f_->add(std::string(64, 'a'), "web", "running");
  f_->attach_output = frame_stream(1, "hello") + frame_stream(2, "world");
  Fd c = connect_and_send(
      upgrade_request("/v1.47/containers/web/attach/ws?stream=1&stdout=1&stderr=1"));
  std::string got = read_some(c.get());
  // RFC 6455's example key gives this accept value.
  EXPECT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got;
  EXPECT_NE(got.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << got;
  auto [payload, closed] = parse_frames(got.substr(got.find("\r\n\r\n") + 4));
  EXPECT_EQ(payload, "helloworld");
  EXPECT_TRUE(closed);
}

TEST_F(WebsocketTest, AttachUnknownContainerIs404BeforeTheHandshake) {
  Fd c = connect_and_send(upgrade_request("/containers/nope/attach/ws"));
  std::string got = read_some(c.get(), "\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 404", 0), 0u) << got;
}

TEST_F(WebsocketTest, ExecStartRelaysBothWays) {
  std::string id = create_exec(true);
  f_->attach_output = "$ ";  // a TTY's raw bytes: passed through as they are
  f_->keep_exec_conn = true;
  Fd c = connect_and_send(upgrade_request("/v1.47/exec/" + id + "/start/ws"));
  std::string got = read_some(c.get(), "$ ");
  ASSERT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got;
  EXPECT_EQ(parse_frames(got.substr(got.find("\r\n\r\n") + 4)).first, "$ ");
  EXPECT_TRUE(f_->execs[0].running);
  // A masked binary frame from the client ("ls\n") reaches the exec's stdin.
  std::string frame = {'\x82', static_cast<char>(0x80 | 3), 1, 2, 3, 4};
  const char* text = "ls\n";
  for (int i = 0; i < 3; ++i) frame.push_back(static_cast<char>(text[i] ^ frame[2 + i % 4]));
  ASSERT_EQ(::send(c.get(), frame.data(), frame.size(), MSG_NOSIGNAL), 9);
  ASSERT_TRUE(f_->exec_conn);
  std::string in = read_some(f_->exec_conn.get(), "ls\n");
  EXPECT_EQ(in, "ls\n");
  // The exec ends: the client gets a close frame.
  f_->exec_conn.reset();
  EXPECT_TRUE(parse_frames(read_some(c.get())).second);
}

TEST_F(WebsocketTest, ExecStartUnwrapsFramesWithoutTty) {
  std::string id = create_exec(false);
  f_->attach_output = frame_stream(1, "out") + frame_stream(2, "err");
  Fd c = connect_and_send(upgrade_request("/exec/" + id + "/start/ws"));
  std::string got = read_some(c.get());
  ASSERT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got;
  auto [payload, closed] = parse_frames(got.substr(got.find("\r\n\r\n") + 4));
  EXPECT_EQ(payload, "outerr");
  EXPECT_TRUE(closed);
}

TEST_F(WebsocketTest, ExecStartRefusesUnknownAndRunningExecs) {
  Fd c = connect_and_send(upgrade_request("/exec/nope/start/ws"));
  std::string got = read_some(c.get(), "\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 404", 0), 0u) << got;
  std::string id = create_exec(true);
  f_->execs[0].running = true;
  Fd c2 = connect_and_send(upgrade_request("/exec/" + id + "/start/ws"));
  got = read_some(c2.get(), "already running");
  EXPECT_EQ(got.rfind("HTTP/1.1 409", 0), 0u) << got;
  EXPECT_NE(got.find("already running"), std::string::npos);
  EXPECT_EQ(f_->attached_fds, 0);
}

}  // namespace
}  // namespace berth::api::server
