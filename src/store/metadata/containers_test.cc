// Container rows: insert/replace, unique names, state updates, rename,
// delete, order, and survival across reopen.
#include <gtest/gtest.h>

#include "store/metadata/test_fixture.h"

namespace berth::metadata {
namespace {

using ContainersTest = MetaTest;

ContainerRow row(const std::string& id, const std::string& name, int64_t created) {
  ContainerRow r;
  r.id = id;
  r.name = name;
  r.image = sha256_of("img");
  r.created_ns = created;
  r.config = R"({"c":1})";
  r.state = R"({"status":"created"})";
  return r;
}

TEST_F(ContainersTest, PutListOrderAndReplace) {
  ASSERT_TRUE(store_->put_container(row("b", "second", 2)).has_value());
  ASSERT_TRUE(store_->put_container(row("a", "first", 1)).has_value());
  auto r = row("b", "second", 2);
  r.config = R"({"c":2})";
  ASSERT_TRUE(store_->put_container(r).has_value());
  auto l = store_->list_containers().value();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].id, "a");
  EXPECT_EQ(l[1].id, "b");
  EXPECT_EQ(l[1].config, R"({"c":2})");
  EXPECT_EQ(l[1].image, sha256_of("img"));
  EXPECT_EQ(store_->containers_using(sha256_of("img")).value(),
            (std::vector<std::string>{"a", "b"}));
}

TEST_F(ContainersTest, NameInUseIsConflict) {
  ASSERT_TRUE(store_->put_container(row("a", "web", 1)).has_value());
  auto e = store_->put_container(row("b", "web", 2));
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code, Errc::Conflict);
  ASSERT_TRUE(store_->put_container(row("b", "db", 2)).has_value());
  auto r = store_->rename_container("b", "web");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::Conflict);
  ASSERT_TRUE(store_->rename_container("b", "cache").has_value());
  EXPECT_EQ(store_->list_containers().value()[1].name, "cache");
  EXPECT_EQ(store_->rename_container("zz", "x").error().code, Errc::NotFound);
}

TEST_F(ContainersTest, StateDeleteAndReopen) {
  ASSERT_TRUE(store_->put_container(row("a", "web", 1)).has_value());
  ASSERT_TRUE(store_->update_container_state("a", R"({"status":"running"})").has_value());
  EXPECT_EQ(store_->update_container_state("zz", "{}").error().code, Errc::NotFound);
  reopen();
  auto l = store_->list_containers().value();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].state, R"({"status":"running"})");
  ASSERT_TRUE(store_->delete_container("a").has_value());
  EXPECT_EQ(store_->delete_container("a").error().code, Errc::NotFound);
  EXPECT_TRUE(store_->list_containers().value().empty());
}

}  // namespace
}  // namespace berth::metadata
