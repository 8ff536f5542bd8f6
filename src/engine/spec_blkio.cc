// spec_blkio: linux.resources.blockIO from --blkio-weight and the
// per-device weights and throttles, with each device path resolved to the
// major:minor the cgroup files take.
//
// docker stats the path when it writes the spec and passes whatever it finds
// to the runtime, so a character device or a partition fails later inside
// the kernel's cgroup write with EINVAL or ENODEV, and a per-device weight
// for a disk whose scheduler cannot weigh fails with EOPNOTSUPP (dockerd
// drops the weight with a warning when its files are missing). berth refuses
// those here, naming the device and the reason.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/strings.h"
#include "engine/spec_builder_internal.h"

namespace berth::engine::spec_internal {
namespace {

struct DevNum {
  int64_t major = 0, minor = 0;
};

Result<DevNum> block_device(const std::string& path, const std::string& sysfs_dev_block) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    std::string why = std::strerror(err);  // Go's wording is lower case
    if (!why.empty()) why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
    return Error{Errc::InvalidArgument, err, fmt::format("stat {}: {}", path, why)};
  }
  if (!S_ISBLK(st.st_mode)) {
    return make_error(Errc::InvalidArgument,
                      "{} is not a block device: block I/O limits need one (a disk such as "
                      "/dev/sda)",
                      path);
  }
  DevNum d{static_cast<int64_t>(major(st.st_rdev)), static_cast<int64_t>(minor(st.st_rdev))};
  // The block cgroup controllers keep their state per request queue, which
  // only whole disks have (the kernel answers ENODEV for a partition).
  std::string part = fmt::format("{}/{}:{}/partition", sysfs_dev_block, d.major, d.minor);
  if (::access(part.c_str(), F_OK) == 0) {
    return make_error(Errc::InvalidArgument,
                      "{} is a partition: block I/O limits apply to whole disks only", path);
  }
  return d;
}

// Proportional weights per device are kept by the bfq (formerly cfq)
// scheduler. When the kernel offers bfq but the disk runs another, the
// cgroup write is refused; say which scheduler to pick instead.
Result<void> check_weight_scheduler(const std::string& path, DevNum d,
                                    const std::string& sysfs_dev_block) {
  std::string file = fmt::format("{}/{}:{}/queue/scheduler", sysfs_dev_block, d.major, d.minor);
  auto text = read_file(file);
  if (!text) return ok();  // not a request-based queue: nothing to say
  std::string selected;
  bool offers_bfq = false;
  for (const std::string& tok : split(*text, ' ', true)) {
    std::string name(trim(tok));
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
      name = name.substr(1, name.size() - 2);
      selected = name;
    }
    if (name == "bfq") offers_bfq = true;
  }
  if (offers_bfq && selected != "bfq" && selected != "cfq") {
    return make_error(Errc::InvalidArgument,
                      "per-device block I/O weight for {}: its I/O scheduler is {}, and weights "
                      "need bfq (echo bfq > {})",
                      path, selected.empty() ? "unknown" : selected, file);
  }
  return ok();
}

Result<std::vector<oci::ThrottleDevice>> throttles(const std::vector<ThrottleDevice>& in,
                                                   const std::string& sysfs_dev_block) {
  std::vector<oci::ThrottleDevice> out;
  for (const ThrottleDevice& t : in) {
    DevNum d = BERTH_TRY(block_device(t.path, sysfs_dev_block));
    out.push_back(oci::ThrottleDevice{d.major, d.minor, t.rate});
  }
  return out;
}

}  // namespace

Result<std::optional<oci::BlockIoResources>> build_block_io(const Resources& in,
                                                            const std::string& sysfs_dev_block) {
  auto weight_ok = [](uint16_t w) { return w == 0 || (w >= 10 && w <= 1000); };
  if (!weight_ok(in.blkio_weight)) {
    return make_error(Errc::InvalidArgument, "Range of blkio weight is from 10 to 1000");
  }
  oci::BlockIoResources b;
  bool any = false;
  if (in.blkio_weight != 0) {
    b.weight = in.blkio_weight;
    any = true;
  }
  for (const WeightDevice& w : in.blkio_weight_device) {
    if (!weight_ok(w.weight)) {
      return make_error(Errc::InvalidArgument, "invalid weight for device: {}:{}", w.path,
                        w.weight);
    }
    DevNum d = BERTH_TRY(block_device(w.path, sysfs_dev_block));
    BERTH_TRY(check_weight_scheduler(w.path, d, sysfs_dev_block));
    oci::WeightDevice o;
    o.major = d.major;
    o.minor = d.minor;
    o.weight = w.weight;
    b.weight_device.push_back(o);
    any = true;
  }
  b.throttle_read_bps_device = BERTH_TRY(throttles(in.blkio_device_read_bps, sysfs_dev_block));
  b.throttle_write_bps_device = BERTH_TRY(throttles(in.blkio_device_write_bps, sysfs_dev_block));
  b.throttle_read_iops_device = BERTH_TRY(throttles(in.blkio_device_read_iops, sysfs_dev_block));
  b.throttle_write_iops_device = BERTH_TRY(throttles(in.blkio_device_write_iops, sysfs_dev_block));
  any = any || !b.throttle_read_bps_device.empty() || !b.throttle_write_bps_device.empty() ||
        !b.throttle_read_iops_device.empty() || !b.throttle_write_iops_device.empty();
  if (!any) return std::optional<oci::BlockIoResources>();
  return std::optional<oci::BlockIoResources>(std::move(b));
}

}  // namespace berth::engine::spec_internal

namespace berth::engine {

bool has_block_io_devices(const Resources& r) {
  return !r.blkio_weight_device.empty() || !r.blkio_device_read_bps.empty() ||
         !r.blkio_device_write_bps.empty() || !r.blkio_device_read_iops.empty() ||
         !r.blkio_device_write_iops.empty();
}

}  // namespace berth::engine
