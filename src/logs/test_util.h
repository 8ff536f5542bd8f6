// logs/test_util.h — helpers for the logs unit tests (temp dirs, file I/O).
#pragma once

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "logs/json_file.h"

namespace berth::logs::testing {

class TempDir {
 public:
  // Under `base` (a directory on the filesystem a test needs, e.g. tmpfs).
  explicit TempDir(const std::string& base = "/tmp") {
    std::string t = base + "/berth-logs-XXXXXX";
    if (mkdtemp(t.data())) path_ = t;
  }
  ~TempDir() {
    if (!path_.empty()) {
      std::string cmd = "rm -rf '" + path_ + "'";
      if (system(cmd.c_str()) != 0) {
      }
    }
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void spit(const std::string& p, const std::string& data, bool append = false) {
  std::ofstream f(p, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
  f << data;
}

inline bool exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

inline off_t file_size(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_size : -1;
}

// Numbered entries: "line N\n" written at kT0 + N seconds (or ns).
constexpr int64_t kT0 = 1796000000000000000;
constexpr int64_t kSec = 1'000'000'000;
inline std::string line(int i) { return fmt::format("line {}\n", i); }
// The N of each "line N" entry.
inline std::vector<int> numbers(const std::vector<Entry>& es) {
  std::vector<int> out;
  for (const auto& e : es) out.push_back(std::stoi(e.line.substr(5)));
  return out;
}
inline std::vector<int> range(int from, int to, int step = 1) {
  std::vector<int> v;
  for (int i = from; i < to; i += step) v.push_back(i);
  return v;
}

// Reads everything; returns the entries (or the error message in `err`).
inline std::vector<Entry> read_all(const std::string& path, ReadOptions o = {},
                                   std::string* err = nullptr) {
  std::vector<Entry> out;
  auto r = read(path, o, [&](const Entry& e) -> Result<void> {
    out.push_back(e);
    return ok();
  });
  if (!r && err) *err = r.error().message;
  return out;
}

}  // namespace berth::logs::testing
