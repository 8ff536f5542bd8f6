#include "runtime/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "base/clock.h"
#include "base/file.h"
#include "base/json.h"
#include "oci/spec_codec.h"
#include "sys/syscalls.h"

namespace berth::runtime {

Result<void> validate_container_id(const std::string& id) {
  if (id.empty()) return make_error(Errc::InvalidArgument, "container id cannot be empty");
  if (id.size() > 1024)
    return make_error(Errc::InvalidArgument, "container id is too long ({} bytes, max 1024)",
                      id.size());
  if (id == "." || id == "..")
    return make_error(Errc::InvalidArgument, "invalid container id: {:?}", id);
  for (char c : id) {
    bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '+' || c == '-' || c == '.';
    if (!okc)
      return make_error(Errc::InvalidArgument,
                        "invalid container id {:?}: only [a-zA-Z0-9_+.-] are allowed", id);
  }
  return ok();
}

const char* status_name(Status s) {
  switch (s) {
    case Status::Creating:
      return "creating";
    case Status::Created:
      return "created";
    case Status::Running:
      return "running";
    case Status::Paused:
      return "paused";
    case Status::Stopped:
      return "stopped";
  }
  return "unknown";
}

Result<Fd> StateStore::reserve(const std::string& id) {
  if (::mkdir(root_.c_str(), 0711) != 0 && errno != EEXIST)
    return sys_error(fmt::format("create state root {}", root_));
  bool fresh = ::mkdir(dir(id).c_str(), 0711) == 0;
  if (!fresh && errno != EEXIST) return sys_error(fmt::format("create state dir {}", dir(id)));
  auto exists = [&] { return make_error(Errc::AlreadyExists, "container with id exists: {}", id); };
  Fd d(::open(dir(id).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!d) return sys_error(fmt::format("open state dir {}", dir(id)));
  if (::flock(d.get(), LOCK_EX | LOCK_NB) != 0) return exists();  // a create in progress
  if (!fresh) {
    struct stat st;
    if (::stat((dir(id) + "/state.json").c_str(), &st) == 0) return exists();
    // Left by a create that was killed before it saved its state.
    for (const char* f : {"config.json", "exec.fifo"}) ::unlink((dir(id) + "/" + f).c_str());
  }
  return d;
}

Result<void> StateStore::save(const ContainerRecord& r, const oci::Spec& spec) {
  return save(r, dump_json(oci::spec_to_json(spec)));
}

Result<void> StateStore::save(const ContainerRecord& r, std::string_view spec_json) {
  Json j = {{"id", r.id},
            {"bundle", r.bundle},
            {"rootfs", r.rootfs},
            {"pid", r.pid},
            {"start_time", r.start_time},
            {"created", r.created},
            {"owner", r.owner},
            {"cgroups_path", r.cgroups_path},
            {"no_pivot", r.no_pivot},
            {"annotations", r.annotations},
            {"poststart_hooks", r.poststart_hooks},
            {"poststop_hooks", r.poststop_hooks}};
  // The record describes live processes, which a reboot ends: atomic rename
  // is enough (no fsync), like the pid file. config.json first, so a
  // state.json never exists without its spec.
  BERTH_TRY(
      write_file_atomic(dir(r.id) + "/config.json", spec_json, 0600, Durability::ProcessCrashSafe));
  return write_file_atomic(dir(r.id) + "/state.json", dump_json(j), 0600,
                           Durability::ProcessCrashSafe);
}

Result<ContainerRecord> StateStore::load(const std::string& id) const {
  BERTH_TRY(validate_container_id(id));
  auto text = read_file(dir(id) + "/state.json");
  if (!text) {
    if (text.error().code == Errc::NotFound)
      return make_error(Errc::NotFound, "container does not exist: {}", id);
    return std::move(text).error();
  }
  Json j = BERTH_TRY(parse_json(*text, dir(id) + "/state.json"));
  if (!j.is_object()) return make_error(Errc::Internal, "corrupt state for {}", id);
  ContainerRecord r;
  auto str = [&](const char* k) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  r.id = str("id");
  r.bundle = str("bundle");
  r.rootfs = str("rootfs");
  r.created = str("created");
  r.owner = str("owner");
  r.cgroups_path = str("cgroups_path");
  if (auto it = j.find("pid"); it != j.end() && it->is_number_integer()) r.pid = it->get<int>();
  if (auto it = j.find("start_time"); it != j.end() && it->is_number_unsigned())
    r.start_time = it->get<unsigned long long>();
  if (auto it = j.find("no_pivot"); it != j.end() && it->is_boolean()) r.no_pivot = it->get<bool>();
  if (auto it = j.find("poststart_hooks"); it != j.end() && it->is_boolean())
    r.poststart_hooks = it->get<bool>();
  if (auto it = j.find("poststop_hooks"); it != j.end() && it->is_boolean())
    r.poststop_hooks = it->get<bool>();
  if (auto it = j.find("annotations"); it != j.end() && it->is_object())
    for (auto& [k, v] : it->items())
      if (v.is_string()) r.annotations[k] = v.get<std::string>();
  return r;
}

Result<oci::Spec> StateStore::load_spec(const std::string& id) const {
  std::string text = BERTH_TRY(read_file(dir(id) + "/config.json"));
  return oci::parse_spec(text, "stored config.json");
}

Result<void> StateStore::remove(const std::string& id) {
  std::string d = dir(id);
  for (const char* f : {"state.json", "config.json", "exec.fifo"}) {
    if (::unlink((d + "/" + f).c_str()) != 0 && errno != ENOENT)
      return sys_error(fmt::format("remove {}/{}", d, f));
  }
  if (::rmdir(d.c_str()) != 0 && errno != ENOENT) return sys_error(fmt::format("remove {}", d));
  return ok();
}

Result<std::vector<std::string>> StateStore::list_ids() const {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root_.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    return sys_error(fmt::format("open {}", root_));
  }
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::stat((dir(n) + "/state.json").c_str(), &st) == 0) ids.push_back(n);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool process_alive(const ContainerRecord& r) {
  if (r.pid <= 0) return false;
  auto st = sys::process_stat(r.pid);
  // A zombie has exited: it is stopped even though /proc still lists it.
  return st && st->start_time == r.start_time && st->state != 'Z';
}

}  // namespace berth::runtime
