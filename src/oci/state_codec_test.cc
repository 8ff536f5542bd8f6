#include <gtest/gtest.h>

#include "oci/spec_codec.h"

namespace berth::oci {
namespace {

TEST(StateCodec, EncodesEveryField) {
  State s;
  s.id = "c1";
  s.status = "running";
  s.pid = 4242;
  s.bundle = "/run/bundles/c1";
  s.annotations = {{"k", "v"}};
  EXPECT_EQ(state_to_json(s), Json::parse(R"({"ociVersion": "1.1.0", "id": "c1",
      "status": "running", "pid": 4242, "bundle": "/run/bundles/c1",
      "annotations": {"k": "v"}})"));
}

TEST(StateCodec, StoppedStateKeepsPidZeroAndOmitsEmptyAnnotations) {
  State s;
  s.id = "c2";
  s.status = "stopped";
  s.bundle = "/b";
  Json j = state_to_json(s);
  EXPECT_EQ(j.at("pid"), 0);
  EXPECT_FALSE(j.contains("annotations"));
}

TEST(StateCodec, RoundTrip) {
  State s;
  s.oci_version = "1.0.2";
  s.id = "abc";
  s.status = "created";
  s.pid = 17;
  s.bundle = "/x";
  s.annotations = {{"a", "1"}, {"b", ""}};
  auto back = parse_state(dump_json(state_to_json(s)));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->oci_version, "1.0.2");
  EXPECT_EQ(back->id, "abc");
  EXPECT_EQ(back->status, "created");
  EXPECT_EQ(back->pid, 17);
  EXPECT_EQ(back->bundle, "/x");
  EXPECT_EQ(back->annotations, s.annotations);
}

TEST(StateCodec, ParsesRuncStateOutputIgnoringExtras) {
  auto s = parse_state(R"({"ociVersion": "1.0.2-dev", "id": "x", "pid": 99,
      "status": "running", "bundle": "/b", "rootfs": "/b/rootfs",
      "created": "2024-01-01T00:00:00Z", "owner": ""})");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_EQ(s->pid, 99);
  EXPECT_EQ(s->status, "running");
}

TEST(StateCodec, Errors) {
  auto missing = parse_state(R"({"ociVersion": "1.0.0", "status": "running"})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "state: missing required field \"id\"");
  auto bad_pid = parse_state(R"({"ociVersion": "1.0.0", "id": "a", "status": "s", "pid": "1"})");
  ASSERT_FALSE(bad_pid);
  EXPECT_EQ(bad_pid.error().message, "state: pid: expected integer, got string");
  auto neg = parse_state(R"({"ociVersion": "1.0.0", "id": "a", "status": "s", "pid": -4})");
  ASSERT_FALSE(neg);
  EXPECT_EQ(neg.error().message, "state: pid: must not be negative");
  auto garbage = parse_state("{");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, Errc::InvalidArgument);
  EXPECT_TRUE(garbage.error().message.starts_with("state: invalid JSON: "))
      << garbage.error().message;
}

}  // namespace
}  // namespace berth::oci
