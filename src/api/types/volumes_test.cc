// Volume wire types: docker's JSON for volumes, lists, prune, create bodies.
#include "api/types/volumes.h"

#include <gtest/gtest.h>

namespace berth::api {
namespace {

TEST(VolumeWire, EncodesDockersFields) {
  VolumeWire v;
  v.name = "data";
  v.mountpoint = "/var/lib/berth/volumes/data/_data";
  v.created_ns = 1714564800LL * 1'000'000'000 + 5;
  v.labels = {{"a", "b"}};
  Json j = encode_volume(v);
  EXPECT_EQ(j["CreatedAt"], "2024-05-01T12:00:00Z");
  EXPECT_EQ(j["Driver"], "local");
  EXPECT_EQ(j["Scope"], "local");
  EXPECT_EQ(j["Labels"], (Json{{"a", "b"}}));
  EXPECT_EQ(j["Options"], Json::object());
  EXPECT_FALSE(j.contains("UsageData"));
  v.usage = true;
  v.size = 10;
  v.ref_count = 2;
  EXPECT_EQ(encode_volume(v)["UsageData"], (Json{{"RefCount", 2}, {"Size", 10}}));
  Json l = encode_volume_list({v});
  EXPECT_EQ(l["Volumes"].size(), 1u);
  EXPECT_EQ(l["Warnings"], Json::array());
  EXPECT_EQ(Json(encode_volume_prune({"x"}, 3)),
            (Json{{"VolumesDeleted", {"x"}}, {"SpaceReclaimed", 3}}));
  EXPECT_TRUE(encode_volume_prune({}, 0)["VolumesDeleted"].is_null());  // docker's nil slice
}

TEST(VolumeWire, DecodesCreateBodies) {
  auto b = decode_volume_create(
      R"({"Name":"n","Driver":"local","DriverOpts":{"type":"tmpfs"},"Labels":{"k":"v"},"X":1})");
  ASSERT_TRUE(b.has_value()) << b.error().message;
  EXPECT_EQ(b->name, "n");
  EXPECT_EQ(b->driver_opts.at("type"), "tmpfs");
  EXPECT_EQ(b->labels.at("k"), "v");
  EXPECT_TRUE(decode_volume_create("").has_value());
  EXPECT_TRUE(decode_volume_create(R"({"Name":null})").has_value());
  EXPECT_EQ(decode_volume_create(R"({"Name":1})").error().code, Errc::InvalidArgument);
  EXPECT_EQ(decode_volume_create(R"({"Labels":{"k":1}})").error().code, Errc::InvalidArgument);
  EXPECT_EQ(decode_volume_create("[]").error().code, Errc::InvalidArgument);
}

}  // namespace
}  // namespace berth::api
