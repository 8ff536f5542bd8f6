// NetnsPool against the kernel (root): spares are made in the background,
// handed out moved to the asked path with their veth on the bridge, dropped
// with their network, and nothing of them outlives the pool.
#include "engine/netns_pool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "network/link.h"
#include "network/netns.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;

class NetnsPoolRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      const char* strict = std::getenv("BERTH_TEST_ROOT");
      if (strict && std::string(strict) == "1") FAIL() << "needs root";
      GTEST_SKIP() << "needs root";
    }
    std::string t = (fs::temp_directory_path() / "berth-pool-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    int pid = static_cast<int>(::getpid());
    bridge_ = "bpool" + std::to_string(pid % 100000);
    auto r = network::ensure_bridge(
        {bridge_, "10.252." + std::to_string(pid % 250 + 1) + ".1/24", "", 1500});
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  void TearDown() override {
    if (dir_.empty()) return;
    for (const auto& p : {dir_ + "/c1", dir_ + "/c2"}) (void)network::remove_netns(p);
    std::error_code ec;
    for (const auto& ent : fs::directory_iterator(dir_ + "/pool", ec))
      (void)network::remove_netns(ent.path());
    (void)network::delete_link(bridge_);
    fs::remove_all(dir_, ec);
  }
  // Bounded wait for the pool's thread.
  static bool wait_ready(const NetnsPool& p, size_t n) {
    for (int i = 0; i < 500; ++i) {
      if (p.ready() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  size_t files_in(const std::string& d) {
    std::error_code ec;
    size_t n = 0;
    for ([[maybe_unused]] const auto& ent : fs::directory_iterator(d, ec)) ++n;
    return n;
  }
  static std::string command_output(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[512];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
    return out;
  }
  std::string dir_, bridge_;
};

TEST_F(NetnsPoolRoot, SparesAreMadeTakenAndRemoved) {
  std::string host_veth;
  {
    NetnsPool pool(dir_ + "/pool", 2);
    SpareSpec spec{"net1", bridge_, 1500};
    // Nothing is made before a network is asked for.
    EXPECT_EQ(pool.ready(), 0u);
    EXPECT_FALSE(pool.take(spec, dir_ + "/c1").has_value());
    EXPECT_FALSE(fs::exists(dir_ + "/c1"));
    ASSERT_TRUE(wait_ready(pool, 2)) << "no spares after 5 s";
    EXPECT_EQ(files_in(dir_ + "/pool"), 2u);

    auto got = pool.take(spec, dir_ + "/c1");
    ASSERT_TRUE(got.has_value());
    host_veth = got->host_veth;
    EXPECT_TRUE(network::netns_exists(dir_ + "/c1"));
    // The spare's own socket configures the peer without entering it.
    ASSERT_TRUE(got->inside && *got->inside);
    network::VethConfig vc;
    vc.host_name = host_veth;
    vc.bridge = bridge_;
    vc.netns_path = dir_ + "/c1";
    vc.mac = "02:42:0a:fc:00:07";
    vc.ipv4_cidr = "10.252.0.7/24";
    auto conf = network::configure_veth_peer(vc, got->inside->get());
    ASSERT_TRUE(conf.has_value()) << conf.error().message;
    std::string seen = command_output("nsenter --net=" + vc.netns_path + " ip -o link show eth0; " +
                                      "nsenter --net=" + vc.netns_path + " ip -o -4 addr show");
    EXPECT_NE(seen.find("02:42:0a:fc:00:07"), std::string::npos) << seen;
    EXPECT_NE(seen.find("state UP"), std::string::npos) << seen;
    EXPECT_NE(seen.find("10.252.0.7/24"), std::string::npos) << seen;
    EXPECT_NE(seen.find("127.0.0.1/8"), std::string::npos) << "lo is up: " << seen;
    // The pool's own file of the taken spare goes a little later, from the
    // pool's thread (NetnsPool::kQuiet), not during the start that took it.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (fs::exists(dir_ + "/pool/" + host_veth) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_FALSE(fs::exists(dir_ + "/pool/" + host_veth)) << "moved, not copied";
    EXPECT_TRUE(network::netns_exists(dir_ + "/c1"))
        << "the taken namespace outlives the pool's file";
    ASSERT_TRUE(network::link_exists(host_veth));
    std::error_code ec;
    EXPECT_EQ(fs::read_symlink("/sys/class/net/" + host_veth + "/master", ec).filename().string(),
              bridge_);
    // Refilled.
    ASSERT_TRUE(wait_ready(pool, 2));

    // Dropping the network removes its spares (their veths go with them).
    pool.drop_network("net1");
    EXPECT_EQ(pool.ready(), 0u);
    EXPECT_EQ(files_in(dir_ + "/pool"), 0u);

    // A spec whose bridge is gone: the refill fails, take keeps working.
    SpareSpec gone{"net2", bridge_ + "x", 1500};
    EXPECT_FALSE(pool.take(gone, dir_ + "/c2").has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(pool.ready(), 0u);
    EXPECT_EQ(files_in(dir_ + "/pool"), 0u);

    ASSERT_FALSE(pool.take(spec, dir_ + "/c2").has_value());
    ASSERT_TRUE(wait_ready(pool, 2));
  }
  // The pool is gone: so are its spares; the taken one is the caller's.
  EXPECT_EQ(files_in(dir_ + "/pool"), 0u);
  EXPECT_TRUE(network::netns_exists(dir_ + "/c1"));
}

TEST_F(NetnsPoolRoot, LeftoversOfAPreviousDaemonAreRemoved) {
  fs::create_directories(dir_ + "/pool");
  ASSERT_TRUE(network::create_netns(dir_ + "/pool/vethdead001").has_value());
  NetnsPool pool(dir_ + "/pool", 1);
  EXPECT_FALSE(network::netns_exists(dir_ + "/pool/vethdead001"));
  EXPECT_EQ(files_in(dir_ + "/pool"), 0u);
}

TEST_F(NetnsPoolRoot, SizeZeroMakesNothing) {
  NetnsPool pool(dir_ + "/pool", 0);
  EXPECT_FALSE(pool.take({"n", bridge_, 1500}, dir_ + "/c1").has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(pool.ready(), 0u);
  EXPECT_FALSE(fs::exists(dir_ + "/pool"));
}

}  // namespace
}  // namespace berth::engine
