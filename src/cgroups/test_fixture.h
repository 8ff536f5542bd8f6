// cgroups/test_fixture.h — helpers for the cgroups unit tests: a temp dir
// shaped like a cgroup hierarchy (knob files pre-created as plain files,
// since mkdir in a temp dir does not make them appear like cgroupfs does)
// and a recorder of every write a manager makes. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "base/test_temp_dir.h"
#include "cgroups/fs.h"

namespace berth::cgroups::testing {

using TempDir = berth::test::TempDir;

inline void put(const std::string& path, const std::string& content = "") {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << content;
}

inline std::string get(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool exists(const std::string& path) { return std::filesystem::exists(path); }

// Records (path relative to `base`, value) for each write, in order.
struct WriteLog {
  std::string base;
  std::vector<std::pair<std::string, std::string>> writes;

  ManagerOptions options() {
    ManagerOptions o;
    o.fixture_tree = true;
    o.freeze_timeout = std::chrono::milliseconds(50);
    o.before_write = [this](const std::string& path, std::string_view value) -> Result<void> {
      std::string rel = path.substr(0, base.size()) == base ? path.substr(base.size()) : path;
      writes.emplace_back(rel, std::string(value));
      return ok();
    };
    return o;
  }
  // Values written to files whose relative path is `rel`, in order.
  std::vector<std::string> to(const std::string& rel) const {
    std::vector<std::string> out;
    for (auto& [p, v] : writes)
      if (p == rel) out.push_back(v);
    return out;
  }
  // Index of the first write to `rel`, or -1.
  int index_of(const std::string& rel) const {
    for (size_t i = 0; i < writes.size(); ++i)
      if (writes[i].first == rel) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace berth::cgroups::testing
