// docker's -v / --mount / --volumes-from / VOLUME rules (mount_plan.h).
#include "engine/mount_plan.h"

#include <gtest/gtest.h>

namespace berth::engine {
namespace {

MountPlanInput input() {
  MountPlanInput in;
  in.path_exists = [](const std::string& p) { return p == "/exists"; };
  return in;
}

Result<std::vector<PlannedMount>> plan_binds(std::vector<std::string> binds) {
  auto in = input();
  in.binds = std::move(binds);
  return plan_mounts(in);
}

std::string error_of(const Result<std::vector<PlannedMount>>& r) {
  return r ? std::string("(ok)") : r.error().message;
}

MountPoint mount(std::string type, std::string source, std::string target, Json options = {}) {
  MountPoint m;
  m.type = std::move(type);
  m.source = std::move(source);
  m.target = std::move(target);
  m.options = options.is_null() ? Json::object() : std::move(options);
  return m;
}

TEST(MountPlan, BindsNamedAndAnonymousVolumes) {
  auto r = plan_binds({"/host/dir:/data:ro", "cache:/cache", "/anon", "/h2:/x:rshared,z"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  const auto& b = (*r)[0].mount;
  EXPECT_EQ(b.type, "bind");
  EXPECT_EQ(b.source, "/host/dir");
  EXPECT_EQ(b.destination, "/data");
  EXPECT_FALSE(b.rw);
  EXPECT_EQ(b.mode, "ro");
  EXPECT_EQ(b.propagation, "rprivate");
  EXPECT_TRUE((*r)[0].create_host_path);
  const auto& v = (*r)[1].mount;
  EXPECT_EQ(v.type, "volume");
  EXPECT_EQ(v.name, "cache");
  EXPECT_EQ(v.mode, "z");
  EXPECT_TRUE(v.rw);
  EXPECT_TRUE(v.copy_data);
  EXPECT_FALSE(v.anonymous);
  const auto& a = (*r)[2].mount;
  EXPECT_EQ(a.type, "volume");
  EXPECT_TRUE(a.anonymous);
  EXPECT_TRUE(a.name.empty());
  EXPECT_EQ((*r)[3].mount.propagation, "rshared");
}

TEST(MountPlan, BindErrorsAreDockers) {
  EXPECT_EQ(error_of(plan_binds({":/x"})), "invalid volume specification: ':/x'");
  EXPECT_EQ(error_of(plan_binds({"/x:rw"})), "invalid volume specification: '/x:rw'");
  EXPECT_EQ(error_of(plan_binds({"/a:/b:c:d"})), "invalid volume specification: '/a:/b:c:d'");
  EXPECT_EQ(error_of(plan_binds({"/a:/b:bogus"})), "invalid mode: bogus");
  EXPECT_EQ(error_of(plan_binds({"/a:/b:ro,rw"})), "invalid mode: ro,rw");
  EXPECT_EQ(error_of(plan_binds({"/a:rel"})),
            "invalid volume specification: '/a:rel': invalid mount config for type \"bind\": "
            "invalid mount path: 'rel' mount path must be absolute");
  EXPECT_EQ(error_of(plan_binds({"/a:/"})),
            "invalid volume specification: '/a:/': invalid mount config for type \"bind\": "
            "invalid specification: destination can't be '/'");
  EXPECT_EQ(error_of(plan_binds({"v:/d:shared"})),
            "invalid volume specification: 'v:/d:shared': invalid mount config for type "
            "\"volume\": field BindOptions must not be specified");
  EXPECT_EQ(error_of(plan_binds({"/a:/d", "/b:/d/"})), "Duplicate mount point: /d");
}

TEST(MountPlan, MountsApi) {
  auto in = input();
  in.mounts = {
      mount("bind", "/exists", "/b", {{"BindOptions", {{"Propagation", "rslave"}}}}),
      mount("volume", "named", "/v",
            {{"VolumeOptions",
              {{"NoCopy", true},
               {"Labels", {{"a", "b"}}},
               {"DriverConfig", {{"Options", {{"type", "tmpfs"}}}}}}}}),
      mount("tmpfs", "", "/t", {{"TmpfsOptions", {{"SizeBytes", 10 << 20}, {"Mode", 0700}}}})};
  in.mounts[0].read_only = true;
  auto r = plan_mounts(in);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].mount.propagation, "rslave");
  EXPECT_FALSE((*r)[0].mount.rw);
  EXPECT_FALSE((*r)[0].create_host_path);
  EXPECT_FALSE((*r)[1].mount.copy_data);
  EXPECT_EQ((*r)[1].mount.mode, "z");
  EXPECT_EQ((*r)[1].volume_labels.at("a"), "b");
  EXPECT_EQ((*r)[1].volume_options.at("type"), "tmpfs");
  EXPECT_EQ((*r)[2].mount.type, "tmpfs");
  EXPECT_EQ((*r)[2].mount.tmpfs_options, "mode=700,size=10m");
}

TEST(MountPlan, MountsErrors) {
  auto one = [](MountPoint m) {
    auto in = input();
    in.mounts = {std::move(m)};
    return error_of(plan_mounts(in));
  };
  EXPECT_EQ(one(mount("bind", "/x", "/d")),
            "invalid mount config for type \"bind\": bind source path does not exist: /x");
  EXPECT_EQ(one(mount("bind", "", "/d")),
            "invalid mount config for type \"bind\": field Source must not be empty");
  EXPECT_EQ(one(mount("bind", "/exists", "")),
            "invalid mount config for type \"bind\": field Target must not be empty");
  EXPECT_EQ(one(mount("tmpfs", "/x", "/d")),
            "invalid mount config for type \"tmpfs\": field Source must not be specified");
  EXPECT_EQ(one(mount("nfs", "/x", "/d")),
            "invalid mount config for type \"nfs\": mount type unknown");
  auto ro_anon = mount("volume", "", "/d");
  ro_anon.read_only = true;
  EXPECT_EQ(one(ro_anon),
            "invalid mount config for type \"volume\": must not set ReadOnly mode "
            "when using anonymous volumes");
  EXPECT_EQ(one(mount("bind", "/exists", "/d", {{"BindOptions", {{"Propagation", "odd"}}}})),
            "invalid mount config for type \"bind\": invalid propagation mode: odd");
  // CreateMountpoint lets a missing source through (the engine makes it).
  EXPECT_EQ(one(mount("bind", "/x", "/d", {{"BindOptions", {{"CreateMountpoint", true}}}})),
            "(ok)");
  auto in = input();
  in.binds = {"/a:/same"};
  in.mounts = {mount("volume", "v", "/same")};
  EXPECT_EQ(error_of(plan_mounts(in)), "Duplicate mount point: /same");
  in = input();
  in.binds = {"/a:/tmp"};
  in.tmpfs = {"/tmp"};
  EXPECT_EQ(error_of(plan_mounts(in)), "Duplicate mount point: /tmp");
}

TEST(MountPlan, ImageVolumesAndVolumesFrom) {
  auto in = input();
  ContainerMount other;
  other.type = "volume";
  other.name = "shared";
  other.source = "/vols/shared/_data";
  other.destination = "/shared";
  other.rw = true;
  other.copy_data = true;
  ContainerMount other_bind;
  other_bind.type = "bind";
  other_bind.source = "/h";
  other_bind.destination = "/over";
  in.volumes_from = {{"ro", {other, other_bind}}};
  in.binds = {"/mine:/over"};
  in.config_volumes = {"/shared", "/data", "/over", "/t/"};
  in.tmpfs = {"/t"};
  auto r = plan_mounts(in);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].mount.name, "shared");
  EXPECT_FALSE((*r)[0].mount.rw);
  EXPECT_FALSE((*r)[0].mount.copy_data);
  EXPECT_TRUE((*r)[0].existing_volume);
  EXPECT_EQ((*r)[1].mount.source, "/mine");  // -v replaces the volumes-from mount
  EXPECT_EQ((*r)[2].mount.destination, "/data");
  EXPECT_TRUE((*r)[2].mount.anonymous);
  EXPECT_TRUE((*r)[2].mount.copy_data);
  EXPECT_EQ((*r)[2].mount.mode, "");
}

TEST(MountPlan, VolumeDriverAppliesToBindVolumesAndImageVolumesOnly) {
  auto in = input();
  in.volume_driver = "foo";
  in.binds = {"/host:/bind", "named:/named", "/anon"};
  in.mounts = {mount("volume", "m", "/m")};
  in.config_volumes = {"/image"};
  auto r = plan_mounts(in);
  ASSERT_TRUE(r) << r.error().message;
  std::map<std::string, std::string> drivers;
  for (const auto& p : *r) drivers[p.mount.destination] = p.volume_driver;
  EXPECT_EQ(
      drivers,
      (std::map<std::string, std::string>{
          {"/bind", ""}, {"/named", "foo"}, {"/anon", "foo"}, {"/m", ""}, {"/image", "foo"}}));
}

TEST(MountPlan, VolumesFromSpec) {
  EXPECT_EQ(parse_volumes_from("c").value(), std::make_pair(std::string("c"), std::string("rw")));
  EXPECT_EQ(parse_volumes_from("c:ro").value().second, "ro");
  EXPECT_EQ(parse_volumes_from("").error().message,
            "volumes-from specification cannot be an empty string");
  EXPECT_EQ(parse_volumes_from("c:shared").error().message, "invalid mode: shared");
  EXPECT_EQ(parse_volumes_from("c:nocopy").error().message, "invalid mode: nocopy");
}

TEST(MountPlan, OciMounts) {
  ContainerMount b;
  b.type = "bind";
  b.source = "/h";
  b.destination = "/c";
  b.rw = false;
  b.propagation = "rslave";
  ContainerMount t;
  t.type = "tmpfs";
  t.destination = "/t";
  t.tmpfs_options = "size=1m";
  auto r = oci_mounts({b, t});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ((*r)[0].type, "bind");
  EXPECT_EQ((*r)[0].options, (std::vector<std::string>{"rbind", "rslave", "ro"}));
  EXPECT_EQ((*r)[1].type, "tmpfs");
  EXPECT_EQ((*r)[1].options, (std::vector<std::string>{"noexec", "nosuid", "nodev", "size=1m"}));
  EXPECT_EQ(clean_mount_path("/a//b/../c/"), "/a/c");
}

}  // namespace
}  // namespace berth::engine

namespace berth::engine {
namespace {

TEST(BindPropagation, NeedsASharedOrSlaveHostMount) {
  std::vector<HostMount> host = {
      {"/", {}}, {"/srv", {"shared:4"}}, {"/srv/private", {}}, {"/mnt/slave", {"master:7"}}};
  EXPECT_TRUE(check_bind_propagation("/x", "/x", "rprivate", host));
  EXPECT_TRUE(check_bind_propagation("/srv/a", "/srv/a", "rshared", host));
  EXPECT_TRUE(check_bind_propagation("/srv/a", "/srv/a", "rslave", host));
  EXPECT_TRUE(check_bind_propagation("/mnt/slave/d", "/mnt/slave/d", "slave", host));
  auto r = check_bind_propagation("/data", "/data", "rshared", host);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "path /data is mounted on / but it is not a shared mount");
  r = check_bind_propagation("/srv/private/x", "/srv/private/x", "rslave", host);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "path /srv/private/x is mounted on /srv/private but it is not a shared or slave mount");
  // A slave host mount cannot carry shared propagation; "/srvx" is not under "/srv".
  EXPECT_FALSE(check_bind_propagation("/mnt/slave/d", "/mnt/slave/d", "shared", host));
  EXPECT_FALSE(check_bind_propagation("/srvx", "/srvx", "rshared", host));
  // The symlink-resolved source decides; the message names the source as given.
  r = check_bind_propagation("/link", "/data", "rshared", host);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "path /link is mounted on / but it is not a shared mount");
}

}  // namespace
}  // namespace berth::engine
