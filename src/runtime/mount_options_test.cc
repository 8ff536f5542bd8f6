#include "runtime/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include "runtime/state.h"

namespace berth::runtime {
namespace {

TEST(MountOptions, FlagsDataAndPropagation) {
  auto m = parse_mount_options({"nosuid", "strictatime", "mode=755", "size=65536k", "rslave"});
  EXPECT_EQ(m.flags, static_cast<unsigned long>(MS_NOSUID | MS_STRICTATIME));
  EXPECT_EQ(m.data, "mode=755,size=65536k");
  ASSERT_EQ(m.propagation.size(), 1u);
  EXPECT_EQ(m.propagation[0], static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_FALSE(m.bind());
}

TEST(MountOptions, BindAndClearingOptions) {
  auto m = parse_mount_options({"rbind", "ro", "noexec", "exec", "rw"});
  EXPECT_TRUE(m.bind());
  EXPECT_TRUE(m.flags & MS_REC);
  EXPECT_FALSE(m.flags & MS_RDONLY) << "a later rw clears ro";
  EXPECT_FALSE(m.flags & MS_NOEXEC) << "a later exec clears noexec";
  EXPECT_TRUE(m.data.empty());
}

TEST(MountOptions, RecursiveVariants) {
  auto m = parse_mount_options({"rro", "rnosuid"});
  EXPECT_TRUE(m.recursive_ro);
  EXPECT_TRUE(m.flags & MS_RDONLY);
  EXPECT_TRUE(m.flags & MS_NOSUID);
  EXPECT_TRUE(m.data.empty()) << m.data;
  EXPECT_EQ(propagation_flag("runbindable"), static_cast<unsigned long>(MS_UNBINDABLE | MS_REC));
  EXPECT_EQ(propagation_flag("relatime"), 0u);
}

TEST(ContainerId, RuncRules) {
  EXPECT_TRUE(validate_container_id("web-1_a.b+c").has_value());
  for (std::string bad : {"", ".", "..", "a/b", "../x", "has space", "semi;colon"}) {
    auto r = validate_container_id(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, Errc::InvalidArgument);
  }
  auto r = validate_container_id(std::string(1025, 'a'));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("too long"), std::string::npos);
  EXPECT_TRUE(validate_container_id(std::string(1024, 'a')).has_value());
}

}  // namespace
}  // namespace berth::runtime
