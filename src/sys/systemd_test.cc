// Socket activation's environment rules and sd_notify's datagram, against
// a real datagram socket in a temp dir.
#include "sys/systemd.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "base/fd.h"

namespace berth::sys {
namespace {

TEST(ListenFds, CountsOnlyForThisProcess) {
  EXPECT_EQ(listen_fd_count(nullptr, "2", 100).value(), 0);
  EXPECT_EQ(listen_fd_count("100", "2", 100).value(), 2);
  // Inherited by a child: not its sockets.
  EXPECT_EQ(listen_fd_count("99", "2", 100).value(), 0);
  EXPECT_FALSE(listen_fd_count("abc", "2", 100).has_value());
  EXPECT_FALSE(listen_fd_count("100", "", 100).has_value());
  EXPECT_FALSE(listen_fd_count("100", "-1", 100).has_value());
}

TEST(ListenFds, TakeUnsetsTheVariables) {
  ::setenv("LISTEN_PID", "1", 1);  // not us: nothing taken
  ::setenv("LISTEN_FDS", "1", 1);
  auto fds = take_listen_fds();
  ASSERT_TRUE(fds.has_value());
  EXPECT_TRUE(fds->empty());
  EXPECT_EQ(::getenv("LISTEN_PID"), nullptr);
  EXPECT_EQ(::getenv("LISTEN_FDS"), nullptr);
}

TEST(Notify, SendsOneDatagram) {
  char tmpl[] = "/tmp/berth-notify-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/notify.sock";
  Fd s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  ASSERT_TRUE(notify("READY=1\nSTATUS=ok").has_value());
  ::unsetenv("NOTIFY_SOCKET");
  char buf[64] = {};
  ssize_t n = ::recv(s.get(), buf, sizeof buf, MSG_DONTWAIT);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<size_t>(n) : 0), "READY=1\nSTATUS=ok");
  // Unset: nothing to do, no error.
  EXPECT_TRUE(notify("READY=1").has_value());
  EXPECT_FALSE(notify_socket("relative", "READY=1").has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::sys
