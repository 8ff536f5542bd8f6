// The pieces of the dashboard's access checks: token compare, loopback
// detection, the Host list, cookies, bearer tokens, the token file.
#include "dashboard/security.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"

namespace berth::dashboard {
namespace {

TEST(ConstantTimeEqual, ComparesWholeStrings) {
  std::string t(64, 'a');
  EXPECT_TRUE(constant_time_equal(t, t));
  std::string last = t;
  last.back() = 'b';
  std::string first = t;
  first.front() = 'b';
  EXPECT_FALSE(constant_time_equal(t, last));
  EXPECT_FALSE(constant_time_equal(t, first));
  EXPECT_FALSE(constant_time_equal(t, t.substr(0, 63)));
  EXPECT_FALSE(constant_time_equal(t, ""));
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(Loopback, WhichHostsAreLocal) {
  for (const char* h : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
  for (const char* h : {"0.0.0.0", "::", "", "10.0.0.1", "127.0.0.1.evil.example", "127.0.0",
                        "127.0.0.256", "localhost.evil.example"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

TEST(AllowedHosts, ListenerNamesOnly) {
  auto h = allowed_hosts("127.0.0.1", "9000");
  EXPECT_EQ(h, (std::vector<std::string>{"localhost:9000", "127.0.0.1:9000", "[::1]:9000"}));
  auto v6 = allowed_hosts("::1", "9000");
  EXPECT_EQ(v6.size(), 3u);
  auto other = allowed_hosts("127.0.0.2", "80");
  EXPECT_EQ(other.back(), "127.0.0.2:80");
}

TEST(Cookies, FindsTheNamedCookie) {
  EXPECT_EQ(cookie_value("a=1; berth_token=abc; b=2", "berth_token").value(), "abc");
  EXPECT_EQ(cookie_value("berth_token=x", "berth_token").value(), "x");
  EXPECT_FALSE(cookie_value("xberth_token=abc", "berth_token").has_value());
  EXPECT_FALSE(cookie_value("", "berth_token").has_value());
  EXPECT_EQ(bearer_token("Bearer tok").value(), "tok");
  EXPECT_EQ(bearer_token("bearer  tok ").value(), "tok");
  EXPECT_FALSE(bearer_token("Basic dXNlcg==").has_value());
}

TEST(Token, CreatedPrivateAndReused) {
  char tmpl[] = "/tmp/berth-dash-token-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string path = dir + "/dashboard.token";
  auto t1 = load_or_create_token(path).value();
  EXPECT_EQ(t1.size(), 64u);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(load_or_create_token(path).value(), t1);  // across restarts
  EXPECT_NE(random_token().value(), t1);
  // A token others could read is not trusted any more: a new one replaces it.
  ::chmod(path.c_str(), 0644);
  auto t2 = load_or_create_token(path).value();
  EXPECT_NE(t2, t1);
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Garbage in the file: replaced too.
  std::ofstream(path) << "not a token\n";
  ::chmod(path.c_str(), 0600);
  EXPECT_NE(load_or_create_token(path).value(), "not a token");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::dashboard
