#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/spec_builder.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine {
namespace {

namespace fs = std::filesystem;
namespace si = spec_internal;

// A directory with block device nodes made by mknod (7:200, a whole disk,
// and 7:201, a partition by the fake sysfs tree beside it).
class BlockIo : public ::testing::Test {
 protected:
  void SetUp() override {
    char t[] = "/tmp/berth-blkio-XXXXXX";
    ASSERT_NE(::mkdtemp(t), nullptr);
    dir_ = t;
    disk_ = dir_ + "/disk";
    part_ = dir_ + "/part";
    sysfs_ = dir_ + "/sys";
    if (::mknod(disk_.c_str(), S_IFBLK | 0600, makedev(7, 200)) != 0 ||
        ::mknod(part_.c_str(), S_IFBLK | 0600, makedev(7, 201)) != 0) {
      GTEST_SKIP() << "mknod of a block device needs CAP_MKNOD";
    }
    fs::create_directories(sysfs_ + "/7:200");
    fs::create_directories(sysfs_ + "/7:201");
    std::FILE* f = std::fopen((sysfs_ + "/7:201/partition").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("1\n", f);
    std::fclose(f);
    fs::create_directories(sysfs_ + "/7:200/queue");
    set_scheduler("none mq-deadline kyber [bfq]\n");
  }
  void set_scheduler(const char* text) {
    std::FILE* s = std::fopen((sysfs_ + "/7:200/queue/scheduler").c_str(), "w");
    ASSERT_NE(s, nullptr);
    std::fputs(text, s);
    std::fclose(s);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string error_of(const Resources& r) {
    auto b = si::build_block_io(r, sysfs_);
    if (b) return "accepted";
    EXPECT_EQ(b.error().code, Errc::InvalidArgument);
    return b.error().message;
  }

  std::string dir_, disk_, part_, sysfs_;
};

TEST_F(BlockIo, ResolvesEachDevicePathToMajorMinor) {
  Resources r;
  r.blkio_weight = 300;
  r.blkio_weight_device.push_back({disk_, 700});
  r.blkio_device_read_bps.push_back({disk_, 1 << 20});
  r.blkio_device_write_bps.push_back({disk_, 2 << 20});
  r.blkio_device_read_iops.push_back({disk_, 100});
  r.blkio_device_write_iops.push_back({disk_, 0});
  auto b = si::build_block_io(r, sysfs_);
  ASSERT_TRUE(b) << b.error().message;
  ASSERT_TRUE(b->has_value());
  const oci::BlockIoResources& o = **b;
  EXPECT_EQ(o.weight, 300);
  ASSERT_EQ(o.weight_device.size(), 1u);
  EXPECT_EQ(o.weight_device[0].major, 7);
  EXPECT_EQ(o.weight_device[0].minor, 200);
  EXPECT_EQ(o.weight_device[0].weight, 700);
  ASSERT_EQ(o.throttle_read_bps_device.size(), 1u);
  EXPECT_EQ(o.throttle_read_bps_device[0].minor, 200);
  EXPECT_EQ(o.throttle_read_bps_device[0].rate, 1u << 20);
  EXPECT_EQ(o.throttle_write_bps_device.at(0).rate, 2u << 20);
  EXPECT_EQ(o.throttle_read_iops_device.at(0).rate, 100u);
  EXPECT_EQ(o.throttle_write_iops_device.at(0).rate, 0u);
  EXPECT_TRUE(has_block_io_devices(r));
}

TEST_F(BlockIo, NothingSetIsNoBlockIo) {
  Resources r;
  auto b = si::build_block_io(r, sysfs_);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->has_value());
  EXPECT_FALSE(has_block_io_devices(r));
}

TEST_F(BlockIo, RefusesWhatTheKernelWouldRefuseLater) {
  Resources missing;
  missing.blkio_device_read_bps.push_back({dir_ + "/nope", 1});
  EXPECT_EQ(error_of(missing), "stat " + dir_ + "/nope: no such file or directory");

  Resources chr;
  chr.blkio_device_write_iops.push_back({"/dev/null", 1});
  EXPECT_EQ(error_of(chr),
            "/dev/null is not a block device: block I/O limits need one (a disk such as "
            "/dev/sda)");

  Resources partition;
  partition.blkio_weight_device.push_back({part_, 500});
  EXPECT_EQ(error_of(partition),
            part_ + " is a partition: block I/O limits apply to whole disks only");

  Resources weight;
  weight.blkio_weight_device.push_back({disk_, 5});
  EXPECT_EQ(error_of(weight), "invalid weight for device: " + disk_ + ":5");
  weight.blkio_weight_device[0].weight = 0;  // 0: the group's default weight
  EXPECT_EQ(error_of(weight), "accepted");

  // A weight needs bfq on the disk when the kernel offers it.
  set_scheduler("none [mq-deadline] kyber bfq\n");
  weight.blkio_weight_device[0].weight = 500;
  EXPECT_EQ(error_of(weight), "per-device block I/O weight for " + disk_ +
                                  ": its I/O scheduler is mq-deadline, and weights need bfq (echo "
                                  "bfq > " +
                                  sysfs_ + "/7:200/queue/scheduler)");
  set_scheduler("[none] mq-deadline kyber\n");  // no bfq: the cgroup decides
  EXPECT_EQ(error_of(weight), "accepted");
  Resources throttle;  // throttles work under any scheduler
  throttle.blkio_device_read_bps.push_back({disk_, 1});
  EXPECT_EQ(error_of(throttle), "accepted");

  Resources group;
  group.blkio_weight = 1001;
  EXPECT_EQ(error_of(group), "Range of blkio weight is from 10 to 1000");
}

}  // namespace
}  // namespace berth::engine
