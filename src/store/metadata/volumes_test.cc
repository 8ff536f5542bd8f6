// Volume rows (migration v5): insert, duplicate names, get, list order,
// delete, and survival across reopen.
#include <gtest/gtest.h>

#include "store/metadata/test_fixture.h"

namespace berth::metadata {
namespace {

using VolumesTest = MetaTest;

VolumeRow vol(const std::string& name, bool anonymous = false) {
  VolumeRow r;
  r.name = name;
  r.labels = R"({"a":"b"})";
  r.options = R"({"type":"tmpfs"})";
  r.created_ns = 42;
  r.anonymous = anonymous;
  return r;
}

TEST_F(VolumesTest, InsertGetListDelete) {
  EXPECT_GE(store_->schema_version(), 5);  // v5 made the table; later ones keep it
  ASSERT_TRUE(store_->insert_volume(vol("b", true)).has_value());
  ASSERT_TRUE(store_->insert_volume(vol("a")).has_value());
  auto g = store_->get_volume("b").value();
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->driver, "local");
  EXPECT_EQ(g->labels, R"({"a":"b"})");
  EXPECT_EQ(g->options, R"({"type":"tmpfs"})");
  EXPECT_EQ(g->created_ns, 42);
  EXPECT_TRUE(g->anonymous);
  EXPECT_FALSE(store_->get_volume("c").value().has_value());
  auto l = store_->list_volumes().value();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].name, "a");
  EXPECT_FALSE(l[0].anonymous);
  ASSERT_TRUE(store_->delete_volume("a").has_value());
  EXPECT_EQ(store_->delete_volume("a").error().code, Errc::NotFound);
  reopen();
  l = store_->list_volumes().value();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].name, "b");
}

TEST_F(VolumesTest, DuplicateNameKeepsTheFirstRow) {
  ASSERT_TRUE(store_->insert_volume(vol("x")).has_value());
  auto second = vol("x");
  second.driver = "other";
  auto r = store_->insert_volume(second);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::AlreadyExists);
  EXPECT_EQ(store_->get_volume("x").value()->driver, "local");
  EXPECT_EQ(store_->insert_volume(VolumeRow{}).error().code, Errc::InvalidArgument);
}

}  // namespace
}  // namespace berth::metadata
