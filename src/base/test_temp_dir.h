// base/test_temp_dir.h — a temporary directory for tests, removed with
// everything in it when the object goes. Test code only (header-only).
// Depends on: nothing of berth.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace berth::test {

class TempDir {
 public:
  // <$TMPDIR, default /tmp>/<prefix>-XXXXXX; path() is "" when it could not
  // be made (the test then fails on its first use).
  explicit TempDir(const std::string& prefix = "berth-test") {
    const char* base = ::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace berth::test
