// GET /containers/{id}/attach/ws over a real http::Server: the websocket
// handshake, and the container's multiplexed output arriving unwrapped as
// binary messages, then a close frame when the container side ends.
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

std::string read_some(int fd) {
  std::string out;
  char buf[4096];
  for (int i = 0; i < 200; ++i) {
    timeval tv{0, 20000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    if (n < 0 && out.find("\x88") != std::string::npos) break;  // close frame seen
  }
  return out;
}

TEST(AttachWebsocket, RelaysUnwrappedOutput) {
  char tmpl[] = "/tmp/berth-attach-ws-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  engine::EngineOptions o;
  o.data_root = dir;
  auto eng = std::move(
      engine::Engine::create(o, std::make_unique<engine::testing::FakeImageService>()).value());
  auto fake = std::make_unique<testing::FakeContainerService>();
  auto* f = fake.get();
  eng->set_containers(std::move(fake));
  f->add(std::string(64, 'a'), "web", "running");
  f->attach_output = frame_stream(1, "hello") + frame_stream(2, "world");
  Router router(*eng, RouterOptions{});
  std::string sock = dir + "/api.sock";
  http::Listener l;
  l.address = "unix://" + sock;
  auto server = http::Server::start({l}, router.handler());
  ASSERT_TRUE(server) << server.error().message;

  Fd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string req =
      "GET /v1.47/containers/web/attach/ws?stream=1&stdout=1&stderr=1 HTTP/1.1\r\n"
      "Host: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_EQ(::send(c.get(), req.data(), req.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(req.size()));
  std::string got = read_some(c.get());
  // RFC 6455's example key gives this accept value.
  EXPECT_EQ(got.rfind("HTTP/1.1 101", 0), 0u) << got;
  EXPECT_NE(got.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << got;
  auto body = got.substr(got.find("\r\n\r\n") + 4);
  // Unmasked binary frames (0x82, short length) carrying the payloads
  // without stdcopy headers, then a close frame (0x88).
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
  EXPECT_EQ(payload, "helloworld");
  EXPECT_TRUE(closed);
  (*server)->stop();
  std::filesystem::remove_all(dir);
}

TEST(AttachWebsocket, UnknownContainerIs404BeforeTheHandshake) {
  char tmpl[] = "/tmp/berth-attach-ws-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  engine::EngineOptions o;
  o.data_root = dir;
  auto eng = std::move(
      engine::Engine::create(o, std::make_unique<engine::testing::FakeImageService>()).value());
  eng->set_containers(std::make_unique<testing::FakeContainerService>());
  Router router(*eng, RouterOptions{});
  std::string sock = dir + "/api.sock";
  http::Listener l;
  l.address = "unix://" + sock;
  auto server = http::Server::start({l}, router.handler());
  ASSERT_TRUE(server);
  Fd c(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::connect(c.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string req =
      "GET /containers/nope/attach/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  ASSERT_GT(::send(c.get(), req.data(), req.size(), MSG_NOSIGNAL), 0);
  std::string got = read_some(c.get());
  EXPECT_EQ(got.rfind("HTTP/1.1 404", 0), 0u) << got;
  (*server)->stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::api::server
