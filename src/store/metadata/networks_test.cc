// Network and endpoint rows: unique names, one holder per address, cascade
// on network removal, NULL addresses never colliding, survival across reopen.
#include <gtest/gtest.h>

#include "store/metadata/test_fixture.h"

namespace berth::metadata {
namespace {

using NetworksTest = MetaTest;

NetworkRow net(char c, const std::string& name, int64_t created) {
  return NetworkRow{std::string(64, c), name, created, R"({"driver":"bridge"})"};
}

EndpointRow ep(char net, const std::string& ctr, const std::string& ip) {
  return EndpointRow{std::string(64, net), ctr, ip, "", R"({"mac":"x"})"};
}

TEST_F(NetworksTest, PutListAndNameConflict) {
  ASSERT_TRUE(store_->put_network(net('b', "second", 2)).has_value());
  ASSERT_TRUE(store_->put_network(net('a', "first", 1)).has_value());
  auto dup = store_->put_network(net('c', "first", 3));
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, Errc::Conflict);
  EXPECT_EQ(dup.error().message, "network with name first already exists");
  auto same_id = store_->put_network(net('a', "other", 3));
  ASSERT_FALSE(same_id.has_value());
  EXPECT_EQ(same_id.error().code, Errc::AlreadyExists);
  auto l = store_->list_networks().value();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].name, "first");
  EXPECT_EQ(l[1].name, "second");
  EXPECT_EQ(l[1].config, R"({"driver":"bridge"})");
}

TEST_F(NetworksTest, AnAddressHasOneHolder) {
  ASSERT_TRUE(store_->put_network(net('a', "n", 1)).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c1", "10.0.0.2")).has_value());
  auto taken = store_->put_endpoint(ep('a', "c2", "10.0.0.2"));
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, Errc::Conflict);
  EXPECT_EQ(taken.error().message, "address 10.0.0.2 is already in use");
  // Replacing one's own endpoint with a new address frees the old one.
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c1", "10.0.0.3")).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c2", "10.0.0.2")).has_value());
  // Endpoints without an address never collide.
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c3", "")).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c4", "")).has_value());
  auto l = store_->list_endpoints().value();
  ASSERT_EQ(l.size(), 4u);
  EXPECT_EQ(l[0].container_id, "c1");
  EXPECT_EQ(l[0].ip4, "10.0.0.3");
  EXPECT_EQ(l[2].ip4, "");
}

TEST_F(NetworksTest, DeleteEndpointsOfAContainer) {
  ASSERT_TRUE(store_->put_network(net('a', "n", 1)).has_value());
  ASSERT_TRUE(store_->put_network(net('b', "m", 2)).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c1", "10.0.0.2")).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('b', "c1", "10.0.1.2")).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c2", "10.0.0.3")).has_value());
  EXPECT_EQ(store_->delete_endpoints_of("c1").value(), 2);
  EXPECT_EQ(store_->delete_endpoints_of("c1").value(), 0);
  auto l = store_->list_endpoints().value();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].container_id, "c2");
  // Its address is free again.
  EXPECT_TRUE(store_->put_endpoint(ep('a', "c3", "10.0.0.2")).has_value());
}

TEST_F(NetworksTest, EndpointNeedsItsNetwork) {
  auto r = store_->put_endpoint(ep('z', "c1", "10.0.0.2"));
  EXPECT_FALSE(r.has_value());
}

TEST_F(NetworksTest, DeleteCascadesAndSurvivesReopen) {
  ASSERT_TRUE(store_->put_network(net('a', "n", 1)).has_value());
  ASSERT_TRUE(store_->put_network(net('b', "m", 2)).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('a', "c1", "10.0.0.2")).has_value());
  ASSERT_TRUE(store_->put_endpoint(ep('b', "c1", "10.1.0.2")).has_value());
  ASSERT_TRUE(store_->delete_endpoint(std::string(64, 'b'), "c1").has_value());
  ASSERT_TRUE(store_->delete_endpoint(std::string(64, 'b'), "absent").has_value());
  ASSERT_TRUE(store_->delete_network(std::string(64, 'a')).has_value());
  EXPECT_EQ(store_->delete_network(std::string(64, 'a')).error().code, Errc::NotFound);
  reopen();
  EXPECT_EQ(store_->list_networks().value().size(), 1u);
  EXPECT_TRUE(store_->list_endpoints().value().empty());
}

}  // namespace
}  // namespace berth::metadata
