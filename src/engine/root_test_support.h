// engine/root_test_support.h — what the engine's root tests (a real
// berth-monitor, mounts, namespaces) share: whether they can run, where the
// monitor binary is and a busybox image whose rootfs is a plain directory.
// Test code only.
// Depends on: base/digest.h, base/json.h, engine/fake_image_service.h.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "base/digest.h"
#include "base/json.h"
#include "engine/fake_image_service.h"

namespace berth::engine::testing {

// $BERTH_TEST_MONITOR, else cmd/berth-monitor/berth-monitor of the build tree
// this test binary runs from (build/<dir>/src/engine/engine_unit_test).
inline std::string test_monitor_binary() {
  if (const char* e = std::getenv("BERTH_TEST_MONITOR")) return e;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path().parent_path().parent_path() / "cmd/berth-monitor/berth-monitor")
      .string();
}

// Why a root test cannot run here ("" when it can): it needs root, the
// monitor binary and a static /usr/bin/busybox.
inline std::string root_test_skip_reason() {
  if (::geteuid() != 0) return "needs root (mounts, namespaces, cgroups)";
  if (!std::filesystem::exists(test_monitor_binary()))
    return "no berth-monitor at " + test_monitor_binary();
  if (!std::filesystem::exists("/usr/bin/busybox")) return "no static /usr/bin/busybox";
  return "";
}

// Makes `root` a static busybox tree (/usr/bin/busybox, which the caller
// checked) with `dirs` and `applets` (links to busybox in /bin) and a root
// user, and adds it to `images` as "busybox:latest" (Cmd sh, PATH=/bin).
inline void add_busybox_image(FakeImageService& images, const std::string& root,
                              std::initializer_list<const char*> dirs,
                              std::initializer_list<const char*> applets) {
  namespace fs = std::filesystem;
  fs::create_directories(root + "/bin");
  fs::create_directories(root + "/etc");
  for (const char* d : dirs) fs::create_directories(root + d);
  fs::copy_file("/usr/bin/busybox", root + "/bin/busybox");
  for (const char* a : applets) fs::create_symlink("busybox", root + "/bin/" + a);
  std::ofstream(root + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  std::ofstream(root + "/etc/group") << "root:x:0:\n";
  FakeImageService::Image img;
  img.summary.id = sha256_of("busybox-config");
  img.summary.repo_tags = {"busybox:latest"};
  img.config = Json::parse(
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},
          "config":{"Cmd":["sh"],"Env":["PATH=/bin"]}})");
  images.images.push_back(img);
  images.rootfs_dir = root;
}

}  // namespace berth::engine::testing
