// docker CLI's -v and --mount parsing (volume_flags.h).
#include "cli/volume_flags.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(VolumeFlags, BindsAndAnonymousVolumes) {
  auto r = parse_volume_flags({"/h:/c:ro", "name:/n", "/anon", "./rel:/r", ".:/dot"}, {}, "/work");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->binds, (Json{"/h:/c:ro", "name:/n", "/work/rel:/r", "/work:/dot"}));
  EXPECT_EQ(r->volumes, (Json{{"/anon", Json::object()}}));
  EXPECT_TRUE(r->mounts.is_null());
  auto none = parse_volume_flags({}, {}).value();
  EXPECT_TRUE(none.binds.is_null() && none.volumes.is_null());
}

TEST(VolumeFlags, DockerSpecErrors) {
  EXPECT_EQ(parse_volume_flags({""}, {}).error().message, "invalid empty volume spec");
  EXPECT_EQ(parse_volume_flags({"a::b"}, {}).error().message,
            "invalid spec: a::b: empty section between colons");
  EXPECT_EQ(parse_volume_flags({"/a:/b:ro:x"}, {}).error().message,
            "invalid spec: /a:/b:ro:x: too many colons");
}

TEST(VolumeFlags, MountCsv) {
  auto m = parse_mount_flag(
      "type=volume,src=v,dst=/d,volume-nocopy,volume-label=a=b,volume-opt=type=tmpfs,ro=true");
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_EQ(*m, (Json{{"Type", "volume"},
                      {"Source", "v"},
                      {"Target", "/d"},
                      {"ReadOnly", true},
                      {"VolumeOptions",
                       {{"NoCopy", true},
                        {"Labels", {{"a", "b"}}},
                        {"DriverConfig", {{"Options", {{"type", "tmpfs"}}}}}}}}));
  auto b = parse_mount_flag("type=bind,source=./x,target=/t,bind-propagation=rshared", "/w");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ((*b)["Source"], "/w/x");
  EXPECT_EQ((*b)["BindOptions"]["Propagation"], "rshared");
  auto t = parse_mount_flag("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ((*t)["TmpfsOptions"], (Json{{"SizeBytes", 1 << 20}, {"Mode", 01770}}));
  EXPECT_EQ(parse_mount_flag("\"type=bind\",\"src=/a,b\",dst=/c").value()["Source"], "/a,b");
}

TEST(VolumeFlags, MountErrors) {
  auto err = [](const std::string& v) { return parse_mount_flag(v).error().message; };
  EXPECT_EQ(err("type=bind,src=/a"), "target is required");
  EXPECT_EQ(err("dst=/a,bogus=1"), "unexpected key 'bogus' in 'bogus=1'");
  EXPECT_EQ(err("dst=/a,what"), "invalid field 'what' must be a key=value pair");
  EXPECT_EQ(err("type=tmpfs,dst=/a,volume-nocopy"),
            "cannot mix 'volume-*' options with mount type 'tmpfs'");
  EXPECT_EQ(err("type=volume,dst=/a,bind-propagation=shared"),
            "cannot mix 'bind-*' options with mount type 'volume'");
  EXPECT_EQ(err("type=tmpfs,dst=/a,tmpfs-mode=9"), "invalid value for tmpfs-mode: 9");
  EXPECT_EQ(err("dst=/a,ro=maybe"), "invalid value for ro: maybe");
  auto flag = parse_volume_flags({}, {"type=bind"});
  ASSERT_FALSE(flag.has_value());
  EXPECT_EQ(flag.error().message,
            "invalid argument \"type=bind\" for \"--mount\" flag: target is required");
}

}  // namespace
}  // namespace berth::cli
