#include "engine/system.h"

#include <sys/utsname.h>
#include <unistd.h>

#include "base/digest.h"
#include "base/file.h"
#include "base/strings.h"
#include "cgroups/manager.h"

namespace berth::engine {

void read_os_release(const std::string& path, HostInfo& out) {
  out.operating_system = "Linux";
  auto text = read_file(path);
  if (!text) return;
  std::string pretty, name;
  for (const auto& line : split(*text, '\n', true)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key(trim(line.substr(0, eq)));
    std::string val(trim(line.substr(eq + 1)));
    if (val.size() >= 2 && (val.front() == '"' || val.front() == '\'') && val.back() == val.front())
      val = val.substr(1, val.size() - 2);
    if (key == "PRETTY_NAME")
      pretty = val;
    else if (key == "NAME")
      name = val;
    else if (key == "VERSION_ID")
      out.os_version = val;
  }
  if (!pretty.empty())
    out.operating_system = pretty;
  else if (!name.empty())
    out.operating_system = name;
}

int64_t read_mem_total(const std::string& meminfo_path) {
  auto text = read_file(meminfo_path);
  if (!text) return 0;
  for (const auto& line : split(*text, '\n', true)) {
    if (!starts_with(line, "MemTotal:")) continue;
    auto fields = split(trim(line.substr(9)), ' ', true);
    if (fields.empty()) return 0;
    auto kb = parse_int(fields[0]);
    return kb ? *kb * 1024 : 0;
  }
  return 0;
}

std::string go_arch(const std::string& machine) {
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  if (machine == "i386" || machine == "i686") return "386";
  if (machine == "armv7l" || machine == "armv6l") return "arm";
  if (machine == "ppc64le") return "ppc64le";
  if (machine == "s390x") return "s390x";
  if (machine == "riscv64") return "riscv64";
  return machine;
}

HostInfo probe_host(const std::string& os_release_path, const std::string& mountinfo_path) {
  HostInfo h;
  read_os_release(os_release_path, h);
  struct utsname u {};
  if (uname(&u) == 0) {
    h.kernel_version = u.release;
    h.machine = u.machine;
    h.hostname = u.nodename;
  }
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  h.ncpu = n > 0 ? static_cast<int>(n) : 1;
  h.mem_total = read_mem_total("/proc/meminfo");
  if (auto layout = cgroups::detect_layout(mountinfo_path); layout)
    h.cgroup_version = layout->version == cgroups::Version::V2 ? "2" : "1";
  return h;
}

Result<std::string> load_or_create_engine_id(const std::string& data_root) {
  std::string path = data_root + "/engine-id";
  auto existing = read_file(path);
  if (existing) {
    std::string id(trim(*existing));
    if (!id.empty()) return id;
  } else if (existing.error().code != Errc::NotFound) {
    return existing.error();
  }
  std::string hex = random_hex_id().substr(0, 32);
  // UUID layout (version 4 bits are not significant to docker clients).
  std::string id = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                   hex.substr(16, 4) + "-" + hex.substr(20, 12);
  BERTH_TRY_CTX(write_file_atomic(path, id + "\n", 0644), "write engine id");
  return id;
}

}  // namespace berth::engine
