#include "engine/hosts_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"

namespace berth::engine {
namespace {

TEST(HostsFiles, HostnameHasNewline) { EXPECT_EQ(hostname_content("abc123"), "abc123\n"); }

TEST(HostsFiles, HostsLocalhostBlockExtraHostsAndOwnLine) {
  auto h = hosts_content("0123456789ab", "", {"db:10.0.0.5", "v6=[::1]", "gw:host-gateway"},
                         "127.0.0.1", "172.17.0.1");
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h,
            "127.0.0.1\tlocalhost\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\n"
            "ff00::0\tip6-mcastprefix\n"
            "ff02::1\tip6-allnodes\n"
            "ff02::2\tip6-allrouters\n"
            "10.0.0.5\tdb\n"
            "::1\tv6\n"
            "172.17.0.1\tgw\n"
            "127.0.0.1\t0123456789ab\n");
  auto d = hosts_content("web", "example.com", {});
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("127.0.0.1\tweb.example.com web\n"), std::string::npos);
  // IPv6 written the docker way, name:ip split at the first colon.
  auto v6 = hosts_content("h", "", {"six:fe80::1"});
  ASSERT_TRUE(v6);
  EXPECT_NE(v6->find("fe80::1\tsix\n"), std::string::npos);
  // --link lines after --add-host's, before the container's own.
  auto l = hosts_content("me", "", {"a:10.0.0.9"}, "172.17.0.3", "",
                         {{"172.17.0.2", "mysql 0123456789ab db"}});
  ASSERT_TRUE(l);
  EXPECT_NE(l->find("10.0.0.9\ta\n172.17.0.2\tmysql 0123456789ab db\n172.17.0.3\tme\n"),
            std::string::npos)
      << *l;
}

TEST(HostsFiles, BadAddHost) {
  auto h = hosts_content("h", "", {"db:notanip"});
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, Errc::InvalidArgument);
  EXPECT_EQ(h.error().message, "invalid IP address in add-host: \"notanip\"");
  EXPECT_FALSE(hosts_content("h", "", {"nocolon"}));
  EXPECT_FALSE(hosts_content("h", "", {"gw:host-gateway"}));  // no gateway configured
}

TEST(HostsFiles, ResolvConfDropsLocalhostAndFallsBack) {
  auto r = resolv_conf_content(
      "# host file\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nnameserver ::1\n"
      "nameserver 2001:db8::1\nsearch corp.example\noptions edns0 trust-ad\n",
      {});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "# host file\nnameserver 10.1.1.1\nsearch corp.example\noptions edns0 trust-ad\n");
  auto only_local = resolv_conf_content("nameserver 127.0.0.1\n", {});
  ASSERT_TRUE(only_local);
  EXPECT_EQ(*only_local, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  auto empty = resolv_conf_content("", {});
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

TEST(HostsFiles, ResolvConfOverrides) {
  DnsOverrides o;
  o.dns = {"1.1.1.1", "2606:4700:4700::1111"};
  o.dns_search = {"a.example", "b.example"};
  o.dns_options = {"ndots:2"};
  auto r = resolv_conf_content("nameserver 10.1.1.1\nsearch host.example\noptions rotate\n", o);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r,
            "nameserver 1.1.1.1\nnameserver 2606:4700:4700::1111\n"
            "search a.example b.example\noptions ndots:2\n");
  DnsOverrides dot;
  dot.dns_search = {"."};
  auto d = resolv_conf_content("nameserver 10.1.1.1\nsearch host.example\n", dot);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, "nameserver 10.1.1.1\n");
  // On a user network the embedded server stays the nameserver: --dns
  // servers are its upstreams (docker's file), and ndots:0 unless given.
  DnsOverrides user = o;
  user.embedded = true;
  auto u = resolv_conf_content("nameserver 10.1.1.1\n", user);
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, "nameserver 127.0.0.11\nsearch a.example b.example\noptions ndots:2\n");
  user.dns_options.clear();
  u = resolv_conf_content("nameserver 10.1.1.1\n", user);
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, "nameserver 127.0.0.11\nsearch a.example b.example\noptions ndots:0\n");
  DnsOverrides bad;
  bad.dns = {"not-an-ip"};
  auto b = resolv_conf_content("", bad);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("--dns"), std::string::npos);
}

TEST(HostsFiles, HostResolvConfFollowsSystemdStub) {
  char t[] = "/tmp/berth-hosts-test-XXXXXX";
  std::string dir = mkdtemp(t);
  ASSERT_TRUE(write_file_atomic(dir + "/etc", "nameserver 127.0.0.53\noptions edns0\n"));
  ASSERT_TRUE(write_file_atomic(dir + "/up", "nameserver 192.0.2.1\n"));
  EXPECT_EQ(read_host_resolv_conf(dir + "/etc", dir + "/up"), "nameserver 192.0.2.1\n");
  ASSERT_TRUE(write_file_atomic(dir + "/etc", "nameserver 192.0.2.9\n"));
  EXPECT_EQ(read_host_resolv_conf(dir + "/etc", dir + "/up"), "nameserver 192.0.2.9\n");
  EXPECT_EQ(read_host_resolv_conf(dir + "/missing", dir + "/up"), "");
  std::filesystem::remove_all(dir);
}

TEST(HostsFiles, WriteAllThreeOrNothing) {
  char t[] = "/tmp/berth-hosts-test-XXXXXX";
  std::string dir = mkdtemp(t);
  HostsFilesInput in;
  in.dir = dir;
  in.hostname = "abcdef123456";
  in.extra_hosts = {"bad:entry"};
  auto bad = write_hosts_files(in);
  ASSERT_FALSE(bad);
  EXPECT_TRUE(std::filesystem::is_empty(dir));  // validated before anything is written
  in.extra_hosts = {"ok:10.0.0.1"};
  in.host_resolv = "nameserver 10.9.9.9\n";
  auto p = write_hosts_files(in);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*read_file(p->hostname), "abcdef123456\n");
  EXPECT_NE(read_file(p->hosts)->find("10.0.0.1\tok\n"), std::string::npos);
  EXPECT_EQ(*read_file(p->resolv_conf), "nameserver 10.9.9.9\n");
  struct stat st;
  ASSERT_EQ(stat(p->hosts.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);

  // A second write with the same input leaves the files (same inodes); a
  // new address replaces only hosts.
  auto inode = [](const std::string& path) {
    struct stat s {};
    return ::stat(path.c_str(), &s) == 0 ? s.st_ino : ino_t{0};
  };
  ino_t hosts_ino = inode(p->hosts), resolv_ino = inode(p->resolv_conf);
  ino_t name_ino = inode(p->hostname);
  ASSERT_TRUE(write_hosts_files(in));
  EXPECT_EQ(inode(p->hosts), hosts_ino);
  EXPECT_EQ(inode(p->resolv_conf), resolv_ino);
  EXPECT_EQ(inode(p->hostname), name_ino);
  in.container_ip = "172.17.0.9";
  ASSERT_TRUE(write_hosts_files(in));
  EXPECT_NE(read_file(p->hosts)->find("172.17.0.9\tabcdef123456"), std::string::npos)
      << *read_file(p->hosts);
  EXPECT_EQ(inode(p->resolv_conf), resolv_ino);
  EXPECT_EQ(inode(p->hostname), name_ino);
  // A damaged file (a power loss) is rewritten.
  ASSERT_TRUE(write_file(p->resolv_conf, ""));
  ASSERT_TRUE(write_hosts_files(in));
  EXPECT_EQ(*read_file(p->resolv_conf), "nameserver 10.9.9.9\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace berth::engine
